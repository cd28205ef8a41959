// Which program a statement is for: the program whose funding account the statement names, however the bank
// writes the account. Used where a statement is uploaded (./upload.ts) and where it is processed
// (src/pipeline/stages/statements.ts).

export interface ProgramAccount {
  program: string;
  account: string;
  currency: string;
  bankCode: string;
}

const compact = (s: string) => s.replace(/[\s\-./]/g, '').toUpperCase();

/**
 * The program whose funding account a :25: names. Banks write the account in several ways: as stored, with a
 * currency suffix (`12345678/EUR`, `12345678 EUR`, `12345678EUR`), prefixed with a bank code (`BANKCODE/123`),
 * or as an IBAN whose tail is the account number. Exact forms are tried first; an IBAN tail only counts when
 * exactly one program matches it.
 */
export function findProgramByAccount(
  raw: string,
  programs: readonly ProgramAccount[],
): ProgramAccount | null {
  const value = raw.trim();
  if (!value) return null;
  const candidates = new Set<string>([compact(value)]);
  const parts = value.split(/[/\s]+/).filter(Boolean);
  const last = parts[parts.length - 1] ?? '';
  const withoutCurrency = /^[A-Z]{3}$/.test(last) && parts.length > 1 ? parts.slice(0, -1) : parts;
  candidates.add(compact(withoutCurrency.join('')));
  if (withoutCurrency.length > 1) candidates.add(compact(withoutCurrency[withoutCurrency.length - 1] ?? ''));
  for (const p of programs) {
    const acct = compact(p.account);
    if (candidates.has(acct)) return p;
    // 12345678EUR: the suffix is the program's own currency.
    if (candidates.has(acct + p.currency.trim().toUpperCase())) return p;
  }
  const iban = compact(withoutCurrency.join(''));
  if (/^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$/.test(iban)) {
    const tail = programs.filter((p) => {
      const acct = compact(p.account);
      return acct.length >= 6 && iban.slice(4).endsWith(acct);
    });
    if (tail.length === 1) return tail[0]!;
  }
  return null;
}
