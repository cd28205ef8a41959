import type { AppContext } from '../api/context.js';
import { pbmsChange, pbmsRead } from '../api/pbms-route.js';
import type { Feature } from '../api/server.js';
import type { Queryable } from '../db/index.js';
import { g2pResponseSchema } from '../envelopes/schemas.js';
import { disbursementListOutSchema, disbursementListSchema, disbursementStatusOutSchema } from './schemas.js';
import {
  cancelDisbursements,
  createDisbursements,
  type DisbursementPayload,
  disbursementStatus,
} from './service.js';

const TAG = 'G2P Bridge Disbursement Envelope';

/** create_disbursements, cancel_disbursements, get_disbursement_status (role pbms). */
export const disbursementRoutes: Feature = (app, ctx: AppContext) => {
  const batch = (
    action: string,
    summary: string,
    description: string,
    apply: (tx: Queryable, c: AppContext, items: DisbursementPayload[]) => Promise<unknown[]>,
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
      async (tx, message) => {
        const items = await apply(tx, ctx, message);
        return { message: items, counts: { total: message.length, completed: items.length } };
      },
      // Counts and codes only: items carry beneficiary data.
      { message: 'disbursement call', fields: (message) => ({ items: message.length }) },
    );

  batch(
    'create_disbursements',
    'Create disbursements (one batch)',
    'All items must belong to one envelope; all-or-nothing. Every item carries its own response_error_codes. ' +
      'Codes: MULTIPLE_ENVELOPES_FOUND, DISBURSEMENT_ENVELOPE_NOT_FOUND, DISBURSEMENT_ENVELOPE_ALREADY_CANCELED, ' +
      'INVALID_DISBURSEMENT_ENVELOPE_ID, INVALID_BENEFICIARY_ID, INVALID_BENEFICIARY_NAME, INVALID_NARRATIVE, ' +
      'INVALID_DISBURSEMENT_AMOUNT, INVALID_DISBURSEMENT_ID, DUPLICATE_DISBURSEMENT (items); header: the envelope code, ' +
      'INVALID_DISBURSEMENT_PAYLOAD, NO_OF_DISBUESEMENTS_EXCEEDS_DECLARED, TOTAL_DISBURSEMENT_AMOUNT_EXCEEDS_DECLARED, ' +
      'rjct.total_count.limit_exceeded.',
    createDisbursements,
  );
  batch(
    'cancel_disbursements',
    'Cancel disbursements',
    'Items need only disbursement_id. All-or-nothing; decrements the envelopes’ received count and amount. Item codes: ' +
      'INVALID_DISBURSEMENT_ID, DISBURSEMENT_ALREADY_CANCELED, DISBURSEMENT_ENVELOPE_ALREADY_CANCELED, ' +
      'DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED; header INVALID_DISBURSEMENT_PAYLOAD.',
    cancelDisbursements,
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
    async (ids) => ({
      message: await disbursementStatus(ctx.db, ctx, ids),
      counts: { total: ids.length },
    }),
  );
};
