import "server-only";

import { handleAccountUpdated } from "./handle-account-updated";
import { handleBankPayout } from "./handle-bank-payout";
import { handleChargeDisputeClosed } from "./handle-charge-dispute-closed";
import { handleChargeDisputeCreated } from "./handle-charge-dispute-created";
import { handleChargeDisputeUpdated } from "./handle-charge-dispute-updated";
import { handleChargeRefunded } from "./handle-charge-refunded";
import { handleRefundEvent } from "./handle-refund-event";
import { handleTransferReversed } from "./handle-transfer-reversed";
import type { TRelevantStripeEvent } from "./relevant-events";
import type { TStripeHandler, TStripeHandlerInput } from "./types";

/** One handler per relevant event type; the type makes a missing or extra one a compile error. */
const STRIPE_EVENT_HANDLERS: { [T in TRelevantStripeEvent]: TStripeHandler<T> } = {
  "charge.dispute.created": handleChargeDisputeCreated,
  "charge.dispute.updated": handleChargeDisputeUpdated,
  "charge.dispute.closed": handleChargeDisputeClosed,
  "charge.refunded": handleChargeRefunded,
  "charge.refund.updated": handleRefundEvent,
  "refund.created": handleRefundEvent,
  "refund.updated": handleRefundEvent,
  "refund.failed": handleRefundEvent,
  "transfer.reversed": handleTransferReversed,
  "account.updated": handleAccountUpdated,
  "payout.paid": handleBankPayout,
  "payout.failed": handleBankPayout,
  "payout.canceled": handleBankPayout,
};

export function handleStripeEvent<T extends TRelevantStripeEvent>(type: T, input: TStripeHandlerInput<T>) {
  const handler: TStripeHandler<T> = STRIPE_EVENT_HANDLERS[type];
  return handler(input);
}
