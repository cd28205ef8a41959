import type { FastifyError, FastifyInstance } from 'fastify';
import { configuredBankCodes } from '../bank/registry.js';
import type { Feature } from '../feature/context.js';
import { type AppContext, callerOf } from '../feature/context.js';
import {
  ACCOUNT_PATTERN,
  addProgram,
  changeProgram,
  getProgram,
  listPrograms,
  MNEMONIC_PATTERN,
  ProgramError,
  ProgramErrorCode,
  type ProgramInput,
  type ProgramPatch,
  type ProgramRules,
} from './service.js';

const text = (description: string, maxLength = 200) =>
  ({ type: 'string', minLength: 1, maxLength, description }) as const;

const fieldSchemas = {
  benefit_program_name: text('Human-readable program name.'),
  funding_org_code: text('Code of the funding organisation.', 64),
  funding_org_name: text('Name of the funding organisation.'),
  sponsor_bank_code: text('Code of the sponsor bank; selects the bank connector.', 64),
  sponsor_bank_branch_code: {
    type: ['string', 'null'],
    maxLength: 64,
    description: 'Branch of the funding account.',
  },
  sponsor_bank_account_number: {
    type: 'string',
    pattern: ACCOUNT_PATTERN,
    description: 'The funding account (as in MT940 :25:). Unique across programs.',
  },
  sponsor_bank_account_currency: {
    type: 'string',
    minLength: 3,
    maxLength: 3,
    description: 'ISO 4217 code of the account; every envelope of the program must use it.',
  },
  id_mapper_resolution_required: {
    type: 'boolean',
    description:
      'true: beneficiary ids are resolved through the ID-account mapper; false: sent to the bank as they are.',
  },
} as const;

const mnemonicSchema = {
  type: 'string',
  pattern: MNEMONIC_PATTERN,
  description: 'Program key, e.g. CASH-TRANSFER.',
} as const;

const programSchema = {
  type: 'object',
  properties: {
    benefit_program_mnemonic: { type: 'string' },
    ...fieldSchemas,
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string', description: 'Error code, e.g. DUPLICATE_FUNDING_ACCOUNT.' },
    message: { type: 'string' },
    statusCode: { type: 'integer' },
    details: {},
  },
} as const;

const errorResponses = { 400: errorSchema, 404: errorSchema, 409: errorSchema };
const params = {
  type: 'object',
  required: ['mnemonic'],
  properties: { mnemonic: { type: 'string' } },
} as const;

/** Admin API: benefit program configuration under /admin/programs (role admin). */
export const programRoutes: Feature = async (app: FastifyInstance, ctx: AppContext) => {
  const rules: ProgramRules = { bankCodes: configuredBankCodes(ctx.config.BANK_CONNECTORS) };
  await app.register(async (admin) => {
    // Plain REST errors here ({error, message, statusCode}), not the G2P envelope of the PBMS calls.
    admin.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof ProgramError) {
        return reply
          .code(error.statusCode)
          .send({ error: error.code, message: error.message, statusCode: error.statusCode });
      }
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err: error }, 'program request failed');
        return reply.code(500).send({
          error: 'INTERNAL_ERROR',
          message: 'The bridge could not process this request',
          statusCode: 500,
        });
      }
      // Fastify's own codes (FST_ERR_CTP_INVALID_JSON_BODY ...) are not part of the documented API.
      const code =
        error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'REQUEST_TOO_LARGE'
          : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'INVALID_REQUEST';
      return reply.code(status).send({
        error: code,
        message: error.message,
        statusCode: status,
        details: error.validation,
      });
    });

    const base = { tags: ['Admin: benefit programs'], security: [{ bearer: [] }] };

    admin.post(
      '/admin/programs',
      {
        config: { roles: ['admin'] },
        schema: {
          ...base,
          summary: 'Create a benefit program',
          body: {
            type: 'object',
            additionalProperties: false,
            required: [
              'benefit_program_mnemonic',
              'benefit_program_name',
              'funding_org_code',
              'funding_org_name',
              'sponsor_bank_code',
              'sponsor_bank_account_number',
              'sponsor_bank_account_currency',
            ],
            properties: { benefit_program_mnemonic: mnemonicSchema, ...fieldSchemas },
          },
          response: { 201: programSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const program = await addProgram(ctx.db, request.body as ProgramInput, rules, callerOf(request));
        request.log.info({ program: program.benefit_program_mnemonic }, 'benefit program created');
        return reply.code(201).send(program);
      },
    );

    admin.patch(
      '/admin/programs/:mnemonic',
      {
        config: { roles: ['admin'] },
        schema: {
          ...base,
          summary: 'Change some fields of a benefit program',
          params,
          body: { type: 'object', additionalProperties: false, properties: fieldSchemas },
          response: { 200: programSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { mnemonic } = request.params as { mnemonic: string };
        const program = await changeProgram(
          ctx.db,
          mnemonic,
          request.body as ProgramPatch,
          rules,
          callerOf(request),
        );
        request.log.info({ program: mnemonic }, 'benefit program updated');
        return program;
      },
    );

    admin.get(
      '/admin/programs',
      {
        config: { roles: ['admin'] },
        schema: {
          ...base,
          summary: 'List benefit programs',
          response: {
            200: { type: 'object', properties: { programs: { type: 'array', items: programSchema } } },
          },
        },
      },
      async () => ({ programs: await listPrograms(ctx.db) }),
    );

    admin.get(
      '/admin/programs/:mnemonic',
      {
        config: { roles: ['admin'] },
        schema: {
          ...base,
          summary: 'Get a benefit program',
          params,
          response: { 200: programSchema, 404: errorSchema },
        },
      },
      async (request) => {
        const { mnemonic } = request.params as { mnemonic: string };
        const program = await getProgram(ctx.db, mnemonic);
        if (!program)
          throw new ProgramError(ProgramErrorCode.PROGRAM_NOT_FOUND, 404, `No program ${mnemonic}`);
        return program;
      },
    );
  });
};
