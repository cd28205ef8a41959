// The bench's bank connector (bench/statements/large.ts) as a BANK_CONNECTORS module, for `worker` from dist.
export default function createConnector() {
  return {
    bankCode: 'BENCH',
    checkFunds: async () => ({ status: 'FUNDS_AVAILABLE' }),
    blockFunds: async () => ({ status: 'SUCCESS', blockReference: 'BLK-1' }),
    initiatePayment: async () => ({ status: 'SUCCESS' }),
    retrieveDisbursementId: (_b, customerReference) => customerReference,
    retrieveBeneficiaryName: (n) => n[1] ?? null,
    retrieveReversalReason: (n) => n.at(-1) ?? null,
  };
}
