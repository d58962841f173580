import type Stripe from "stripe";

import type { Payout } from "@/generated/prisma/client";
import type { TStripeFailure } from "@/lib/stripe/classify-error";

import type { TIneligibleReason } from "./eligibility";

// The transfer of a payout in steps (lib/payouts/transfer-payout.ts ties them): what the steps
// pass to each other and the limits they share.

/** Attempts per transfer before the payout fails and an admin is alerted (tries Stripe turned away unprocessed do not count). */
export const MAX_TRANSFER_ATTEMPTS = 3;
/** How long a run's claim on a `processing` payout keeps other runs away. */
export const PROCESSING_LEASE_MS = 10 * 60 * 1000;
/**
 * Errors for requests Stripe answered with a refusal (4xx): no transfer was made, and Stripe
 * may store the refusal under the idempotency key and replay it for 24 h. The next try of that
 * transfer needs a new key, or it could never succeed (e.g. after the provider's account gains
 * the transfers capability, or the platform balance is topped up).
 */
export const REFUSAL_ERROR_TYPES: readonly string[] = ["StripeInvalidRequestError", "StripePermissionError", "StripeCardError"];
/** Pause before trying again a transfer Stripe kept turning away unprocessed (rate limits), when Stripe gave no Retry-After. */
export const TURNED_AWAY_RETRY_MS = 30 * 1000;
/**
 * Tries in a row that Stripe turned away unprocessed after which an admin is alerted (about three
 * runs with all their retries). They do not count toward the attempt limit, so without this a
 * transfer Stripe never accepts would be retried for ever with no one told.
 */
export const TURNED_AWAY_ALERT_AFTER = 30;

export type TClaimedLeg = {
  legId: string;
  leg: number;
  /** The amount version it was planned for: a look-up at Stripe matches it (and the amount). */
  amountVersion: number;
  sourceChargeId: string | null;
  amount: number;
  currency: string;
  idempotencyKey: string;
};

export type TClaim = {
  payoutId: string;
  attemptId: string;
  attemptNumber: number;
  amount: number;
  currency: string;
  amountVersion: number;
  destination: string;
  transferGroup: string;
  /** The payout's transfers still to be made, in order (each with its own key). */
  legs: TClaimedLeg[];
  /** Transfers of this payout already recorded (or acknowledged as unexpected): never "found" again for another leg. */
  recordedTransferIds: string[];
  /** Earlier attempts exist: ask Stripe whether one of them went through before sending. */
  lookupFirst: boolean;
  /** Attempts are used up (a crashed run): only look the transfers up, never send. */
  lookupOnly: boolean;
  /**
   * Continuing a claim whose payout is no longer eligible (the booking was cancelled, a dispute
   * opened, while an attempt waited for its retry): look up what earlier attempts made, send nothing.
   */
  stopBecause: TIneligibleReason[] | null;
};

export type TClaimResult =
  | { kind: "claimed"; claim: TClaim }
  /** `stale_legs`: transfers planned for an earlier amount must be looked up at Stripe first (replaceStaleLegs). */
  | {
      kind: "skipped";
      reason: "already_settled" | "not_eligible" | "held" | "in_flight" | "stale_legs";
      status: Payout["status"];
      detail?: string;
    };

/** A transfer Stripe made (its answer, or a look-up), as a leg records it. */
export type TMadeTransfer = Pick<Stripe.Transfer, "id" | "amount" | "currency"> & {
  destination_payment?: Stripe.Transfer["destination_payment"];
};

/** A transfer at Stripe as recorded on a leg or alerted. */
export type TStripeTransferFound = TMadeTransfer & Pick<Stripe.Transfer, "metadata">;

export type TTransferOutcome = {
  /** Transfers Stripe made (now, or found from an earlier attempt), by leg. */
  made: { legId: string; transfer: TMadeTransfer; recovered: boolean }[];
  result:
    | { kind: "succeeded" }
    | { kind: "deferred_for_dispute" }
    | { kind: "stopped"; reasons: TIneligibleReason[] }
    /** A look-up found transfers of the payout that none of its planned transfers explains: nothing more was sent. */
    | { kind: "unexpected_transfers"; transfers: TStripeTransferFound[] }
    /**
     * Checked in the send slot, right before a request went out: the claim is no longer the
     * payout's latest (the sweep or another run took the payout on) or the leg is no longer
     * pending (replaced after an amount change, or paid): nothing more was sent.
     */
    | { kind: "claim_lost"; legId: string; detail: string }
    | { kind: "failed"; legId: string | null; failure: TStripeFailure };
};

export type TTransferResult =
  | { kind: "skipped"; reason: string; status: Payout["status"]; detail?: string }
  | { kind: "transferred"; stripeTransferId: string; attemptNumber: number }
  | { kind: "held_for_dispute" }
  | { kind: "waiting_for_funds"; until: string }
  /** Stripe refused the transfer because the provider's account cannot receive it: held for `provider_account_not_ready`, not counted. */
  | { kind: "held_account_not_ready"; detail: string }
  /** `counted: false`: Stripe turned the attempt away unprocessed; it does not count toward the limit. */
  | { kind: "retry"; attemptNumber: number; delayMs: number | null; error: string; counted: boolean }
  | { kind: "failed"; attemptNumber: number; error: string };
