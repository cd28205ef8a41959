// The example bank's random source. Each payment's fate is drawn from a generator seeded with
// (EXAMPLE_BANK_SEED, payment reference), so a run is reproducible whatever order or batch size the
// payments are processed in.

/** FNV-1a over UTF-16 code units: a stable 32-bit hash of a string. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a small, fast, well-mixed 32-bit generator; returns numbers in [0, 1). */
export function seededRandom(seed: string): () => number {
  let state = fnv1a(seed);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator for one key under a run's seed. */
export function randomFor(seed: string, key: string): () => number {
  return seededRandom(`${seed}\u0000${key}`);
}
