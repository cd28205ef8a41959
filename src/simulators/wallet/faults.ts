// Failure controls for the bridge's retry and recovery paths: the provider down for N calls, batches refused
// outright or taken with the answer lost, callbacks lost, slowed down or sent twice. Driven from code
// (`sim.faults`) or over HTTP (POST /admin/faults).
import { Sleepers } from '../sleepers.js';

/** HTTP statuses a refused batch may be answered with (the spec's error answers). */
export const REFUSAL_STATUSES = [400, 401, 404, 500, 503] as const;
export type RefusalStatus = (typeof REFUSAL_STATUSES)[number];

export interface WalletFaultState {
  /** GSMA API calls still to answer 503 serviceUnavailable. */
  downFor: number;
  /** POST /batchtransactions calls still to refuse, and with which status. */
  refuseBatches: number;
  refuseStatus: RefusalStatus;
  /** POST /batchtransactions calls still to take (batch stored) and then answer 500: the answer is lost. */
  loseAnswers: number;
  /** Callbacks still to drop without sending. */
  loseCallbacks: number;
  /** Callbacks still to send twice. */
  duplicateCallbacks: number;
  /** Every callback waits this long before it is sent. */
  callbackDelayMs: number;
}

const count = (n: number, what: string) => {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what} needs a whole number of calls`);
  return n;
};

export class WalletFaults {
  private s: WalletFaultState = WalletFaults.none();
  private readonly sleepers = new Sleepers();

  private static none(): WalletFaultState {
    return {
      downFor: 0,
      refuseBatches: 0,
      refuseStatus: 503,
      loseAnswers: 0,
      loseCallbacks: 0,
      duplicateCallbacks: 0,
      callbackDelayMs: 0,
    };
  }

  /** The next `n` calls of the GSMA API (any route but /oauth/token) answer 503 (0 ends it). */
  down(n: number): void {
    this.s.downFor = count(n, 'down');
  }

  /** The next `n` batches are refused with `status` and nothing is stored. */
  refuseBatches(n: number, status: RefusalStatus = 503): void {
    if (!REFUSAL_STATUSES.includes(status))
      throw new RangeError(`status must be one of ${REFUSAL_STATUSES.join(', ')}`);
    this.s.refuseBatches = count(n, 'refuseBatches');
    this.s.refuseStatus = status;
  }

  /** The next `n` batches are taken and processed, but their answer is a 500: the client must recover. */
  loseAnswers(n: number): void {
    this.s.loseAnswers = count(n, 'loseAnswers');
  }

  loseCallbacks(n: number): void {
    this.s.loseCallbacks = count(n, 'loseCallbacks');
  }

  duplicateCallbacks(n: number): void {
    this.s.duplicateCallbacks = count(n, 'duplicateCallbacks');
  }

  callbackDelay(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0) throw new RangeError('callbackDelay needs whole milliseconds');
    this.s.callbackDelayMs = ms;
  }

  reset(): void {
    this.s = WalletFaults.none();
    this.sleepers.wakeAll();
  }

  state(): WalletFaultState {
    return { ...this.s };
  }

  /** Consumes one armed failure of `kind`; true when the current call must fail that way. */
  take(kind: 'downFor' | 'refuseBatches' | 'loseAnswers' | 'loseCallbacks' | 'duplicateCallbacks'): boolean {
    if (this.s[kind] === 0) return false;
    this.s[kind]--;
    return true;
  }

  get refuseStatus(): RefusalStatus {
    return this.s.refuseStatus;
  }

  get callbackDelayMs(): number {
    return this.s.callbackDelayMs;
  }

  /** Waits `ms`, or less when the faults are reset or the simulator stops. */
  wait(ms: number): Promise<void> {
    return this.sleepers.sleep(ms);
  }

  wakeAll(): void {
    this.sleepers.wakeAll();
  }
}
