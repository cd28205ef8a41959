// Failure controls: make the next N calls of an operation fail in a chosen way, or slow every answer down,
// so retry and crash tests can drive the bridge through the bank's bad days.
import { Sleepers } from '../sleepers.js';

export const FAULT_OPERATIONS = [
  'check_funds',
  'block_funds',
  'initiate_payment',
  'deliver_statement',
] as const;
export type FaultOperation = (typeof FAULT_OPERATIONS)[number];

/**
 * - `error`: answer HTTP 500 without doing anything.
 * - `timeout`: hold the answer for `delayMs` (default 60 s, or until the bank stops), then answer 503;
 *   a client with a shorter deadline sees a timeout.
 * - `malformed`: answer HTTP 200 with a body that is not JSON, without doing anything.
 * - `error_after_commit`: do the work and commit it, then answer HTTP 500 (the answer is "lost").
 * - `delay`: wait `delayMs`, then behave normally.
 * For deliver_statement every mode but `delay` makes the upload fail before it is sent.
 */
export const FAULT_MODES = ['error', 'timeout', 'malformed', 'error_after_commit', 'delay'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface Fault {
  mode: FaultMode;
  delayMs: number;
}

interface Pending {
  mode: FaultMode;
  remaining: number;
  delayMs: number;
}

const DEFAULT_HOLD_MS = 60_000;

export class Faults {
  private readonly pending = new Map<FaultOperation, Pending[]>();
  private readonly latency = new Map<FaultOperation, number>();
  private readonly sleepers = new Sleepers();

  /** The next `count` calls of `operation` fail with `mode` (queued after faults already set). */
  failNext(
    operation: FaultOperation,
    count: number,
    mode: FaultMode = 'error',
    options: { delayMs?: number } = {},
  ) {
    if (!FAULT_OPERATIONS.includes(operation)) throw new Error(`unknown operation ${operation}`);
    if (!FAULT_MODES.includes(mode)) throw new Error(`unknown fault mode ${mode}`);
    if (!Number.isInteger(count) || count < 1) throw new Error('count must be a positive whole number');
    const delayMs = options.delayMs ?? (mode === 'timeout' ? DEFAULT_HOLD_MS : 0);
    const queue = this.pending.get(operation) ?? [];
    queue.push({ mode, remaining: count, delayMs });
    this.pending.set(operation, queue);
  }

  /** Every answer of `operation` (or of all operations) waits `ms` first; 0 removes the delay. */
  setLatency(operation: FaultOperation | '*', ms: number) {
    if (!Number.isInteger(ms) || ms < 0) throw new Error('latency must be a whole number of milliseconds');
    for (const op of operation === '*' ? FAULT_OPERATIONS : [operation]) {
      if (ms === 0) this.latency.delete(op);
      else this.latency.set(op, ms);
    }
  }

  /** Consumes the next fault of `operation`, if any. */
  take(operation: FaultOperation): Fault | null {
    const queue = this.pending.get(operation);
    const head = queue?.[0];
    if (!queue || !head) return null;
    head.remaining--;
    if (head.remaining === 0) queue.shift();
    return { mode: head.mode, delayMs: head.delayMs };
  }

  latencyOf(operation: FaultOperation): number {
    return this.latency.get(operation) ?? 0;
  }

  /** Removes every pending fault and delay, and wakes up answers being held. */
  clear() {
    this.pending.clear();
    this.latency.clear();
    this.wakeAll();
  }

  snapshot() {
    return {
      pending: Object.fromEntries(
        [...this.pending].map(([op, q]) => [
          op,
          q.map((p) => ({ mode: p.mode, count: p.remaining, delay_ms: p.delayMs })),
        ]),
      ),
      latency_ms: Object.fromEntries(this.latency),
    };
  }

  /** Sleeps `ms`, or less if the bank stops or the faults are cleared. */
  sleep(ms: number): Promise<void> {
    return this.sleepers.sleep(ms);
  }

  wakeAll() {
    this.sleepers.wakeAll();
  }
}
