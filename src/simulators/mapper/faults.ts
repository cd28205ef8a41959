// Failure controls for retry and crash tests: fail the next N calls (HTTP 500, a hang, or a malformed answer)
// and delay every answer. Driven from code (`sim.faults`) or over HTTP (POST .../admin/faults).
import { Sleepers } from '../sleepers.js';

export type FailMode = 'error' | 'hang' | 'malformed';
export const FAIL_MODES: readonly FailMode[] = ['error', 'hang', 'malformed'];

export interface FaultState {
  /** Calls still to fail. */
  failNext: number;
  mode: FailMode;
  /** Added before every answer. */
  delayMs: number;
  /** How long a hanging call waits before it gives up with HTTP 504 (unless the caller leaves first). */
  hangMs: number;
}

export class MapperFaults {
  private failing = 0;
  private mode: FailMode = 'error';
  private delayMs = 0;
  private hangMs = 120_000;
  private readonly sleepers = new Sleepers();

  /**
   * The next `n` calls fail in the given way (0 cancels): `error` answers HTTP 500, `hang` holds the call
   * (`timeout` is the example bank's name for it and is accepted too), `malformed` answers truncated JSON.
   */
  failNext(n: number, mode: FailMode | 'timeout' = 'error'): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('failNext needs a whole number of calls');
    const m = mode === 'timeout' ? 'hang' : mode;
    if (!FAIL_MODES.includes(m)) throw new RangeError(`mode must be one of ${FAIL_MODES.join(', ')}`);
    this.failing = n;
    this.mode = m;
  }

  /** Every answer waits `ms` first (0 turns it off). */
  delay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('delay needs a non-negative number of ms');
    this.delayMs = ms;
  }

  hangFor(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('hangFor needs a non-negative number of ms');
    this.hangMs = ms;
  }

  reset(): void {
    this.failing = 0;
    this.mode = 'error';
    this.delayMs = 0;
    this.hangMs = 120_000;
    this.releaseAll();
  }

  state(): FaultState {
    return { failNext: this.failing, mode: this.mode, delayMs: this.delayMs, hangMs: this.hangMs };
  }

  /** Consumes one failure, if any is armed: the mode the current call must fail with. */
  take(): FailMode | null {
    if (this.failing === 0) return null;
    this.failing--;
    return this.mode;
  }

  get currentDelayMs(): number {
    return this.delayMs;
  }

  get currentHangMs(): number {
    return this.hangMs;
  }

  /** Calls being delayed or held right now. */
  get waiting(): number {
    return this.sleepers.size;
  }

  /** Waits `ms`, or less when `abandoned` fires or the simulator stops. */
  wait(ms: number, abandoned?: (release: () => void) => void): Promise<void> {
    return this.sleepers.sleep(ms, abandoned);
  }

  /** Ends every pending delay and hang (on stop, so the server can close). */
  releaseAll(): void {
    this.sleepers.wakeAll();
  }
}
