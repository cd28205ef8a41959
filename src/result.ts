// One shape for results that can fail without throwing (docs/decisions.md, record 021): `ok` says which, a
// failure names its code (`errorCode`) and may say more for people (`message`, never beneficiary data).
// Business rejections that must roll back a transaction are thrown instead (Rejection, src/g2p/message.ts);
// the bank connector's `status` results are a published contract and keep their own shape.

export interface Failure<Code extends string = string> {
  ok: false;
  errorCode: Code;
  message?: string;
}

export type Result<Value extends object = object, Code extends string = string> =
  | ({ ok: true } & Value)
  | Failure<Code>;
