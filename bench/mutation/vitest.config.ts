// The test files the mutation run uses: those that exercise the reconciliation, disburse, idempotency and
// money modules. Stryker runs only the tests that cover each mutant (coverageAnalysis perTest).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/money.test.ts',
      'test/guards/*.test.ts',
      'test/api/ingest.test.ts',
      'test/api/retention.test.ts',
      'test/pipeline/stages.test.ts',
      'test/pipeline/partial-refusals.test.ts',
      'test/pipeline/recon-money.test.ts',
      'test/pipeline/recon-display.test.ts',
      'test/pipeline/recon-chunks.test.ts',
    ],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
