// The fast create_disbursements path (issue 10): the compact stored answer, the answer written while the
// database inserts, the set-based parent check that replaced the foreign keys, and the faster canonical hash
// and number pre-scan, each held against what it replaced.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packIds, renderDisbursementId, unpackIds } from '../../src/disbursements/ids.js';
import { canonicalJson, canonicalJsonSlow, requestHash } from '../../src/g2p/idempotency.js';
import { jsonTextProblem, numberProblem } from '../../src/g2p/json.js';
import { responseHeaderSchema } from '../../src/g2p/message.js';
import { type TestApp, testApp } from '../support/app.js';
import { onPostgres } from '../support/db.js';
import {
  addEnvelope,
  addProgram,
  type Client,
  client,
  disbursement,
  expectUnchanged,
  g2p,
  NOW,
} from './helpers.js';

/** The pre-scan as it was written first (one regex over the text): the oracle for the character loop. */
function jsonTextProblemByRegex(text: string): string | null {
  const TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  const SURROGATE = /\\u[dD][89a-fA-F]/;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) {
    const token = m[0];
    if (token.charCodeAt(0) === 34) {
      // A \u0000 escape (after an even run of backslashes, so not an escaped backslash and "u0000").
      if (/(?:^|[^\\])(?:\\\\)*\\u0000/.test(token)) return `string@${m.index}`;
      // Lone surrogates: the production code's own check decides; only positions are compared here.
      if (SURROGATE.test(token) && jsonTextProblem(token)) return `string@${m.index}`;
      continue;
    }
    if (numberProblem(token)) return `number@${m.index}`;
  }
  return null;
}

const position = (problem: string | null) =>
  problem === null
    ? null
    : `${problem.startsWith('a string') ? 'string' : 'number'}@${/position (\d+)/.exec(problem)![1]}`;

describe('canonical request hash and number pre-scan', () => {
  it('writes the same canonical JSON as the key-by-key definition', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalJsonSlow(value));
      }),
      { numRuns: 500 },
    );
    // Integer-like keys (which objects order first) and items that differ in their keys.
    const odd = [{ b: 1, 10: 'x', 9: [{ z: 1, a: null }], a: { '': 0 } }, { a: 1 }, { c: 2, a: undefined }];
    expect(canonicalJson(odd)).toBe(canonicalJsonSlow(odd));
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":2}'))).toBe(
      canonicalJsonSlow(JSON.parse('{"__proto__":{"x":1},"a":2}')),
    );
  });

  it('hashes a long list piece by piece to the hash of its whole canonical text', () => {
    const whole = (action: string, message: unknown) =>
      createHash('sha256')
        .update(`${action}\n${canonicalJsonSlow(message)}`)
        .digest('hex');
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 250, maxLength: 800 }), (list) => {
        expect(requestHash('create_disbursements', list)).toBe(whole('create_disbursements', list));
      }),
      { numRuns: 25 },
    );
    // Items whose keys differ, a key only the last piece has, and one "__proto__" key.
    const items = Array.from({ length: 700 }, (_, i) => ({ n: i, b: 'é', ...(i === 699 ? { a: [1] } : {}) }));
    expect(requestHash('x', items)).toBe(whole('x', items));
    const proto = [...items, JSON.parse('{"__proto__":{"x":1},"a":2}')];
    expect(requestHash('x', proto)).toBe(whole('x', proto));
  });

  it('finds the same first problem as the regex pre-scan, at the same position', () => {
    const number = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)),
      fc.stringMatching(/^-?(0|[1-9]\d{0,25})(\.\d{1,25})?([eE][+-]?\d{1,3})?$/),
    );
    // Valid JSON strings only (an invalid document fails in JSON.parse whatever the pre-scan says),
    // with escaped quotes and backslashes, digits, exponents and (lone) surrogates inside.
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.stringMatching(/^[a-z0-9eE.\-"\\]{0,8}$/),
      fc.constantFrom(
        '\ud800',
        '\ud83d\ude00',
        '\udc00x',
        '"',
        '\\',
        '1e5',
        '12345678901234567',
        '\u0000',
        '\\u0000',
      ),
    );
    const doc = fc
      .array(
        fc.oneof(
          number,
          text.map((s) => JSON.stringify(s)),
        ),
        { maxLength: 12 },
      )
      .map((parts) => `{"message":[${parts.join(',')}]}`);
    fc.assert(
      fc.property(doc, (body) => {
        expect(position(jsonTextProblem(body))).toBe(jsonTextProblemByRegex(body));
      }),
      { numRuns: 1000 },
    );
    expect(jsonTextProblem('[1234567890123456]')).toMatch(/more than 15 significant digits/);
    expect(jsonTextProblem('["\\"1e5", 2]')).toBeNull();
    expect(jsonTextProblem('["\\\\", 1e5]')).toMatch(/position 7 uses an exponent/);
  });

  it('refuses a NUL escape anywhere in the text, keys included, and nothing that only looks like one', () => {
    expect(jsonTextProblem(JSON.stringify({ message: [{ beneficiary_name: 'Ana\u0000' }] }))).toMatch(
      /position 32 holds U\+0000/,
    );
    expect(jsonTextProblem(JSON.stringify({ 'k\u0000': 1 }))).toMatch(/position 1 holds U\+0000/);
    expect(jsonTextProblem('["\\u0000"]')).toMatch(/U\+0000/);
    // An escaped backslash followed by the letters u0000, and U+0001: text, not NUL.
    expect(jsonTextProblem(JSON.stringify(['\\u0000', '\u0001', 'u0000']))).toBeNull();
    expect(jsonTextProblem('["\\\\u0000"]')).toBeNull();
  });
});

describe('the assigned ids of a stored answer', () => {
  it('packs runs of consecutive ids and reads back any list, the plain lists stored before included', () => {
    const run = (from: number, n: number) =>
      Array.from({ length: n }, (_, k) => renderDisbursementId(from + k));
    const ids = [...run(35, 3), 'B0000040', ...run(1296, 10_000), renderDisbursementId(36 ** 7 + 5), 'OWN-1'];
    expect(packIds(ids)).toBe(
      `B000000Z*3,B0000040,B0000100*10000,${renderDisbursementId(36 ** 7 + 5)},OWN-1`,
    );
    expect(unpackIds(packIds(ids))).toEqual(ids);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 50 }).map(renderDisbursementId), fc.constant('B00000')), {
          maxLength: 40,
        }),
        (list) => {
          expect(unpackIds(packIds(list))).toEqual(list);
        },
      ),
    );
    expect(unpackIds('B0000001,B0000003')).toEqual(['B0000001', 'B0000003']);
    expect(unpackIds('')).toEqual([]);
    for (const bad of ['B0000001*0', 'B0000001*x', 'OWN*2', 'B0000001*99999999'])
      expect(() => unpackIds(bad)).toThrow('not a run of stored ids');
  });
});

describe('create_disbursements answers and replays', () => {
  let t: TestApp;
  let c: Client;
  let program: string;
  beforeAll(async () => {
    t = await testApp();
    t.setNow(NOW);
    c = client(t);
    program = await addProgram(c, 'USD', { sponsor_bank_code: 'EXAMPLE' });
  });
  afterAll(async () => t.close());

  const post = async (body: unknown) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/create_disbursements',
      headers: { authorization: `Bearer ${await c.tokenFor('pbms')}` },
      payload: body as object,
    });
    return { status: res.statusCode, text: res.body, type: res.headers['content-type'] };
  };

  it('replays the identical bytes from a compact stored answer, on either database', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_beneficiaries: 5,
      number_of_disbursements: 5,
      total_disbursement_amount: '500.00',
    });
    const items = [
      disbursement(envelope, { disbursement_amount: 100, mis_reference_number: 'MIS-1' }),
      disbursement(envelope, {
        disbursement_id: 'PBMS-OWN-1',
        disbursement_amount: '99.5',
        beneficiary_name: 'Zoë "Quote" \\ Ünïcode 😀',
        narrative: 'line\nbreak\ttab',
      }),
      disbursement(envelope, { disbursement_amount: '0.50', id: 'ignored', response_error_codes: ['x'] }),
    ];
    const body = g2p('create_disbursements', items, { message_id: 'replay-compact-1' });
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(first.type).toBe('application/json; charset=utf-8');
    const answer = JSON.parse(first.text);
    expect(answer.header).toMatchObject({ status: 'succ', total_count: 3, completed_count: 3 });
    // The header's keys in the order of its schema, as the route's serializer writes them.
    expect(Object.keys(answer.header)).toEqual(Object.keys(responseHeaderSchema.properties));
    expect(Object.keys(answer)).toEqual(['signature', 'header', 'message']);
    const [a, b, d] = answer.message;
    expect(a).toEqual({
      id: a.disbursement_id,
      mis_reference_number: 'MIS-1',
      disbursement_id: expect.stringMatching(/^B[0-9A-Z]{7,}$/),
      disbursement_envelope_id: envelope,
      beneficiary_id: items[0]!.beneficiary_id,
      beneficiary_name: 'Test Beneficiary',
      disbursement_amount: 100,
      narrative: 'March benefit',
      receipt_time_stamp: new Date(NOW).toISOString(),
      cancellation_status: 'Not_Cancelled',
      cancellation_time_stamp: null,
      response_error_codes: [],
    });
    expect(b).toMatchObject({
      id: 'PBMS-OWN-1',
      disbursement_id: 'PBMS-OWN-1',
      mis_reference_number: null,
      beneficiary_name: 'Zoë "Quote" \\ Ünïcode 😀',
      narrative: 'line\nbreak\ttab',
      disbursement_amount: 99.5,
    });
    expect(d).toMatchObject({ disbursement_amount: 0.5, id: d.disbursement_id });
    expect(d.disbursement_id).not.toBe('ignored');
    // What it wrote is what it answered.
    const { rows } = await t.ctx.db.query<{ disbursement_id: string; amount: string }>(
      `SELECT disbursement_id, disbursement_amount::text AS amount FROM disbursement
       WHERE disbursement_envelope_id = $1 ORDER BY disbursement_id`,
      [envelope],
    );
    expect(rows).toEqual(
      [
        { disbursement_id: a.disbursement_id, amount: '100.00' },
        { disbursement_id: 'PBMS-OWN-1', amount: '99.50' },
        { disbursement_id: d.disbursement_id, amount: '0.50' },
      ].sort((x, y) => (x.disbursement_id < y.disbursement_id ? -1 : 1)),
    );

    // The stored answer is the header and the assigned ids, not the items.
    const stored = await t.ctx.db.query<{ response: { kept: { answer: { assigned: string } } } }>(
      `SELECT response FROM api_request WHERE message_id = 'replay-compact-1'`,
    );
    const kept = stored.rows[0]!.response.kept;
    // Two fresh ids of consecutive sequence values: one run.
    expect(kept.answer.assigned).toBe(`${a.disbursement_id}*2`);
    expect(unpackIds(kept.answer.assigned)).toEqual([a.disbursement_id, d.disbursement_id]);
    expect(JSON.stringify(stored.rows[0]!.response)).not.toContain('Beneficiary');

    // A cancellation in between does not change the replayed answer; the replay writes nothing.
    expect(
      (await c.call('cancel_disbursements', [{ disbursement_id: 'PBMS-OWN-1' }])).body.header.status,
    ).toBe('succ');
    const before = await t.ctx.db.query('SELECT count(*) AS n FROM disbursement');
    const replay = await post(body);
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(first.text);
    // Keys in another order are the same request.
    const reordered = {
      message: [...items.map((i) => Object.fromEntries(Object.entries(i).reverse()))],
      header: body.header,
      signature: null,
    };
    expect((await post(reordered)).text).toBe(first.text);
    expect((await t.ctx.db.query('SELECT count(*) AS n FROM disbursement')).rows).toEqual(before.rows);
    // The same message id with other items is refused.
    const other = await post(
      g2p('create_disbursements', [disbursement(envelope)], { message_id: 'replay-compact-1' }),
    );
    expect(JSON.parse(other.text).header).toMatchObject({
      status: 'rjct',
      status_reason_code: 'rjct.message_id.duplicate',
    });
  });

  it('stores awkward text and the largest amounts a bank takes through COPY as sent, and the hash of the request', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_beneficiaries: 4,
      number_of_disbursements: 4,
      total_disbursement_amount: '300000000000.00',
    });
    const awkward = ['tab\there', 'cr\rlf\n', 'back\\slash \\N', '\\N', '\\.', 'ünï 💸 \u2028'];
    const items = [
      disbursement(envelope, {
        beneficiary_name: awkward[0],
        narrative: awkward[1],
        mis_reference_number: awkward[3],
        disbursement_amount: '123456789012.34', // 14 digits, the bank's most
      }),
      disbursement(envelope, {
        beneficiary_id: awkward[2],
        beneficiary_name: awkward[4],
        narrative: awkward[5],
        mis_reference_number: '',
        disbursement_amount: 98765432109.87,
      }),
      disbursement(envelope, { disbursement_id: 'OWN.1/2:3', disbursement_amount: '0.01' }),
    ];
    const body = g2p('create_disbursements', items, { message_id: 'copy-awkward-1' });
    const first = await post(body);
    const answer = JSON.parse(first.text);
    expect(answer.header.status, first.text.slice(0, 1500)).toBe('succ');
    expect(answer.message.map((i: { disbursement_amount: unknown }) => i.disbursement_amount)).toEqual([
      123456789012.34, 98765432109.87, 0.01,
    ]);
    const { rows } = await t.ctx.db.query<Record<string, string | null>>(
      `SELECT disbursement_id, mis_reference_number, beneficiary_id, beneficiary_name, narrative,
              disbursement_amount::text AS amount
       FROM disbursement WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    const byId = new Map(rows.map((r) => [r.disbursement_id, r]));
    answer.message.forEach((item: Record<string, unknown>, i: number) => {
      const row = byId.get(item.disbursement_id as string)!;
      expect(row.beneficiary_id).toBe(items[i]!.beneficiary_id);
      expect(row.beneficiary_name).toBe(items[i]!.beneficiary_name);
      expect(row.narrative).toBe(items[i]!.narrative);
      expect(row.mis_reference_number).toBe(
        (items[i] as { mis_reference_number?: string }).mis_reference_number ?? null,
      );
      expect(item.beneficiary_name).toBe(items[i]!.beneficiary_name);
    });
    expect(rows.map((r) => r.amount).sort()).toEqual(['0.01', '123456789012.34', '98765432109.87']);
    const counters = await t.ctx.db.query<{ n: number; amount: string }>(
      `SELECT number_of_disbursements_received AS n, total_disbursement_amount_received::text AS amount
       FROM disbursement_envelope_batch_status WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    expect(counters.rows[0]).toEqual({ n: 3, amount: '222222221122.22' });
    // The claim was stored without its hash; the call wrote it with the answer.
    const claim = await t.ctx.db.query<{ sha: string }>(
      `SELECT request_sha256 AS sha FROM api_request WHERE message_id = 'copy-awkward-1'`,
    );
    expect(claim.rows[0]!.sha).toBe(requestHash('create_disbursements', body.message));
    expect((await post(body)).text).toBe(first.text);
  });

  it('still replays an answer that was stored whole', async () => {
    const envelope = await addEnvelope(c, program);
    const items = [disbursement(envelope)];
    const body = g2p('create_disbursements', items, { message_id: 'stored-whole-1' });
    expect((await post(body)).status).toBe(200);
    // As a bridge before compact answers stored it.
    const whole = {
      signature: null,
      header: {
        version: '1.0.0',
        message_id: 'stored-whole-1',
        status: 'succ',
        action: 'create_disbursements',
      },
      message: [{ id: 'OLD-1', disbursement_id: 'OLD-1', response_error_codes: [] }],
    };
    await t.ctx.db.query(`UPDATE api_request SET response = $1::jsonb WHERE message_id = 'stored-whole-1'`, [
      JSON.stringify(whole),
    ]);
    const replay = JSON.parse((await post(body)).text);
    expect(replay.message).toEqual([expect.objectContaining({ id: 'OLD-1', disbursement_id: 'OLD-1' })]);
  });

  it('keeps a disbursement tied to existing parents without foreign keys', async () => {
    const envelope = await addEnvelope(c, program);
    const res = await c.call('create_disbursements', [disbursement(envelope)]);
    const id = res.body.message[0].disbursement_id as string;
    const insert = (envelopeId: string, batch: string) =>
      t.ctx.db.query(
        `INSERT INTO disbursement (disbursement_id, disbursement_envelope_id, mapper_resolution_batch_id,
           bank_disbursement_batch_id, beneficiary_id, beneficiary_name, disbursement_amount, narrative)
         VALUES ('ORPHAN-1', $1, $2, $2, 'b', 'n', 1, 'x')`,
        [envelopeId, batch],
      );
    const { rows } = await t.ctx.db.query<{ batch: string }>(
      'SELECT bank_disbursement_batch_id AS batch FROM disbursement WHERE disbursement_id = $1',
      [id],
    );
    const batch = rows[0]!.batch;
    await expect(insert('NO-SUCH-ENVELOPE', batch)).rejects.toMatchObject({ code: '23503' });
    await expect(insert(envelope, 'NO-SUCH-BATCH')).rejects.toMatchObject({ code: '23503' });
    await expect(
      t.ctx.db.query(`UPDATE disbursement SET bank_disbursement_batch_id = 'X' WHERE disbursement_id = $1`, [
        id,
      ]),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(
      t.ctx.db.query('DELETE FROM bank_disbursement_batch_status WHERE bank_disbursement_batch_id = $1', [
        batch,
      ]),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(
      t.ctx.db.query('DELETE FROM mapper_resolution_batch_status WHERE mapper_resolution_batch_id = $1', [
        batch,
      ]),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(t.ctx.db.query('TRUNCATE bank_disbursement_batch_status CASCADE')).rejects.toMatchObject({
      code: '23503',
    });
    // A statement with several parents is checked for each of them.
    await expect(
      t.ctx.db.query(
        `INSERT INTO disbursement (disbursement_id, disbursement_envelope_id, mapper_resolution_batch_id,
           bank_disbursement_batch_id, beneficiary_id, beneficiary_name, disbursement_amount, narrative)
         VALUES ('TWO-1', $1, $2, $2, 'b', 'n', 1, 'x'), ('TWO-2', $1, 'NO-SUCH-BATCH', $2, 'b', 'n', 1, 'x')`,
        [envelope, batch],
      ),
    ).rejects.toMatchObject({ code: '23503' });
    await expect(
      t.ctx.db.query(`SELECT count(*)::int AS n FROM disbursement WHERE disbursement_id LIKE 'TWO-%'`),
    ).resolves.toMatchObject({ rows: [{ n: 0 }] });
  });
});

describe.skipIf(!onPostgres())('create_disbursements racing another writer (PostgreSQL)', () => {
  let t: TestApp;
  let c: Client;
  let program: string;
  beforeAll(async () => {
    t = await testApp();
    t.setNow(NOW);
    c = client(t);
    program = await addProgram(c);
  });
  afterAll(async () => t.close());

  it('names the id another call took between its check and its insert, and applies nothing', async () => {
    const mine = await addEnvelope(c, program);
    const theirs = await addEnvelope(c, program);
    // Another session inserts RACE-1 and holds its transaction open while our call checks and inserts.
    const other = new pg.Client({ connectionString: (t.ctx.db as { url?: string }).url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO mapper_resolution_batch_status VALUES ('RACE-BATCH', $1)`, [theirs]);
      await other.query(`INSERT INTO bank_disbursement_batch_status VALUES ('RACE-BATCH', $1)`, [theirs]);
      await other.query(
        `INSERT INTO disbursement (disbursement_id, disbursement_envelope_id, mapper_resolution_batch_id,
           bank_disbursement_batch_id, beneficiary_id, beneficiary_name, disbursement_amount, narrative)
         VALUES ('RACE-1', $1, 'RACE-BATCH', 'RACE-BATCH', 'b', 'n', 1, 'x')`,
        [theirs],
      );
      const call = c.call('create_disbursements', [
        disbursement(mine),
        disbursement(mine, { disbursement_id: 'RACE-1' }),
      ]);
      // Our insert waits on the other session's row; it commits.
      await waitForLockWait(t);
      await other.query('COMMIT');
      const res = await call;
      expect(res.body.header).toMatchObject({
        status: 'rjct',
        status_reason_code: 'INVALID_DISBURSEMENT_PAYLOAD',
      });
      expect(res.body.message.map((i: { response_error_codes: string[] }) => i.response_error_codes)).toEqual(
        [[], ['DUPLICATE_DISBURSEMENT']],
      );
      const left = await t.ctx.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM disbursement WHERE disbursement_envelope_id = $1',
        [mine],
      );
      expect(left.rows[0]!.n).toBe(0);
    } finally {
      await other.end();
    }
  });
  it('refuses a call whose bad items come late in its rows, writing nothing, then takes the good call', async () => {
    // On PostgreSQL the rows are checked piece by piece while the database copies the pieces before: here
    // the first two pieces (4,000 rows) are good and already sent when the bad ones are found.
    const envelope = await addEnvelope(c, program, {
      number_of_beneficiaries: 5000,
      number_of_disbursements: 5000,
      total_disbursement_amount: '500000.00',
    });
    const items = Array.from({ length: 5000 }, (_, i) =>
      disbursement(envelope, { beneficiary_id: `LATE-${i}` }),
    );
    const bad = structuredClone(items) as Record<string, unknown>[];
    bad[4321]!.beneficiary_name = ' ';
    bad[2500]!.disbursement_id = 'LATE-OWN-1';
    bad[4500]!.disbursement_id = 'LATE-OWN-1';
    bad[4999]!.disbursement_amount = '1.001';
    const res = await expectUnchanged(t, () =>
      c.call('create_disbursements', bad, { message_id: 'late-bad' }),
    );
    expect(res.body.header).toMatchObject({
      status: 'rjct',
      status_reason_code: 'INVALID_DISBURSEMENT_PAYLOAD',
    });
    const named = Object.fromEntries(
      (res.body.message as { response_error_codes: string[] }[])
        .map((item, n) => [n, item.response_error_codes] as const)
        .filter(([, codes]) => codes.length > 0),
    );
    expect(named).toEqual({
      4321: ['INVALID_BENEFICIARY_NAME'],
      4500: ['DUPLICATE_DISBURSEMENT'],
      4999: ['INVALID_DISBURSEMENT_AMOUNT'],
    });
    const good = await c.call('create_disbursements', items, { message_id: 'late-good' });
    expect(good.body.header.status).toBe('succ');
    const { rows } = await t.ctx.db.query<{ n: number; sum: string }>(
      `SELECT count(*)::int AS n, sum(disbursement_amount)::text AS sum FROM disbursement
       WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    expect(rows[0]).toEqual({ n: 5000, sum: '500000.00' });
  });

  it('rolls back everything when a clash comes in the middle of a large COPY', async () => {
    const mine = await addEnvelope(c, program, {
      number_of_beneficiaries: 3000,
      number_of_disbursements: 3000,
      total_disbursement_amount: '300000.00',
    });
    const theirs = await addEnvelope(c, program);
    const other = new pg.Client({ connectionString: (t.ctx.db as { url?: string }).url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO mapper_resolution_batch_status VALUES ('MID-BATCH', $1)`, [theirs]);
      await other.query(`INSERT INTO bank_disbursement_batch_status VALUES ('MID-BATCH', $1)`, [theirs]);
      await other.query(
        `INSERT INTO disbursement (disbursement_id, disbursement_envelope_id, mapper_resolution_batch_id,
           bank_disbursement_batch_id, beneficiary_id, beneficiary_name, disbursement_amount, narrative)
         VALUES ('MID-2500', $1, 'MID-BATCH', 'MID-BATCH', 'b', 'n', 1, 'x')`,
        [theirs],
      );
      // 3,000 items, sent ids, the 2,501st taken by the other session after our check.
      const items = Array.from({ length: 3000 }, (_, i) =>
        disbursement(mine, { disbursement_id: `MID-${i}`, disbursement_amount: '100.00' }),
      );
      const call = c.call('create_disbursements', items, { message_id: 'mid-copy-clash' });
      await waitForLockWait(t);
      await other.query('COMMIT');
      const res = await call;
      expect(res.body.header).toMatchObject({
        status: 'rjct',
        status_reason_code: 'INVALID_DISBURSEMENT_PAYLOAD',
      });
      const named = res.body.message
        .map((i: { response_error_codes: string[] }, n: number) => (i.response_error_codes.length ? n : -1))
        .filter((n: number) => n >= 0);
      expect(named).toEqual([2500]);
      expect(res.body.message[2500].response_error_codes).toEqual(['DUPLICATE_DISBURSEMENT']);
      const left = await t.ctx.db.query<{ d: number; b: number; a: number; n: number }>(
        `SELECT (SELECT count(*)::int FROM disbursement WHERE disbursement_envelope_id = $1) AS d,
                (SELECT count(*)::int FROM bank_disbursement_batch_status WHERE disbursement_envelope_id = $1) AS b,
                (SELECT count(*)::int FROM api_request WHERE message_id = 'mid-copy-clash') AS a,
                (SELECT number_of_disbursements_received FROM disbursement_envelope_batch_status
                 WHERE disbursement_envelope_id = $1) AS n`,
        [mine],
      );
      expect(left.rows[0]).toEqual({ d: 0, b: 0, a: 0, n: 0 });
    } finally {
      await other.end();
    }
  });
});

/** Until some session of this database waits for a lock (our insert behind the other writer's row). */
async function waitForLockWait(t: TestApp) {
  for (;;) {
    const { rows } = await t.ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0]!.n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
