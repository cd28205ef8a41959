// The Node version we promise (package.json engines, .nvmrc, the README) must run every installed package:
// `npm install` on the oldest Node we accept must not warn EBADENGINE.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

type Version = [number, number, number];

function parseVersion(text: string): Version | null {
  const m = /^v?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?/.exec(text.trim());
  if (!m) return null;
  const n = (s: string | undefined) => (s === undefined || /[xX*]/.test(s) ? 0 : Number(s));
  return [Number(m[1]), n(m[2]), n(m[3])];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** How many of major, minor, patch a partial version names ("20" names 1, "20.19" 2). */
function precision(text: string): number {
  return text
    .replace(/^v/, '')
    .split('.')
    .filter((p) => /^\d+$/.test(p)).length;
}

/** One comparator of a node-semver range, on plain release versions (what engines.node uses). */
function satisfiesComparator(version: Version, comparator: string): boolean {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(comparator.trim())!;
  const op = m[1] ?? '';
  const text = m[2]!;
  if (text === '' || text === '*' || /^[xX]$/.test(text)) return true;
  const base = parseVersion(text);
  if (!base) throw new Error(`cannot read the version in '${comparator}'`);
  const places = precision(text);
  const c = compare(version, base);
  // The first version past what a partial or caret/tilde version covers.
  const bump = (index: number): Version =>
    [0, 1, 2].map((i) => (i < index ? base[i]! : i === index ? base[i]! + 1 : 0)) as Version;
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      return places < 3 ? compare(version, bump(places - 1)) >= 0 : c > 0;
    case '<':
      return c < 0;
    case '<=':
      return places < 3 ? compare(version, bump(places - 1)) < 0 : c <= 0;
    case '^': {
      const index = base[0] > 0 || places === 1 ? 0 : base[1] > 0 || places === 2 ? 1 : 2;
      return c >= 0 && compare(version, bump(index)) < 0;
    }
    case '~':
      return c >= 0 && compare(version, bump(places === 1 ? 0 : 1)) < 0;
    default:
      return c >= 0 && compare(version, bump(Math.min(places, 3) - 1)) < 0;
  }
}

/** node-semver's `satisfies` for the range forms engines fields use: ||, spaces, ^, ~, x, hyphens. */
function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) throw new Error(`not a version: ${version}`);
  return range.split('||').some((alternative) => {
    const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(alternative);
    if (hyphen) return satisfiesComparator(v, `>=${hyphen[1]}`) && satisfiesComparator(v, `<=${hyphen[2]}`);
    const comparators = alternative
      .trim()
      .replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1')
      .split(/\s+/);
    return comparators.every((comparator) => satisfiesComparator(v, comparator));
  });
}

const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};
/** The oldest Node our engines range admits, e.g. ">=20.19" → 20.19.0. */
const oldest = /^>=\s*(\d+(?:\.\d+){0,2})$/.exec(pkg.engines.node)?.[1] ?? '';
const oldestFull = [...oldest.split('.'), '0', '0'].slice(0, 3).join('.');

describe('satisfies (the comparison the check below relies on)', () => {
  it.each([
    ['20.19.0', '>=20.19', true],
    ['20.18.9', '>=20.19', false],
    ['20.19.0', '>=22', false],
    ['20.19.0', '^20.19.0 || >=22.12.0', true],
    ['21.0.0', '^20.19.0 || >=22.12.0', false],
    ['20.19.0', '20 || >=22', true],
    ['21.5.0', '20 || >=22', false],
    ['20.19.0', '>= 12.0.0', true],
    ['20.19.0', '10.x', false],
    ['10.4.0', '10.x', true],
    ['20.19.0', '^8.16.0 || ^10.6.0 || >=11.0.0', true],
    ['20.19.0', '>=18 <20', false],
    ['20.19.0', '18 - 20', true],
    ['20.19.0', '~20.18.0', false],
    ['20.19.0', '*', true],
    ['20.19.0', '>=v12.22.7', true],
  ])('%s satisfies %s: %s', (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });
});

describe('the Node version we promise', () => {
  it('is a lower bound in engines that the running Node meets', () => {
    expect(oldest, `engines.node should read >=X.Y, not ${pkg.engines.node}`).not.toBe('');
    expect(satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  it('is the one .nvmrc and the README name', () => {
    // nvm reads "20" as the newest 20.x, which the range admits.
    const nvmrc = read('.nvmrc').trim();
    expect(nvmrc).toBe(oldest.split('.')[0]);
    expect(read('README.md')).toContain(`Node.js ${oldest}`);
  });

  it('runs every installed package (no EBADENGINE on the oldest Node we accept)', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.engines && !Array.isArray(entry.engines))
      .filter(([, entry]) => {
        const range = (entry.engines as { node?: string }).node;
        return range !== undefined && !satisfies(oldestFull, range);
      })
      .map(
        ([path, entry]) => `${path}@${entry.version} needs node ${(entry.engines as { node: string }).node}`,
      );
    expect(refusing).toEqual([]);
  });
});
