import type { AppContext } from '../api/context.js';
import { type G2pRequest, g2pRequestSchema, successResponse } from '../api/g2p.js';
import { answer, idempotent } from '../api/idempotency.js';
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
    path: string,
    summary: string,
    description: string,
    apply: (tx: Queryable, c: AppContext, items: DisbursementPayload[]) => Promise<unknown[]>,
  ) => {
    const action = path.slice(1);
    app.post(
      path,
      {
        config: { roles: ['pbms'] },
        schema: {
          tags: [TAG],
          summary,
          description,
          body: g2pRequestSchema(disbursementListSchema),
          response: { 200: g2pResponseSchema(disbursementListOutSchema) },
        },
      },
      async (request) => {
        const { header, message } = request.body as G2pRequest<DisbursementPayload[]>;
        const response = await answer(header, action, () =>
          idempotent(ctx.db, header, action, message, async (tx) => {
            const items = await apply(tx, ctx, message);
            return successResponse(header, action, items, { total: message.length, completed: items.length });
          }),
        );
        // Counts and codes only: items carry beneficiary data.
        request.log.info(
          {
            action,
            items: message.length,
            status: response.header.status,
            code: response.header.status_reason_code,
          },
          'disbursement call',
        );
        return response;
      },
    );
  };

  batch(
    '/create_disbursements',
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
    '/cancel_disbursements',
    'Cancel disbursements',
    'Items need only disbursement_id. All-or-nothing; decrements the envelopes’ received count and amount. Item codes: ' +
      'INVALID_DISBURSEMENT_ID, DISBURSEMENT_ALREADY_CANCELED, DISBURSEMENT_ENVELOPE_ALREADY_CANCELED, ' +
      'DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED; header INVALID_DISBURSEMENT_PAYLOAD.',
    cancelDisbursements,
  );

  app.post(
    '/get_disbursement_status',
    {
      config: { roles: ['pbms'] },
      schema: {
        tags: ['G2P Bridge Disbursement Status'],
        summary: 'Reconciliation status of disbursements',
        description:
          'The message is a list of disbursement ids. Per id: its recon record (0 or 1) and error recons (0..n), ' +
          'plus lifecycle_status and lifecycle_reason.',
        body: g2pRequestSchema({ type: 'array', items: { type: 'string', maxLength: 200 } }),
        response: { 200: g2pResponseSchema(disbursementStatusOutSchema) },
      },
    },
    async (request) => {
      const { header, message } = request.body as G2pRequest<string[]>;
      const action = 'get_disbursement_status';
      return answer(header, action, async () =>
        successResponse(header, action, await disbursementStatus(ctx.db, ctx, message), {
          total: message.length,
        }),
      );
    },
  );
};
