// What a caller may reach beyond its role. By default there is none of this: one trusted PBMS and one trusted
// bank, each allowed everything its role allows. An identity provider scopes a caller with claims
// (`programs` for a PBMS identity, `bank_codes` for a bank identity), and the operator with CALLER_SCOPES, a
// map from token subject to the same two lists. Where both say something, the caller gets what both allow.

/** A caller's reach; a list left undefined means "not limited". An empty list allows nothing. */
export interface Scope {
  programs?: readonly string[];
  bankCodes?: readonly string[];
}

/** CALLER_SCOPES: per token subject, or `*` for every subject not listed. */
export type CallerScopes = ReadonlyMap<string, Scope>;

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new Error(`${what} must be an array of non-empty strings`);
  }
  return [...new Set(value as string[])];
}

/**
 * CALLER_SCOPES as JSON: `{"<subject>": {"programs": [...], "bank_codes": [...]}, "*": {...}}`. Unknown keys
 * are refused, so a misspelt `program` cannot silently leave a caller unscoped.
 */
export function parseCallerScopes(json: string): CallerScopes {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('must be a JSON object (or the path of a file holding one)');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(
      'must be a JSON object mapping token subjects to {"programs": [...], "bank_codes": [...]}',
    );
  }
  const scopes = new Map<string, Scope>();
  for (const [subject, value] of Object.entries(raw)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`the entry of ${JSON.stringify(subject)} must be an object`);
    }
    const scope: { programs?: string[]; bankCodes?: string[] } = {};
    for (const [key, list] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'programs') scope.programs = stringList(list, `${subject}.programs`);
      else if (key === 'bank_codes') scope.bankCodes = stringList(list, `${subject}.bank_codes`);
      else
        throw new Error(
          `${JSON.stringify(subject)} has unknown key ${JSON.stringify(key)} (programs, bank_codes)`,
        );
    }
    scopes.set(subject, scope);
  }
  return scopes;
}

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
