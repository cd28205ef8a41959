// Tests that need something from outside the checkout (Debian's Chromium, the MT940 corpus in ../shared)
// skip where it is missing, so a fresh clone runs green. CI must not: there a missing prerequisite would
// silently turn a whole suite off, so with CI=true or G2P_REQUIRE_ALL=1 it fails instead.
import { describe, it } from 'vitest';

/** Whether this run must have every prerequisite (CI, or a developer asking for it). */
export function requireAll(env: Record<string, string | undefined> = process.env): boolean {
  return env.CI === 'true' || env.G2P_REQUIRE_ALL === '1';
}

/**
 * For `describe.skipIf` / `it.skipIf`: true when `what` is missing and the suite should be skipped. When the
 * run requires every prerequisite, a failing test naming what is missing is registered in the suite's place.
 */
export function skipWithout(available: boolean, what: string, hint: string): boolean {
  if (available) return false;
  if (requireAll()) {
    describe(`prerequisite: ${what}`, () => {
      it('is present', () => {
        throw new Error(
          `${what} is missing and this run requires it (CI=true or G2P_REQUIRE_ALL=1): ${hint}`,
        );
      });
    });
  }
  return true;
}
