// A tiny typed reader for environment variables: each variable is declared once with its default and its
// documentation, validated at start, and listed in docs/configuration.md (a test keeps the two in step).

export interface VarSpec<T> {
  doc: string;
  default?: T;
  /** Text shown as the default in docs when it is computed (e.g. "generated"). */
  defaultText?: string;
  parse(raw: string): T;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function str(doc: string, def?: string): VarSpec<string> {
  return { doc, default: def, parse: (raw) => raw };
}

export function optionalStr(doc: string): VarSpec<string | undefined> {
  return { doc, parse: (raw) => raw || undefined };
}

export function int(doc: string, def: number, range: { min?: number; max?: number } = {}): VarSpec<number> {
  return {
    doc,
    default: def,
    parse(raw) {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got ${JSON.stringify(raw)}`);
      const value = Number(raw);
      if (range.min !== undefined && value < range.min) throw new Error(`must be at least ${range.min}`);
      if (range.max !== undefined && value > range.max) throw new Error(`must be at most ${range.max}`);
      return value;
    },
  };
}

export function num(doc: string, def: number, range: { min?: number; max?: number } = {}): VarSpec<number> {
  return {
    doc,
    default: def,
    parse(raw) {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value))
        throw new Error(`must be a number, got ${JSON.stringify(raw)}`);
      if (range.min !== undefined && value < range.min) throw new Error(`must be at least ${range.min}`);
      if (range.max !== undefined && value > range.max) throw new Error(`must be at most ${range.max}`);
      return value;
    },
  };
}

export function timeZone(doc: string, def: string): VarSpec<string> {
  return {
    doc,
    default: def,
    parse(raw) {
      try {
        return new Intl.DateTimeFormat('en-CA', { timeZone: raw }).resolvedOptions().timeZone;
      } catch {
        throw new Error(
          `must be an IANA time zone such as UTC or Africa/Nairobi, got ${JSON.stringify(raw)}`,
        );
      }
    },
  };
}

export function bool(doc: string, def: boolean): VarSpec<boolean> {
  return {
    doc,
    default: def,
    parse(raw) {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new Error(`must be true or false, got ${JSON.stringify(raw)}`);
    },
  };
}

export function oneOf<const T extends string>(doc: string, values: readonly T[], def: T): VarSpec<T> {
  return {
    doc,
    default: def,
    parse(raw) {
      if (!(values as readonly string[]).includes(raw))
        throw new Error(`must be one of ${values.join(', ')}`);
      return raw as T;
    },
  };
}

export type Specs = Record<string, VarSpec<unknown>>;
export type Values<S extends Specs> = { [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never };

export function readEnv<S extends Specs>(specs: S, env: Record<string, string | undefined>): Values<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      out[name] = spec.default;
      continue;
    }
    try {
      out[name] = spec.parse(raw);
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as Values<S>;
}
