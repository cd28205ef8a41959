// The ID-account mapper as the pipeline uses it. See docs/mapper.md.
import type { Logger } from 'pino';
import { readEnv } from '../config/env.js';
import { CONFIG_SPEC } from '../config/index.js';
import { createMapperClient } from './client.js';
import type { MapperClient } from './types.js';

export { createMapperClient, type MapperClientOptions, resolveEndpoint } from './client.js';
export {
  compileFaPattern,
  DEFAULT_FA_PATTERN_SOURCES,
  DEFAULT_FA_PATTERNS,
  FA_GROUPS,
  FA_TYPES,
  type FaPattern,
  parseFaPatternsConfig,
  parseFinancialAddress,
} from './fa.js';
export * from './types.js';

const MAPPER_SPEC = {
  PORT: CONFIG_SPEC.PORT,
  MAPPER_URL: CONFIG_SPEC.MAPPER_URL,
  MAPPER_TIMEOUT_MS: CONFIG_SPEC.MAPPER_TIMEOUT_MS,
  MAPPER_SENDER_ID: CONFIG_SPEC.MAPPER_SENDER_ID,
  MAPPER_TOKEN: CONFIG_SPEC.MAPPER_TOKEN,
  MAPPER_FA_PATTERNS: CONFIG_SPEC.MAPPER_FA_PATTERNS,
};

/** The URL the bridge resolves against: MAPPER_URL, else the simulator that `start` serves under /mapper. */
export function mapperUrl(settings: { MAPPER_URL?: string; PORT: number }): string {
  return settings.MAPPER_URL ?? `http://127.0.0.1:${settings.PORT}/mapper`;
}

/** Builds the resolve client from the environment; throws ConfigError for invalid mapper settings. */
export function createMapperClientFromEnv(
  env: Record<string, string | undefined>,
  log: Logger,
): MapperClient {
  const settings = readEnv(MAPPER_SPEC, env);
  return createMapperClient({
    url: mapperUrl(settings),
    timeoutMs: settings.MAPPER_TIMEOUT_MS,
    patterns: settings.MAPPER_FA_PATTERNS,
    senderId: settings.MAPPER_SENDER_ID,
    token: settings.MAPPER_TOKEN,
    log,
  });
}
