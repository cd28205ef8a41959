import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SPEC, ConfigError, loadConfig } from '../src/config/index.js';

describe('configuration', () => {
  it('has working defaults for everything', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8000);
    expect(config.DATA_DIR).toBe('./data');
    expect(config.AUTH_MODE).toBe('jwt');
    expect(config.DATABASE_URL).toBeUndefined();
    expect(loadConfig({ TIME_ZONE: 'Africa/Nairobi' }).TIME_ZONE).toBe('Africa/Nairobi');
  });

  it('reports every bad value at once, by name', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        AUTH_MODE: 'maybe',
        DISBURSEMENT_SLA_DAYS: '-1',
        TIME_ZONE: 'Mars/Olympus',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/PORT must be a whole number/);
      expect(message).toMatch(/AUTH_MODE must be one of jwt, none/);
      expect(message).toMatch(/DISBURSEMENT_SLA_DAYS must be at least 0/);
      expect(message).toMatch(/TIME_ZONE must be an IANA time zone/);
    }
  });

  it('documents every variable in docs/configuration.md', () => {
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    const missing = Object.keys(CONFIG_SPEC).filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
