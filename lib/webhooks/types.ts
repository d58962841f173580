import type Stripe from "stripe";

import type { PrismaClient, WebhookEvent } from "@/generated/prisma/client";
import type { TClock } from "@/lib/payouts/timing";

/** What applying a stored delivery came to; stored on the delivery by recordOutcome (store-delivery.ts). */
export type TApplyOutcome =
  /** Applied through the engine's services (including business outcomes such as a rejected tip). */
  | { status: "processed"; note?: string }
  /** Waiting for something it refers to (its booking, its dispute); applied when that arrives. */
  | { status: "deferred"; reason: string }
  /** A type we store but do not act on. */
  | { status: "ignored"; reason: string }
  /** Applying failed; kept for re-drive with the error. */
  | { status: "failed"; error: string };

export type TStoredDelivery = WebhookEvent;

/** What applying deliveries needs from the outside world (the same shape as the engine's deps). */
export type TWebhookDeps = {
  db: PrismaClient;
  stripe: () => Stripe;
  clock?: TClock;
};
