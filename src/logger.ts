import pino, { type Logger } from 'pino';

/** Structured JSON logs. Tokens are redacted; request and response bodies are never logged (beneficiary PII). */
export function createLogger(level: string, name = 'g2p-bridge'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
      remove: true,
    },
  });
}
