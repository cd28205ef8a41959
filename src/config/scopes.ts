// CALLER_SCOPES: the operator's map from token subject to the programs and bank codes it may reach. Parsed
// here, with the rest of the configuration; src/auth/scopes.ts narrows a token's own claims by it.

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
