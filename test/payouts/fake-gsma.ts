// A small in-test GSMA Mobile Money API provider (Fastify on port 0), written from the spec: bulk
// /batchtransactions, /requeststates, /responses, completions and rejections with offset/limit, balances and
// /transactions/{ref}. Faults the tests turn on: down for N requests, an answer lost after the batch was
// stored, rejected wallets, a tampered amount, completions naming another reference.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';

interface Txn {
  ref: string | undefined;
  transactionReference: string;
  msisdn: string;
  amount: string;
  currency: string;
  debitParty: unknown;
  outcome: 'completed' | 'rejected' | null;
  code?: string;
}

interface Batch {
  batchId: string;
  serverCorrelationId: string;
  correlationId: string;
  callbackUrl: string | null;
  txns: Txn[];
}

export class FakeGsma {
  app: FastifyInstance = Fastify();
  url = '';
  apiKey = 'test-key';
  batches = new Map<string, Batch>(); // by correlation id
  posts = 0;
  /** Requests answered 503 before the provider comes back. */
  downFor = 0;
  /** POSTs whose batch is stored but whose answer is lost (the connection dropped). */
  loseAnswers = 0;
  /** msisdn → GSMA error code of a wallet the provider rejects. */
  rejectWallets = new Map<string, string>();
  /** Our reference → the amount the provider claims it paid (tampering). */
  claimAmount = new Map<string, string>();
  /** Extra completions to report (e.g. a disbursement we sent on another channel). */
  extraCompletions: Array<{ ref: string; amount: string; currency: string; msisdn: string }> = [];
  balance = '1000000';
  /** Leave amounts out of completions so the connector must follow each link. */
  linkOnly = false;
  /**
   * How GET /accounts/{id}/transactions answers: 'absent' as if the route did not exist (Fastify's plain 404),
   * 501 Not Implemented, or 'unknown-account' (the GSMA 404 identification/identifierError).
   */
  ledgerRoute: 'absent' | 501 | 'unknown-account' = 'absent';

  async start(): Promise<this> {
    const app = this.app;
    app.addHook('onRequest', async (req, reply) => {
      if (this.downFor > 0) {
        this.downFor--;
        return reply.code(503).send({ errorCategory: 'serviceUnavailable', errorCode: 'genericError' });
      }
      if (req.headers['x-api-key'] !== this.apiKey)
        return reply
          .code(401)
          .send({ errorCategory: 'authorisation', errorCode: 'clientAuthorisationError' });
    });
    app.post('/batchtransactions', async (req, reply) => {
      this.posts++;
      const cid = String(req.headers['x-correlationid'] ?? '');
      if (this.batches.has(cid))
        return reply.code(400).send({ errorCategory: 'businessRule', errorCode: 'duplicateRequest' });
      const body = req.body as { transactions: Array<Record<string, unknown>> };
      const batch: Batch = {
        batchId: `B-${randomUUID().slice(0, 8)}`,
        serverCorrelationId: randomUUID(),
        correlationId: cid,
        callbackUrl: (req.headers['x-callback-url'] as string) ?? null,
        txns: body.transactions.map((t, i) => ({
          ref: t.requestingOrganisationTransactionReference as string | undefined,
          transactionReference: `T-${i}-${randomUUID().slice(0, 6)}`,
          msisdn: (t.creditParty as Array<{ key: string; value: string }>)[0]!.value,
          amount: t.amount as string,
          currency: t.currency as string,
          debitParty: t.debitParty,
          outcome: null,
        })),
      };
      this.batches.set(cid, batch);
      if (this.loseAnswers > 0) {
        this.loseAnswers--;
        reply.raw.destroy();
        return reply;
      }
      return reply.code(202).send({
        serverCorrelationId: batch.serverCorrelationId,
        status: 'pending',
        notificationMethod: batch.callbackUrl ? 'callback' : 'polling',
      });
    });
    app.get<{ Params: { id: string } }>('/responses/:id', async (req, reply) => {
      const b = this.batches.get(req.params.id);
      if (!b) return reply.code(404).send({ errorCategory: 'identification', errorCode: 'genericError' });
      return { link: `/batchtransactions/${b.batchId}` };
    });
    app.get<{ Params: { id: string } }>('/requeststates/:id', async (req, reply) => {
      const b = [...this.batches.values()].find((x) => x.serverCorrelationId === req.params.id);
      if (!b) return reply.code(404).send({ errorCategory: 'identification', errorCode: 'genericError' });
      return {
        serverCorrelationId: b.serverCorrelationId,
        status: 'completed',
        objectReference: b.batchId,
        notificationMethod: 'polling',
      };
    });
    const page = <T>(list: T[], q: { offset?: string; limit?: string }) => {
      const offset = Number(q.offset ?? 0);
      const limit = Number(q.limit ?? 50);
      return list.slice(offset, offset + limit);
    };
    app.get<{ Params: { id: string }; Querystring: { offset?: string; limit?: string } }>(
      '/batchtransactions/:id/completions',
      async (req, reply) => {
        const b = this.byBatchId(req.params.id);
        if (!b) return reply.code(404).send({ errorCategory: 'identification', errorCode: 'genericError' });
        const list = [
          ...b.txns.filter((t) => t.outcome === 'completed'),
          ...this.extraCompletions.map((e) => ({
            ref: e.ref,
            transactionReference: `X-${e.ref}`,
            msisdn: e.msisdn,
            amount: e.amount,
            currency: e.currency,
            debitParty: [],
            outcome: 'completed' as const,
          })),
        ];
        reply.header('x-records-available-count', String(list.length));
        return page(list, req.query).map((t) => ({
          transactionReference: t.transactionReference,
          requestingOrganisationTransactionReference: t.ref,
          creditParty: [{ key: 'msisdn', value: t.msisdn }],
          debitParty: t.debitParty,
          completionDate: new Date().toISOString(),
          link: `/transactions/${t.transactionReference}`,
          ...(this.linkOnly
            ? {}
            : {
                customData: [
                  { key: 'amount', value: this.claimAmount.get(t.ref ?? '') ?? t.amount },
                  { key: 'currency', value: t.currency },
                ],
              }),
        }));
      },
    );
    app.get<{ Params: { id: string }; Querystring: { offset?: string; limit?: string } }>(
      '/batchtransactions/:id/rejections',
      async (req, reply) => {
        const b = this.byBatchId(req.params.id);
        if (!b) return reply.code(404).send({ errorCategory: 'identification', errorCode: 'genericError' });
        const list = b.txns.filter((t) => t.outcome === 'rejected');
        return page(list, req.query).map((t) => ({
          transactionReference: t.transactionReference,
          requestingOrganisationTransactionReference: t.ref,
          creditParty: [{ key: 'msisdn', value: t.msisdn }],
          debitParty: t.debitParty,
          rejectionReason: t.code,
          rejectionDate: new Date().toISOString(),
          customData: [
            { key: 'errorCategory', value: 'identification' },
            { key: 'errorCode', value: t.code },
          ],
        }));
      },
    );
    app.get<{ Params: { ref: string } }>('/transactions/:ref', async (req, reply) => {
      for (const b of this.batches.values())
        for (const t of b.txns)
          if (t.transactionReference === req.params.ref)
            return {
              transactionReference: t.transactionReference,
              requestingOrganisationTransactionReference: t.ref,
              amount: this.claimAmount.get(t.ref ?? '') ?? t.amount,
              currency: t.currency,
              type: 'disbursement',
              transactionStatus: 'completed',
              creditParty: [{ key: 'msisdn', value: t.msisdn }],
              debitParty: t.debitParty,
            };
      return reply.code(404).send({ errorCategory: 'identification', errorCode: 'genericError' });
    });
    app.get<{ Params: { id: string } }>('/accounts/:id/balance', async () => ({
      accountStatus: 'available',
      availableBalance: this.balance,
      currency: 'USD',
    }));
    app.get('/accounts/:id/transactions', async (_req, reply) => {
      if (this.ledgerRoute === 'absent') return reply.callNotFound();
      if (this.ledgerRoute === 501)
        return reply.code(501).send({ errorCategory: 'internal', errorCode: 'genericError' });
      return reply.code(404).send({ errorCategory: 'identification', errorCode: 'identifierError' });
    });
    this.url = await app.listen({ port: 0, host: '127.0.0.1' });
    return this;
  }

  private byBatchId(id: string): Batch | undefined {
    return [...this.batches.values()].find((b) => b.batchId === id);
  }

  /** Decides every open transaction: a wallet in rejectWallets is rejected with its code, others paid. */
  settle(): void {
    for (const b of this.batches.values())
      for (const t of b.txns) {
        if (t.outcome) continue;
        const code = this.rejectWallets.get(t.msisdn);
        t.outcome = code ? 'rejected' : 'completed';
        if (code) t.code = code;
      }
  }

  transactions(): Txn[] {
    return [...this.batches.values()].flatMap((b) => b.txns);
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}
