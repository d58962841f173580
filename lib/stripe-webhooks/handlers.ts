import "server-only";

import { handleAccountUpdated } from "./handle-account-updated";
import { handleChargeDisputeClosed } from "./handle-charge-dispute-closed";
import { handleChargeDisputeCreated } from "./handle-charge-dispute-created";
import { handleChargeDisputeUpdated } from "./handle-charge-dispute-updated";
import { handleChargeRefunded } from "./handle-charge-refunded";
import { handleTransferReversed } from "./handle-transfer-reversed";
import type { TRelevantStripeEvent } from "./relevant-events";
import type { TStripeHandler, TStripeHandlerInput } from "./types";

/** One handler per relevant event type; the type makes a missing or extra one a compile error. */
const STRIPE_EVENT_HANDLERS: { [T in TRelevantStripeEvent]: TStripeHandler<T> } = {
  "charge.dispute.created": handleChargeDisputeCreated,
  "charge.dispute.updated": handleChargeDisputeUpdated,
  "charge.dispute.closed": handleChargeDisputeClosed,
  "charge.refunded": handleChargeRefunded,
  "transfer.reversed": handleTransferReversed,
  "account.updated": handleAccountUpdated,
};

export function handleStripeEvent<T extends TRelevantStripeEvent>(type: T, input: TStripeHandlerInput<T>) {
  const handler: TStripeHandler<T> = STRIPE_EVENT_HANDLERS[type];
  return handler(input);
}
