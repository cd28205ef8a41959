import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Structured JSON logs. Tokens are redacted; request and response bodies are never logged (beneficiary PII).
 * Standard output unless another destination is given. */
export function createLogger(level: string, name = 'g2p-bridge', destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
      remove: true,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
