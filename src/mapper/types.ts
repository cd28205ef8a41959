// The ID-account mapper as the pipeline sees it: beneficiary ids in, financial addresses out.

import type { FaType } from '../config/fa-patterns.js';

export type { FaType };

/** A financial address split into its parts (which parts are set depends on the type). */
export interface FinancialAddress {
  faType: FaType;
  accountNumber?: string;
  bankCode?: string;
  branchCode?: string;
  mobileNumber?: string;
  walletProvider?: string;
  emailAddress?: string;
  emailWalletProvider?: string;
}

export interface ResolveItem {
  /** Our key for the item (the disbursement id); answers are matched by it, never by position. */
  referenceId: string;
  beneficiaryId: string;
}

export type ResolveOutcome =
  | {
      referenceId: string;
      beneficiaryId: string;
      resolved: true;
      fa: string;
      address: FinancialAddress;
      name?: string;
    }
  | { referenceId: string; beneficiaryId: string; resolved: false; reason: string };

/** Thrown for transport failures (timeout, refused, HTTP 5xx, malformed answer): the whole batch is retried. */
export class MapperTransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'MapperTransportError';
  }
}

export interface MapperClient {
  /** One resolve call for the whole batch. Items the mapper does not know come back unresolved with a reason. */
  resolve(items: ResolveItem[]): Promise<ResolveOutcome[]>;
}
