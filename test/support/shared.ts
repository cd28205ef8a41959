// The reference material beside the checkout (../shared: specs, XSDs, the MT940 corpus). Tests that need it
// find it here, and skip with a message where a checkout has none.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** G2P_SHARED_DIR, else ../shared beside the checkout, else /work/shared; undefined when none exists. */
export function sharedDir(): string | undefined {
  const candidates = [
    process.env.G2P_SHARED_DIR,
    resolve(import.meta.dirname, '../../../shared'),
    '/work/shared',
  ];
  return candidates.find((dir): dir is string => Boolean(dir) && existsSync(dir!));
}

/** A file of the shared folder, e.g. `spec/iso20022/pain.001.001.03.xsd`, or undefined when it is not there. */
export function sharedFile(relative: string): string | undefined {
  const dir = sharedDir();
  const file = dir ? join(dir, relative) : undefined;
  return file && existsSync(file) ? file : undefined;
}
