// Waits a simulator can cut short: injected delays and hangs end early when the caller leaves, the faults are
// cleared or the simulator stops, so tests and shutdowns never sit out a long hold.

export class Sleepers {
  private readonly pending = new Set<() => void>();

  /** Waits in progress right now. */
  get size(): number {
    return this.pending.size;
  }

  /** Waits `ms`, or less when `abandoned` fires its release or `wakeAll` is called. */
  sleep(ms: number, abandoned?: (release: () => void) => void): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer);
        this.pending.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      this.pending.add(release);
      abandoned?.(release);
    });
  }

  wakeAll(): void {
    for (const release of [...this.pending]) release();
  }
}
