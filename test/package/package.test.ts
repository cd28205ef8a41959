// What a fresh clone and a published package rely on, checked against the files themselves. The packed
// package itself is installed and run by .ci/run.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  license: string;
};

describe('the package', () => {
  it('runs g2p-bridge from dist/, which prepack builds afresh', () => {
    expect(pkg.bin['g2p-bridge']).toBe('dist/cli/main.js');
    expect(read('src/cli/main.ts').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(pkg.scripts.prepack).toContain("rmSync('dist'");
    expect(pkg.scripts.prepack).toContain('npm run -s build');
  });

  it('ships what runs (compiled code, migrations) and no sources, tests or maps', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/**/*.js', 'migrations/**/*.sql']));
    expect(pkg.files.some((f) => /^(src|test|bench)\b|\.map$|\.ts$/.test(f))).toBe(false);
  });

  it('starts from a checkout without a build step', () => {
    expect(pkg.scripts.start).toBe('node --import tsx src/cli/main.ts start');
  });

  it('carries the license it names, and the files of a maintained project', () => {
    expect(pkg.license).toBe('MPL-2.0');
    expect(read('LICENSE')).toMatch(/^Mozilla Public License Version 2\.0\n/);
    expect(read('CHANGELOG.md')).toContain('## [Unreleased]');
    expect(read('CONTRIBUTING.md')).toContain('## Commits');
    expect(read('SECURITY.md')).toContain('## How to report');
    expect(read('.editorconfig')).toContain('root = true');
  });
});

describe('the docs say where the generated token secret lives', () => {
  it.each(['docs/configuration.md', 'docs/security.md', 'docs/operations.md'])('%s', (file) => {
    const text = read(file);
    expect(text).toContain('DATA_DIR/jwt-secret');
    expect(text).not.toMatch(/generated on first start and kept in the database \(`bridge_setting`\), so/);
  });

  it('and the docs and README show the token command that works in a checkout', () => {
    for (const file of ['README.md', 'docs/operations.md']) {
      expect(read(file)).not.toContain('npm run cli -- token');
      expect(read(file)).toContain('npm run -s cli -- token admin');
    }
  });
});
