// The folders of src/ form layers that point one way (docs/architecture.md): a folder imports only folders of
// its own layer or of a lower one, and no two folders import each other, directly or around a loop. Every
// relative import in src/ is read, `import type` included: a type is a dependency too.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Top to bottom. A file directly under src/ is its own "folder" (`app.ts`, `logger.ts`). */
const LAYERS: ReadonlyArray<{ name: string; folders: readonly string[] }> = [
  { name: 'cli', folders: ['cli'] },
  { name: 'app', folders: ['app.ts', 'api', 'demo', 'simulators'] },
  {
    name: 'features',
    folders: [
      'envelopes',
      'disbursements',
      'programs',
      'statements',
      'pipeline',
      'payouts',
      'g2p-connect',
      'dashboard',
      'metrics',
      'feature',
    ],
  },
  {
    name: 'connectors and formats',
    folders: ['bank', 'mapper', 'mt940', 'camt', 'sftp', 'auth', 'audit'],
  },
  { name: 'kernel', folders: ['g2p', 'money', 'db', 'config', 'logger.ts', 'result.ts'] },
];

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** `envelopes` for src/envelopes/service.ts, `app.ts` for src/app.ts. */
function folderOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

function folderImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), m[1]!);
      const from = folderOf(file);
      const to = folderOf(target.replace(/\.js$/, '.ts'));
      if (from !== to) edges.push({ from, to, file: relative(SRC, file), specifier: m[1]! });
    }
  }
  return edges;
}

const layerOf = new Map(LAYERS.flatMap((layer, rank) => layer.folders.map((f) => [f, rank] as const)));

describe('layers', () => {
  const edges = folderImports();

  it('finds the imports it checks', () => {
    // A guard on the reader itself: a regex that stopped matching would make every other check pass.
    expect(edges.length).toBeGreaterThan(100);
    expect(edges.some((e) => e.from === 'cli' && e.to === 'app.ts')).toBe(true);
  });

  it('places every folder of src/ in exactly one layer', () => {
    const folders = [...new Set(sourceFiles(SRC).map(folderOf))].sort();
    expect(folders.filter((f) => !layerOf.has(f))).toEqual([]);
    const listed = LAYERS.flatMap((l) => l.folders);
    expect(listed.length).toBe(new Set(listed).size);
  });

  it('never imports a higher layer', () => {
    const upward = edges
      .filter((e) => (layerOf.get(e.to) ?? -1) < (layerOf.get(e.from) ?? -1))
      .map((e) => `${e.file} imports ${e.specifier} (${e.from} is below ${e.to})`);
    expect(upward).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    const next = new Map<string, Set<string>>();
    for (const e of edges) {
      if (!next.has(e.from)) next.set(e.from, new Set());
      next.get(e.from)!.add(e.to);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (folder: string) => {
      state.set(folder, 'open');
      path.push(folder);
      for (const to of next.get(folder) ?? []) {
        if (state.get(to) === 'open') cycles.push([...path.slice(path.indexOf(to)), to].join(' → '));
        else if (!state.has(to)) visit(to);
      }
      path.pop();
      state.set(folder, 'done');
    };
    for (const folder of [...next.keys()].sort()) if (!state.has(folder)) visit(folder);
    const why = cycles.map((c) => {
      const [a, b] = c.split(' → ');
      const e = edges.find((x) => x.from === a && x.to === b)!;
      return `${c} (first step: ${e.file} imports ${e.specifier})`;
    });
    expect(why).toEqual([]);
  });
});
