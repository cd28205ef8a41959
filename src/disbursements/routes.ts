import { recordAudit, recordDisbursementAudit } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import { g2pResponseSchema } from '../envelopes/schemas.js';
import { programsOfDisbursements, programsOfEnvelopes, requireSender } from '../envelopes/service.js';
import type { Feature } from '../feature/context.js';
import { type AppContext, requirePrograms } from '../feature/context.js';
import { pbmsChange, pbmsRead } from '../feature/pbms-route.js';
import type { CompactAnswer } from '../g2p/idempotency.js';
import type { G2pResponse } from '../g2p/message.js';
import { type CreatedItems, type KeptAnswer, rebuildCreatedAnswer } from './answer.js';
import { disbursementListOutSchema, disbursementListSchema, disbursementStatusOutSchema } from './schemas.js';
import {
  cancelDisbursements,
  createDisbursements,
  type DisbursementPayload,
  disbursementStatus,
} from './service.js';

const TAG = 'G2P Bridge Disbursement Envelope';

/** The distinct string ids of a field of the items (unknown shapes are skipped). */
function idsOf(items: readonly unknown[], field = 'disbursement_id'): string[] {
  const ids = new Set<string>();
  for (const item of items) {
    const id = item && typeof item === 'object' ? (item as Record<string, unknown>)[field] : undefined;
    if (typeof id === 'string' && id !== '') ids.add(id);
  }
  return [...ids];
}

/** create_disbursements, cancel_disbursements, get_disbursement_status (role pbms). */
export const disbursementRoutes: Feature = (app, ctx: AppContext) => {
  const batch = (
    action: string,
    summary: string,
    description: string,
    apply: (tx: Queryable, c: AppContext, items: DisbursementPayload[]) => Promise<unknown[]>,
    scope: (tx: Queryable, items: DisbursementPayload[]) => Promise<string[]>,
    audit: 'create_disbursements' | 'cancel_disbursements',
  ) =>
    pbmsChange<DisbursementPayload[], unknown[]>(
      app,
      ctx.db,
      {
        action,
        tag: TAG,
        summary,
        description,
        message: disbursementListSchema,
        response: g2pResponseSchema(disbursementListOutSchema),
      },
      async (tx, message, caller) => {
        // Scope first (the envelopes' programs), audit last, both in the call's transaction.
        if (caller.programs) requirePrograms(caller, await scope(tx, message));
        await requireSender(tx, caller, { disbursements: idsOf(message) });
        const items = await apply(tx, ctx, message);
        await recordDisbursementAudit(tx, caller, audit, idsOf(items));
        return { message: items, counts: { total: message.length, completed: items.length } };
      },
      // Counts and codes only: items carry beneficiary data.
      { message: 'disbursement call', fields: (message) => ({ items: message.length }) },
    );

  // create_disbursements keeps a compact answer (the header and the assigned ids) and sends its items as the
  // JSON text the service wrote while the database inserted them.
  const createdAnswer: CompactAnswer<CreatedItems> = {
    keep: (response) => ({ header: response.header, answer: response.message.kept }),
    rebuild: (kept, message) => {
      const k = kept as { header: G2pResponse<CreatedItems>['header']; answer: KeptAnswer };
      return {
        signature: null,
        header: k.header,
        message: rebuildCreatedAnswer(message as DisbursementPayload[], k.answer),
      };
    },
  };
  pbmsChange<DisbursementPayload[], CreatedItems>(
    app,
    ctx.db,
    {
      action: 'create_disbursements',
      tag: TAG,
      summary: 'Create disbursements (one batch)',
      description:
        'All items must belong to one envelope; all-or-nothing. Every item carries its own response_error_codes. ' +
        'Codes: MULTIPLE_ENVELOPES_FOUND, DISBURSEMENT_ENVELOPE_NOT_FOUND, DISBURSEMENT_ENVELOPE_ALREADY_CANCELED, ' +
        'INVALID_DISBURSEMENT_ENVELOPE_ID, INVALID_BENEFICIARY_ID, INVALID_BENEFICIARY_NAME, INVALID_NARRATIVE, ' +
        'INVALID_DISBURSEMENT_AMOUNT, INVALID_DISBURSEMENT_ID, DUPLICATE_DISBURSEMENT (items); header: the envelope code, ' +
        'INVALID_DISBURSEMENT_PAYLOAD, NO_OF_DISBUESEMENTS_EXCEEDS_DECLARED, TOTAL_DISBURSEMENT_AMOUNT_EXCEEDS_DECLARED, ' +
        'rjct.total_count.limit_exceeded.',
      message: disbursementListSchema,
      response: g2pResponseSchema(disbursementListOutSchema),
    },
    async (tx, message, caller) => {
      // Scope first (the envelopes' programs), audit last, both in the call's transaction.
      if (caller.programs)
        requirePrograms(caller, await programsOfEnvelopes(tx, idsOf(message, 'disbursement_envelope_id')));
      await requireSender(tx, caller, { envelopes: idsOf(message, 'disbursement_envelope_id') });
      const created = await createDisbursements(tx, ctx, message);
      // The audit row from the call's own figures (what recordDisbursementAudit would sum from the new rows).
      await recordAudit(tx, caller, {
        action: 'create_disbursements',
        program: created.program,
        envelopeId: created.envelopeId,
        targetIds: [created.batchId],
        summary: { count: created.ids.length, amount: created.amount, currency: created.currency },
      });
      return { message: created.answer, counts: { total: message.length, completed: created.ids.length } };
    },
    // Counts and codes only: items carry beneficiary data.
    { message: 'disbursement call', fields: (message) => ({ items: message.length }) },
    createdAnswer,
  );
  batch(
    'cancel_disbursements',
    'Cancel disbursements',
    'Items need only disbursement_id. All-or-nothing; decrements the envelopes’ received count and amount. Item codes: ' +
      'INVALID_DISBURSEMENT_ID, DISBURSEMENT_ALREADY_CANCELED, DISBURSEMENT_ENVELOPE_ALREADY_CANCELED, ' +
      'DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED; header INVALID_DISBURSEMENT_PAYLOAD.',
    cancelDisbursements,
    (tx, items) => programsOfDisbursements(tx, idsOf(items)),
    'cancel_disbursements',
  );

  pbmsRead<string[], unknown>(
    app,
    {
      action: 'get_disbursement_status',
      tag: 'G2P Bridge Disbursement Status',
      summary: 'Reconciliation status of disbursements',
      description:
        'The message is a list of disbursement ids. Per id: its recon record (0 or 1) and error recons (0..n), ' +
        'plus lifecycle_status and lifecycle_reason.',
      message: { type: 'array', items: { type: 'string', maxLength: 200 } },
      response: g2pResponseSchema(disbursementStatusOutSchema),
    },
    async (ids, caller) => {
      if (caller.programs) requirePrograms(caller, await programsOfDisbursements(ctx.db, ids));
      return { message: await disbursementStatus(ctx.db, ctx, ids), counts: { total: ids.length } };
    },
  );
};
