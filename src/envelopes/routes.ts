import type { Feature } from '../feature/context.js';
import { type AppContext, requirePrograms } from '../feature/context.js';
import { pbmsChange, pbmsRead } from '../feature/pbms-route.js';
import {
  envelopeOutSchema,
  envelopePayloadSchema,
  envelopeStatusOutSchema,
  g2pResponseSchema,
} from './schemas.js';
import {
  amendEnvelope,
  cancelEnvelope,
  createEnvelope,
  type EnvelopePayload,
  envelopeStatus,
  programsOfEnvelopes,
} from './service.js';

const TAG = 'G2P Bridge Disbursement Envelope';
const STATUS_TAG = 'G2P Bridge Disbursement Envelope Status';

type EnvelopeChange = typeof createEnvelope;

/** create / amend / cancel envelope and envelope status: the PBMS calls (role pbms). */
export const envelopeRoutes: Feature = (app, ctx: AppContext) => {
  const change = (action: string, summary: string, description: string, apply: EnvelopeChange) =>
    pbmsChange<EnvelopePayload, unknown>(
      app,
      ctx.db,
      {
        action,
        tag: TAG,
        summary,
        description,
        message: envelopePayloadSchema,
        response: g2pResponseSchema(envelopeOutSchema),
      },
      async (tx, message, caller) => ({ message: await apply(tx, ctx, message, caller) }),
      {
        message: 'envelope call',
        fields: (_message, response) => ({
          envelope: (response.message as { disbursement_envelope_id?: string } | null)
            ?.disbursement_envelope_id,
        }),
      },
    );

  change(
    'create_disbursement_envelope',
    'Create a disbursement envelope',
    'Declares one cycle of one program: its control figures (count and total), currency and schedule date. ' +
      'Business errors: rjct with INVALID_PROGRAM_MNEMONIC, INVALID_DISBURSEMENT_FREQUENCY, INVALID_CYCLE_CODE_MNEMONIC, ' +
      'INVALID_NO_OF_BENEFICIARIES, INVALID_NO_OF_DISBURSEMENTS, INVALID_TOTAL_DISBURSEMENT_AMOUNT, ' +
      'INVALID_DISBURSEMENT_CURRENCY_CODE, INVALID_DISBURSEMENT_SCHEDULE_DATE, INVALID_DISBURSEMENT_ENVELOPE_ID.',
    createEnvelope,
  );
  change(
    'amend_disbursement_envelope',
    'Amend a disbursement envelope',
    'Changes frequency, cycle, control figures or schedule date before the schedule date; fields left out keep their value. ' +
      'Business errors: DISBURSEMENT_ENVELOPE_NOT_FOUND, DISBURSEMENT_ENVELOPE_ALREADY_CANCELED, ' +
      'DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED, the create validations, NO_OF_DISBUESEMENTS_EXCEEDS_DECLARED / ' +
      'TOTAL_DISBURSEMENT_AMOUNT_EXCEEDS_DECLARED when below what was already received.',
    amendEnvelope,
  );
  change(
    'cancel_disbursement_envelope',
    'Cancel a disbursement envelope',
    'Cancels the envelope and its disbursements before the schedule date; cannot be undone. Business errors: ' +
      'DISBURSEMENT_ENVELOPE_NOT_FOUND, DISBURSEMENT_ENVELOPE_ALREADY_CANCELED, DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED.',
    cancelEnvelope,
  );

  pbmsRead<string, unknown>(
    app,
    {
      action: 'get_disbursement_envelope_status',
      tag: STATUS_TAG,
      summary: 'Status of a disbursement envelope',
      description:
        'The message is the envelope id. Answers the envelope batch status (1.0.2 shape) plus lifecycle_summary. ' +
        'Business error: DISBURSEMENT_ENVELOPE_NOT_FOUND.',
      message: { type: 'string', maxLength: 200, description: 'The disbursement envelope id.' },
      response: g2pResponseSchema(envelopeStatusOutSchema),
    },
    async (id, caller) => {
      if (caller.programs) requirePrograms(caller, await programsOfEnvelopes(ctx.db, [id]));
      return { message: await envelopeStatus(ctx.db, id) };
    },
  );
};
