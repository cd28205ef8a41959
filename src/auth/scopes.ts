// What a caller may reach beyond its role. By default there is none of this: one trusted PBMS and one trusted
// bank, each allowed everything its role allows. An identity provider scopes a caller with claims
// (`programs` for a PBMS identity, `bank_codes` for a bank identity), and the operator with CALLER_SCOPES, a
// map from token subject to the same two lists. Where both say something, the caller gets what both allow.

import type { CallerScopes, Scope } from '../config/scopes.js';

export { parseCallerScopes } from '../config/scopes.js';
export type { CallerScopes, Scope };

/** A list claim: a JSON array of strings or one space-separated string; anything else is "no claim". */
function claimList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return undefined;
}

/** The scope a token's claims express. */
export function scopeOfClaims(payload: Record<string, unknown>): Scope {
  const programs = claimList(payload.programs);
  const bankCodes = claimList(payload.bank_codes);
  return { ...(programs ? { programs } : {}), ...(bankCodes ? { bankCodes } : {}) };
}

function narrow(a?: readonly string[], b?: readonly string[]): readonly string[] | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.filter((x) => b.includes(x));
}

/** The claims' scope narrowed by the configured one for this subject (or `*`). */
export function effectiveScope(subject: string, claims: Scope, configured?: CallerScopes): Scope {
  const entry = configured?.get(subject) ?? configured?.get('*');
  const programs = narrow(claims.programs, entry?.programs);
  const bankCodes = narrow(claims.bankCodes, entry?.bankCodes);
  return { ...(programs ? { programs } : {}), ...(bankCodes ? { bankCodes } : {}) };
}

/** Whether a scope list allows `value` (an undefined list allows everything). */
export function allows(list: readonly string[] | undefined, value: string): boolean {
  return list === undefined || list.includes(value);
}
