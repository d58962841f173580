import "server-only";

import type Stripe from "stripe";

/** Stripe's limit on idempotency keys. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Metadata on every payout transfer; `payoutId` is how an unknown outcome is settled. */
export type TTransferMetadata = Record<string, string> & { payoutId: string };

export type TCreateTransferInput = {
  /** Minor units, a positive integer. */
  amount: number;
  /** ISO code in any case; Stripe wants lowercase. */
  currency: string;
  /** The provider's connected account, acct_… */
  destination: string;
  transferGroup: string;
  /** The charge (ch_…) that funds the transfer: accepted while its funds are pending, settled with them. */
  sourceTransaction?: string | null;
  metadata: TTransferMetadata;
  idempotencyKey: string;
};

export type TCreateReversalInput = {
  transferId: string;
  /** Minor units; must not exceed what is left unreversed on the transfer. */
  amount: number;
  idempotencyKey: string;
  metadata?: Record<string, string>;
};

export type TAccountReadiness = {
  accountId: string;
  payoutsEnabled: boolean;
  /** The `transfers` capability is active: the account can receive transfers. */
  transfersActive: boolean;
  /** Why Stripe disabled the account, if it did (requirements.disabled_reason). */
  disabledReason: string | null;
};

function checkKeyPart(name: string, value: string): void {
  if (value.trim() === "" || value !== value.trim()) {
    throw new RangeError(`${name} must be a non-empty string without surrounding spaces.`);
  }
}

function checkKey(key: string): string {
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new RangeError(`Idempotency key is ${key.length} characters; Stripe allows ${MAX_IDEMPOTENCY_KEY_LENGTH}.`);
  }
  return key;
}

/**
 * The idempotency key of a payout's transfer: the same for every retry of the same amount
 * version, so Stripe creates at most one transfer for it. `refusals` counts earlier
 * attempts at this amount version that Stripe definitely refused with an answer it stores
 * under the key (insufficient platform balance): Stripe would replay that refusal for 24 h,
 * so the retry needs a new key, which is safe because that request created nothing.
 */
export function transferIdempotencyKey(payoutId: string, amountVersion: number, refusals = 0, leg = 1): string {
  checkKeyPart("payoutId", payoutId);
  if (!Number.isSafeInteger(amountVersion) || amountVersion < 0) {
    throw new RangeError("amountVersion must be a non-negative integer.");
  }
  if (!Number.isSafeInteger(refusals) || refusals < 0) throw new RangeError("refusals must be a non-negative integer.");
  if (!Number.isSafeInteger(leg) || leg < 1) throw new RangeError("leg must be a positive integer.");
  return checkKey(`payout:${payoutId}:v${amountVersion}${leg > 1 ? `:l${leg}` : ""}${refusals > 0 ? `:r${refusals}` : ""}`);
}

/** The idempotency key of the repayment of a failed refund's step: at most one per step. */
/**
 * A repayment's key; after Stripe refused it (`refusals` > 0, a refusal stored under the earlier
 * key would only be replayed) a new one, so a try after the cause is gone (funds, an account) is
 * processed afresh. A refused request made no transfer, so a new key cannot pay twice.
 */
export function repaymentIdempotencyKey(chargeRefundId: string, refusals = 0): string {
  checkKeyPart("chargeRefundId", chargeRefundId);
  return checkKey(refusals > 0 ? `repayment:${chargeRefundId}:r${refusals}` : `repayment:${chargeRefundId}`);
}

/**
 * The idempotency key of a reversal: one per claim (a dispute, a refund step) and reversed transfer.
 * The first transfer's keeps the original form, `reversal:dispute:<id>`; the payout's other
 * transfers add `:l<leg>`, and its repayments (numbered from 1 on their own) `:rp<leg>`.
 */
export function reversalIdempotencyKey(disputeId: string, leg = 1, kind: "payout" | "repayment" = "payout"): string {
  checkKeyPart("disputeId", disputeId);
  const suffix = kind === "repayment" ? `:rp${leg}` : leg > 1 ? `:l${leg}` : "";
  return checkKey(`reversal:dispute:${disputeId}${suffix}`);
}

/** The transfer, with `lastResponse.requestId` / `lastResponse.headers["idempotent-replayed"]` for the attempt log. */
export async function createTransfer(stripe: Stripe, input: TCreateTransferInput): Promise<Stripe.Response<Stripe.Transfer>> {
  return stripe.transfers.create(
    {
      amount: input.amount,
      currency: input.currency.toLowerCase(),
      destination: input.destination,
      transfer_group: input.transferGroup,
      ...(input.sourceTransaction ? { source_transaction: input.sourceTransaction } : {}),
      metadata: input.metadata,
    },
    { idempotencyKey: input.idempotencyKey },
  );
}

/** One of a payout's planned transfers, as a look-up at Stripe recognises it. */
export type TTransferToFind = {
  leg: number;
  amountVersion: number;
  /** Minor units of `currency`, as planned. */
  amount: number;
  currency: string;
};

export type TTransfersOfPayout<T extends TTransferToFind> = {
  /** The transfer Stripe made for each leg looked for, when it has one. */
  found: Map<T, Stripe.Transfer>;
  /**
   * The payout's other transfers at Stripe (its id in their metadata, not repayments, not in
   * `exclude`): made for none of the legs looked for, or a second one for a leg. Never to be passed over.
   */
  unmatched: Stripe.Transfer[];
};

/**
 * Whether Stripe made `transfer` for `leg`: its metadata names the leg (a transfer made before
 * payouts had several names none: it is the first) and the amount version (when it names one),
 * and it moved the leg's amount in the leg's currency. A transfer made for another amount of the
 * payout under the same leg number is not the leg's.
 */
export function isTransferForLeg(transfer: Pick<Stripe.Transfer, "amount" | "currency" | "metadata">, leg: TTransferToFind): boolean {
  const metadata = transfer.metadata ?? {};
  return (
    (metadata.leg ?? "1") === String(leg.leg) &&
    (metadata.amountVersion === undefined || metadata.amountVersion === String(leg.amountVersion)) &&
    transfer.amount === leg.amount &&
    transfer.currency.toLowerCase() === leg.currency.toLowerCase()
  );
}

/**
 * The transfers Stripe made for some of a payout's planned transfers (`legs`), and the payout's
 * transfers that none of them explains: lists the transfer group once (all pages), keeps those whose
 * `metadata.payoutId` is the payout, leaves out repayments and transfers already recorded
 * (`exclude`), and matches each to a leg with isTransferForLeg. Used to settle an attempt whose
 * outcome is unknown (timeout, 5xx, a retry answered 429, a crash) and before a plan changes.
 * Stripe lists newest first, so with several matches for one leg (which would be a bug) the newest
 * is the leg's and the others are unmatched.
 */
export async function findTransfersForPayout<T extends TTransferToFind>(
  stripe: Stripe,
  input: { transferGroup: string; payoutId: string; legs: readonly T[]; exclude?: ReadonlySet<string> },
): Promise<TTransfersOfPayout<T>> {
  const found = new Map<T, Stripe.Transfer>();
  const unmatched: Stripe.Transfer[] = [];
  for await (const transfer of stripe.transfers.list({ transfer_group: input.transferGroup, limit: 100 })) {
    const metadata = transfer.metadata ?? {};
    if (metadata.payoutId !== input.payoutId || metadata.repaymentOf) continue;
    if (input.exclude?.has(transfer.id)) continue;
    const leg = input.legs.find((l) => !found.has(l) && isTransferForLeg(transfer, l));
    if (leg) found.set(leg, transfer);
    else unmatched.push(transfer);
  }
  return { found, unmatched };
}

/** The transfer Stripe made for one of a payout's planned transfers, if any (findTransfersForPayout). */
export async function findTransferForPayout(
  stripe: Stripe,
  input: { transferGroup: string; payoutId: string; leg: TTransferToFind; exclude?: ReadonlySet<string> },
): Promise<Stripe.Transfer | null> {
  const { found } = await findTransfersForPayout(stripe, { ...input, legs: [input.leg] });
  return found.get(input.leg) ?? null;
}

/** The repayment made for a failed refund's step (`metadata.repaymentOf`), if any. */
export async function findRepaymentFor(
  stripe: Stripe,
  input: { transferGroup: string; chargeRefundId: string },
): Promise<Stripe.Transfer | null> {
  for await (const transfer of stripe.transfers.list({ transfer_group: input.transferGroup, limit: 100 })) {
    if (transfer.metadata?.repaymentOf === input.chargeRefundId) return transfer;
  }
  return null;
}

export async function createTransferReversal(
  stripe: Stripe,
  input: TCreateReversalInput,
): Promise<Stripe.Response<Stripe.TransferReversal>> {
  return stripe.transfers.createReversal(
    input.transferId,
    { amount: input.amount, ...(input.metadata ? { metadata: input.metadata } : {}) },
    { idempotencyKey: input.idempotencyKey },
  );
}

/**
 * The reversal of `transferId` made for our TransferReversal `reversalId` (its metadata), if
 * any. Stripe keeps idempotency keys for 24 hours only: a reversal re-tried after that (Stripe or
 * Inngest down for a day) would be made twice if the key were all that guarded it.
 */
export async function findReversalFor(
  stripe: Stripe,
  input: { transferId: string; reversalId: string },
): Promise<Stripe.TransferReversal | null> {
  for await (const reversal of stripe.transfers.listReversals(input.transferId, { limit: 100 })) {
    if (reversal.metadata?.reversalId === input.reversalId) return reversal;
  }
  return null;
}

export async function retrieveAccountReadiness(stripe: Stripe, accountId: string): Promise<TAccountReadiness> {
  const account = await stripe.accounts.retrieve(accountId);
  return {
    accountId: account.id,
    payoutsEnabled: account.payouts_enabled,
    transfersActive: account.capabilities?.transfers === "active",
    disabledReason: account.requirements?.disabled_reason ?? null,
  };
}
