// The mapper simulator's table: beneficiary id → financial address, name, active flag. Every multi-row change
// is one set-based statement per chunk, inside one transaction.
import type { Db, Queryable } from '../../db/index.js';
import { CsvError, type CsvSource, parseCsv } from './csv.js';

export interface MapperEntry {
  id: string;
  fa: string;
  name: string | null;
  active: boolean;
}

export interface LinkItem {
  id: string;
  fa: string;
  name?: string | null;
  active?: boolean;
}

export interface UnlinkItem {
  id: string;
  /** When given, the id is unlinked only if this is its current FA. */
  fa?: string | null;
}

export type UnlinkResult =
  | { id: string; unlinked: true }
  | { id: string; unlinked: false; reason: 'ID_NOT_LINKED' | 'FA_MISMATCH' };

export interface ListOptions {
  /** Keyset cursor: ids after this one. */
  after?: string;
  limit?: number;
  active?: boolean;
}

const TABLE = 'example_mapper.id_account_map';
/** Rows per INSERT: big enough to be set-based, small enough for PGlite's parameter buffers. */
const CHUNK = 5000;

export class CsvLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvLoadError';
  }
}

async function upsert(q: Queryable, items: Iterable<LinkItem>): Promise<void> {
  const ids: string[] = [];
  const fas: string[] = [];
  const names: (string | null)[] = [];
  const actives: boolean[] = [];
  for (const item of items) {
    ids.push(item.id);
    fas.push(item.fa);
    names.push(item.name ?? null);
    actives.push(item.active ?? true);
  }
  if (ids.length === 0) return;
  await q.query(
    `INSERT INTO ${TABLE} (id, fa, name, active)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[])
     ON CONFLICT (id) DO UPDATE
       SET fa = EXCLUDED.fa, name = EXCLUDED.name, active = EXCLUDED.active, updated_at = now()`,
    [ids, fas, names, actives],
  );
}

function checkItem(item: LinkItem, where: string) {
  if (typeof item.id !== 'string' || item.id.trim() === '') throw new CsvLoadError(`${where}: id is empty`);
  if (typeof item.fa !== 'string' || item.fa.trim() === '') throw new CsvLoadError(`${where}: fa is empty`);
}

export function createMapperStore(db: Db) {
  return {
    /** Rows for the given ids (unknown ids are simply absent). */
    async lookup(ids: readonly string[]): Promise<Map<string, MapperEntry>> {
      const { rows } = await db.query<MapperEntry>(
        `SELECT id, fa, name, active FROM ${TABLE} WHERE id = ANY($1::text[])`,
        [ids],
      );
      return new Map(rows.map((r) => [r.id, r]));
    },

    /** Links (or re-links, replacing the FA and name) each id; for a repeated id the last item wins. */
    async link(items: readonly LinkItem[]): Promise<number> {
      const byId = new Map<string, LinkItem>();
      items.forEach((item, index) => {
        checkItem(item, `item ${index}`);
        byId.set(item.id.trim(), { ...item, id: item.id.trim(), fa: item.fa.trim() });
      });
      await db.transaction(async (tx) => {
        const all = [...byId.values()];
        for (let i = 0; i < all.length; i += CHUNK) await upsert(tx, all.slice(i, i + CHUNK));
      });
      return byId.size;
    },

    async unlink(items: readonly UnlinkItem[]): Promise<UnlinkResult[]> {
      if (items.length === 0) return [];
      const { rows } = await db.query<{ id: string; found: boolean; active: boolean; fa_ok: boolean }>(
        `WITH req AS (
           SELECT DISTINCT ON (id) id, fa FROM unnest($1::text[], $2::text[]) AS r(id, fa)
         ), done AS (
           UPDATE ${TABLE} m SET active = false, updated_at = now()
             FROM req WHERE m.id = req.id AND m.active AND (req.fa IS NULL OR req.fa = m.fa)
           RETURNING m.id
         )
         SELECT req.id, m.id IS NOT NULL AS found, coalesce(m.active, false) AS active,
                (req.fa IS NULL OR req.fa = m.fa) AS fa_ok
           FROM req LEFT JOIN ${TABLE} m ON m.id = req.id`,
        [items.map((i) => i.id), items.map((i) => i.fa ?? null)],
      );
      // The SELECT sees the rows as they were before the UPDATE, which is what explains each outcome.
      const byId = new Map(rows.map((r) => [r.id, r]));
      return items.map((item): UnlinkResult => {
        const row = byId.get(item.id);
        if (!row?.found || !row.active) return { id: item.id, unlinked: false, reason: 'ID_NOT_LINKED' };
        if (!row.fa_ok) return { id: item.id, unlinked: false, reason: 'FA_MISMATCH' };
        return { id: item.id, unlinked: true };
      });
    },

    async list(options: ListOptions = {}): Promise<{ entries: MapperEntry[]; next: string | null }> {
      const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
      const { rows } = await db.query<MapperEntry>(
        `SELECT id, fa, name, active FROM ${TABLE}
          WHERE ($1::text IS NULL OR id > $1) AND ($2::boolean IS NULL OR active = $2)
          ORDER BY id LIMIT $3`,
        [options.after ?? null, options.active ?? null, limit + 1],
      );
      const entries = rows.slice(0, limit);
      return { entries, next: rows.length > limit ? entries[entries.length - 1]!.id : null };
    },

    async counts(): Promise<{ total: number; active: number }> {
      const { rows } = await db.query<{ total: number; active: number }>(
        `SELECT count(*)::int8 AS total, count(*) FILTER (WHERE active)::int8 AS active FROM ${TABLE}`,
      );
      return rows[0]!;
    },

    async clear(): Promise<number> {
      return (await db.query(`DELETE FROM ${TABLE}`)).rowCount;
    },

    /**
     * Loads a CSV with a header naming the columns id, fa and optionally name and active (any order). Rows
     * replace existing ids; within the file the last row for an id wins. All or nothing: one transaction.
     * Returns the number of data rows read.
     */
    async loadCsv(source: CsvSource): Promise<number> {
      return db.transaction(async (tx) => {
        let columns: { id: number; fa: number; name: number; active: number } | null = null;
        let pending = new Map<string, LinkItem>();
        let count = 0;
        try {
          for await (const { line, fields } of parseCsv(source)) {
            if (!columns) {
              columns = readHeader(fields, line);
              continue;
            }
            const id = (fields[columns.id] ?? '').trim();
            const fa = (fields[columns.fa] ?? '').trim();
            if (!id) throw new CsvError(line, 'id is empty');
            if (!fa) throw new CsvError(line, 'fa is empty');
            const name = columns.name >= 0 ? (fields[columns.name] ?? '').trim() || null : null;
            const active = columns.active >= 0 ? readActive(fields[columns.active] ?? '', line) : true;
            pending.set(id, { id, fa, name, active });
            count++;
            if (pending.size >= CHUNK) {
              await upsert(tx, pending.values());
              pending = new Map();
            }
          }
        } catch (error) {
          if (error instanceof CsvError) throw new CsvLoadError(`CSV ${error.message}`);
          throw error;
        }
        if (!columns) throw new CsvLoadError('CSV is empty: a header row (id,fa,name) is required');
        await upsert(tx, pending.values());
        return count;
      });
    },
  };
}

export type MapperStore = ReturnType<typeof createMapperStore>;

function readHeader(fields: string[], line: number) {
  const names = fields.map((f) => f.trim().toLowerCase());
  const known = ['id', 'fa', 'name', 'active'];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length)
    throw new CsvError(
      line,
      `unknown column(s) ${unknown.join(', ')}; the header names id, fa, name, active`,
    );
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new CsvError(line, `column ${duplicate} appears twice`);
  if (!names.includes('id') || !names.includes('fa'))
    throw new CsvError(line, 'the header must name the columns id and fa (and optionally name, active)');
  return {
    id: names.indexOf('id'),
    fa: names.indexOf('fa'),
    name: names.indexOf('name'),
    active: names.indexOf('active'),
  };
}

function readActive(raw: string, line: number): boolean {
  const v = raw.trim().toLowerCase();
  if (v === '' || ['true', '1', 'yes', 'y'].includes(v)) return true;
  if (['false', '0', 'no', 'n'].includes(v)) return false;
  throw new CsvError(line, `active must be true or false, got ${JSON.stringify(raw)}`);
}
