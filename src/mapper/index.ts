// The ID-account mapper as the pipeline uses it. See docs/mapper.md.
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { createMapperClient } from './client.js';
import type { MapperClient } from './types.js';

export { createMapperClient, type MapperClientOptions, resolveEndpoint } from './client.js';
// Financial addresses: the parser and the patterns it uses (fa.ts re-exports those from config/).
export * from './fa.js';
export * from './types.js';

/** The settings the resolve client is built from (parsed once, by the command that starts the process). */
export type MapperSettings = Pick<
  Config,
  'PORT' | 'MAPPER_URL' | 'MAPPER_TIMEOUT_MS' | 'MAPPER_SENDER_ID' | 'MAPPER_TOKEN' | 'MAPPER_FA_PATTERNS'
>;

/** The URL the bridge resolves against: MAPPER_URL, else the simulator that `start` serves under /mapper. */
export function mapperUrl(settings: Pick<Config, 'MAPPER_URL' | 'PORT'>): string {
  return settings.MAPPER_URL ?? `http://127.0.0.1:${settings.PORT}/mapper`;
}

/** Builds the resolve client from the parsed configuration. */
export function mapperClientFromConfig(
  settings: MapperSettings,
  log: Logger,
  now?: () => Date,
): MapperClient {
  return createMapperClient({
    url: mapperUrl(settings),
    timeoutMs: settings.MAPPER_TIMEOUT_MS,
    patterns: settings.MAPPER_FA_PATTERNS,
    senderId: settings.MAPPER_SENDER_ID,
    token: settings.MAPPER_TOKEN,
    log,
    ...(now ? { now } : {}),
  });
}
