import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Fields that may carry beneficiary data and are never logged: request and response bodies, and what a
 * database error can hold of the row (its query parameters, PostgreSQL's detail "Failing row contains ...").
 */
const NEVER_LOGGED = [
  'body',
  'params',
  'parameters',
  'values',
  'queryOptions',
  'detail',
  'where',
  'internalQuery',
];

/** pino's error serializer without the value-carrying fields, on the error and on its causes. */
function errorSerializer(error: Error): Record<string, unknown> {
  const out = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  if (out === null || typeof out !== 'object') return out;
  const pending = [out];
  while (pending.length) {
    const item = pending.pop()!;
    for (const key of NEVER_LOGGED) delete item[key];
    const cause = item.cause;
    if (cause && typeof cause === 'object') pending.push(cause as Record<string, unknown>);
  }
  return out;
}

/** Structured JSON logs. Tokens are redacted; request and response bodies and SQL parameters are never logged
 * (beneficiary PII). Standard output unless another destination is given. */
export function createLogger(level: string, name = 'g2p-bridge', destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name,
    level,
    serializers: { err: errorSerializer, error: errorSerializer },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'req.body',
        'res.body',
        'body',
        'request.body',
      ],
      remove: true,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
