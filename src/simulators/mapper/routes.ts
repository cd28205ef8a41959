// HTTP face of the mapper simulator: G2P Connect-style sync resolve/link/unlink, plus admin endpoints to list
// entries, load a CSV and arm failures. Who may call them is decided where they are mounted (../access.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { refuseNulCharacters } from '../../api/server.js';
import {
  g2pRequestSchema,
  headerOf,
  type RequestHeader,
  responseHeader,
  successResponse,
} from '../../g2p/message.js';
import { FAIL_MODES, type FailMode, type MapperFaults } from './faults.js';
import { CsvLoadError, type MapperStore } from './store.js';

const PUBLIC = { roles: 'public' } as const;
const TAGS = ['Mapper simulator'];
/** A 10,000-item batch is about 1.5 MB; leave room for bigger ones. */
const BODY_LIMIT = 64 * 1024 * 1024;
const MAX_ITEMS = 100_000;

interface ResolveRequestItem {
  reference_id: string;
  timestamp?: string;
  id: string;
  scope?: 'details' | 'yes_no';
}
interface LinkRequestItem {
  reference_id: string;
  timestamp?: string;
  id: string;
  fa: string;
  name?: string | null;
}
interface UnlinkRequestItem {
  reference_id: string;
  timestamp?: string;
  id: string;
  fa?: string | null;
}
type Body<M> = { header: RequestHeader; message: M };

const itemsSchema = (key: string, item: object) => ({
  type: 'object',
  required: ['transaction_id', key],
  properties: {
    transaction_id: { type: 'string', minLength: 1, maxLength: 200 },
    [key]: { type: 'array', minItems: 1, maxItems: MAX_ITEMS, items: item },
  },
});

/** What every sync item carries; each action adds its own fields. */
const itemProperties = {
  reference_id: { type: 'string', minLength: 1 },
  timestamp: { type: 'string' },
  id: { type: 'string', minLength: 1 },
};
const resolveItemSchema = {
  type: 'object',
  required: ['reference_id', 'id'],
  properties: {
    ...itemProperties,
    fa: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    scope: { type: 'string', enum: ['details', 'yes_no'] },
  },
};
const linkItemSchema = {
  type: 'object',
  required: ['reference_id', 'id', 'fa'],
  properties: {
    ...itemProperties,
    fa: { type: 'string', minLength: 1 },
    name: { type: ['string', 'null'] },
  },
};
const unlinkItemSchema = {
  type: 'object',
  required: ['reference_id', 'id'],
  properties: { ...itemProperties, fa: { type: ['string', 'null'] } },
};

export function mapperRoutes(store: MapperStore, faults: MapperFaults, log: Logger, now: () => Date) {
  /** Applies the armed delay and failure; true when the call has been answered (failed) already. */
  async function injectFaults(reply: FastifyReply): Promise<boolean> {
    const abandoned = (release: () => void) => reply.raw.once('close', release);
    await faults.wait(faults.currentDelayMs, abandoned);
    const mode = faults.take();
    if (!mode) return false;
    log.info({ mode }, 'mapper simulator: injected failure');
    if (mode === 'error') {
      await reply
        .code(500)
        .send({ error: 'SIMULATED_FAILURE', message: 'Failure injected by the mapper simulator' });
    } else if (mode === 'malformed') {
      await reply.code(200).type('application/json').send('{"signature":null,"header":{"status":"su');
    } else {
      await faults.wait(faults.currentHangMs, abandoned);
      // The caller gave up and closed the connection: there is no one left to answer.
      if (reply.raw.destroyed) reply.hijack();
      else
        await reply
          .code(504)
          .send({ error: 'SIMULATED_HANG', message: 'The mapper simulator hung on purpose' });
    }
    return true;
  }

  return async function routes(app: FastifyInstance) {
    refuseNulCharacters(app);
    app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err: error }, 'mapper simulator request failed');
        return reply.code(500).send({ error: 'INTERNAL_ERROR', message: 'The mapper simulator failed' });
      }
      if (request.url.includes('/sync/')) {
        const header = responseHeader(headerOf(request), 'resolve', 'rjct', now(), {
          code: 'rjct.request.invalid',
          message: error.message,
        });
        return reply.code(status).send({ signature: null, header, message: null });
      }
      return reply.code(status).send({ error: 'INVALID_REQUEST', message: error.message });
    });

    // CSV uploads are streamed to the loader rather than buffered.
    app.addContentTypeParser(['text/csv', 'application/octet-stream'], (_request, payload, done) =>
      done(null, payload),
    );

    /**
     * POST /sync/<action>: a batch of `<action>_request` items answered with `<action>_response` items in the
     * G2P envelope, after any armed delay or failure.
     */
    function syncRoute<I>(
      action: 'resolve' | 'link' | 'unlink',
      summary: string,
      itemSchema: object,
      answer: (items: I[]) => Promise<{ response: object[]; completed: number }>,
    ) {
      const requestKey = `${action}_request`;
      app.post<{ Body: Body<{ transaction_id: string; [key: string]: unknown }> }>(
        `/sync/${action}`,
        {
          config: PUBLIC,
          bodyLimit: BODY_LIMIT,
          schema: { tags: TAGS, summary, body: g2pRequestSchema(itemsSchema(requestKey, itemSchema)) },
        },
        async (request, reply) => {
          if (await injectFaults(reply)) return reply;
          const { header, message } = request.body;
          const items = message[requestKey] as I[];
          const { response, completed } = await answer(items);
          return successResponse(
            header,
            action,
            {
              transaction_id: message.transaction_id,
              correlation_id: header.message_id,
              [`${action}_response`]: response,
            },
            now(),
            { total: items.length, completed },
          );
        },
      );
    }

    syncRoute<ResolveRequestItem>(
      'resolve',
      'G2P Connect resolve (synchronous): beneficiary ids to financial addresses',
      resolveItemSchema,
      async (items) => {
        const found = await store.lookup([...new Set(items.map((i) => i.id))]);
        const now = new Date().toISOString();
        const known: object[] = [];
        const unknown: object[] = [];
        for (const item of items) {
          const entry = found.get(item.id);
          const base = { reference_id: item.reference_id, timestamp: now, id: item.id };
          if (!entry) {
            unknown.push({ ...base, fa: null, status: 'succ', status_reason_code: 'succ.id.not_found' });
          } else if (!entry.active) {
            known.push({ ...base, fa: null, status: 'succ', status_reason_code: 'succ.fa.not_linked_to_id' });
          } else {
            const details = item.scope !== 'yes_no';
            known.push({
              ...base,
              fa: details ? entry.fa : null,
              name: details ? entry.name : null,
              status: 'succ',
              status_reason_code: 'succ.id.active',
            });
          }
        }
        // Known ids first, as a lookup naturally returns them: callers must match by reference_id.
        return { response: known.concat(unknown), completed: items.length };
      },
    );

    syncRoute<LinkRequestItem>(
      'link',
      'Link beneficiary ids to financial addresses (replaces an existing link)',
      linkItemSchema,
      async (items) => {
        await store.link(items.map((i) => ({ id: i.id, fa: i.fa, name: i.name ?? null })));
        const now = new Date().toISOString();
        const response = items.map((i) => ({
          reference_id: i.reference_id,
          timestamp: now,
          id: i.id,
          fa: i.fa,
          status: 'succ',
          status_reason_code: null,
        }));
        return { response, completed: items.length };
      },
    );

    syncRoute<UnlinkRequestItem>(
      'unlink',
      'Unlink beneficiary ids (optionally only from a given financial address)',
      unlinkItemSchema,
      async (items) => {
        const results = await store.unlink(items.map((i) => ({ id: i.id, fa: i.fa ?? null })));
        const now = new Date().toISOString();
        const response = items.map((i, index) => {
          const result = results[index]!;
          return {
            reference_id: i.reference_id,
            timestamp: now,
            id: i.id,
            status: result.unlinked ? 'succ' : 'rjct',
            status_reason_code: result.unlinked
              ? null
              : result.reason === 'FA_MISMATCH'
                ? 'rjct.fa.invalid'
                : 'rjct.id.invalid',
          };
        });
        return { response, completed: results.filter((r) => r.unlinked).length };
      },
    );

    app.get<{ Querystring: { after?: string; limit?: string; active?: string } }>(
      '/admin/entries',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: 'List linked ids in id order (keyset paging with ?after=<last id>)',
          querystring: {
            type: 'object',
            properties: {
              after: { type: 'string' },
              limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
              active: { type: 'string', enum: ['true', 'false'] },
            },
          },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await store.list({
          after: q.after,
          limit: q.limit ? Number(q.limit) : undefined,
          active: q.active === undefined ? undefined : q.active === 'true',
        });
        return { ...page, ...(await store.counts()) };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/admin/entries/:id',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'One entry' } },
      async (request, reply) => {
        const entry = (await store.lookup([request.params.id])).get(request.params.id);
        if (!entry) return reply.code(404).send({ error: 'NOT_FOUND', message: 'No such id in the mapper' });
        return entry;
      },
    );

    app.delete(
      '/admin/entries',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'Remove every entry' } },
      async () => ({ deleted: await store.clear() }),
    );

    app.post(
      '/admin/entries/csv',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: 'Bulk load a CSV (header id,fa[,name][,active]); body text/csv; last row for an id wins',
        },
      },
      async (request: FastifyRequest, reply) => {
        const body = request.body;
        if (!body || typeof body !== 'object' || !(Symbol.asyncIterator in body))
          return reply
            .code(415)
            .send({ error: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the CSV as text/csv' });
        try {
          const loaded = await store.loadCsv(body as AsyncIterable<Uint8Array>);
          log.info({ rows: loaded }, 'mapper simulator: CSV loaded');
          return { loaded, ...(await store.counts()) };
        } catch (error) {
          if (error instanceof CsvLoadError)
            return reply.code(400).send({ error: 'INVALID_CSV', message: error.message });
          throw error;
        }
      },
    );

    app.get(
      '/admin/faults',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'Armed failures' } },
      async () => faults.state(),
    );

    app.post<{ Body: { failNext?: number; mode?: FailMode | 'timeout'; delayMs?: number; hangMs?: number } }>(
      '/admin/faults',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: 'Fail the next N API calls (error = HTTP 500, hang, malformed) and/or delay every answer',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              failNext: { type: 'integer', minimum: 0 },
              mode: { type: 'string', enum: [...FAIL_MODES, 'timeout'] },
              delayMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
              hangMs: { type: 'integer', minimum: 0, maximum: 3_600_000 },
            },
          },
        },
      },
      async (request) => {
        const b = request.body ?? {};
        if (b.failNext !== undefined) faults.failNext(b.failNext, b.mode ?? 'error');
        if (b.delayMs !== undefined) faults.delay(b.delayMs);
        if (b.hangMs !== undefined) faults.hangFor(b.hangMs);
        return faults.state();
      },
    );

    app.delete(
      '/admin/faults',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'Disarm every failure and delay' } },
      async () => {
        faults.reset();
        return faults.state();
      },
    );
  };
}
