import "server-only";

import { raiseAlert } from "@/lib/alerts/raise-alert";
import { getEnv } from "@/lib/env";
import { formatMoney } from "@/lib/money/format-money";
import type { TWebhookDeps } from "@/lib/webhooks/types";

/** Deliveries alerted per sweep (the oldest first; each is alerted once). */
const ALERTS_PER_SWEEP = 100;

type TUnmatched = { id: string; externalId: string; type: string; object: Record<string, unknown> };

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
const refOf = (v: unknown) => str(v) ?? (typeof v === "object" && v !== null && "id" in v ? str((v as { id: unknown }).id) : null);

/** What an alert says of a Stripe money event: its kind, amount and the ids to look it up by. */
function describe(row: TUnmatched): { what: string; money: string; ids: string } {
  const o = row.object;
  const currency = str(o.currency)?.toUpperCase() ?? "USD";
  const amountOf = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) ? formatMoney(v, currency) : "an unknown amount");
  if (row.type.startsWith("charge.dispute.")) {
    return {
      what: "dispute",
      money: amountOf(o.amount),
      ids: `dispute ${str(o.id) ?? "?"}, charge ${refOf(o.charge) ?? "?"}${refOf(o.payment_intent) ? `, PaymentIntent ${refOf(o.payment_intent)}` : ""}`,
    };
  }
  if (row.type === "charge.refunded") {
    return {
      what: "refund",
      money: amountOf(o.amount_refunded),
      ids: `charge ${str(o.id) ?? "?"}${refOf(o.payment_intent) ? `, PaymentIntent ${refOf(o.payment_intent)}` : ""}`,
    };
  }
  return {
    what: "refund",
    money: amountOf(o.amount),
    ids: `refund ${str(o.id) ?? "?"}, charge ${refOf(o.charge) ?? "?"}${refOf(o.payment_intent) ? `, PaymentIntent ${refOf(o.payment_intent)}` : ""}`,
  };
}

/**
 * Nothing about money is parked silently: an authentic Stripe dispute or refund that still matches
 * no booking STRIPE_UNMATCHED_GRACE_MINUTES after it arrived raises one critical alert with its
 * amount, currency and Stripe ids. It stays deferred: applied as soon as a booking or tip names its
 * charge or PaymentIntent, or re-driven from the Webhooks page.
 */
export async function alertUnmatchedMoneyEvents(deps: TWebhookDeps, options: { now?: Date } = {}): Promise<number> {
  const now = options.now ?? deps.clock?.now() ?? new Date();
  const cutoff = new Date(now.getTime() - getEnv().STRIPE_UNMATCHED_GRACE_MINUTES * 60 * 1000);
  const rows = await deps.db.$queryRaw<TUnmatched[]>`
    SELECT w.id, w."externalId", w.type, w.payload -> 'data' -> 'object' AS object
    FROM "WebhookEvent" w
    WHERE w.source = 'stripe' AND w.status = 'deferred' AND w."receivedAt" <= ${cutoff}
      AND (w.type LIKE 'charge.dispute.%' OR w.type IN ('charge.refunded', 'charge.refund.updated', 'refund.created', 'refund.updated', 'refund.failed'))
      AND NOT EXISTS (SELECT 1 FROM "Alert" a WHERE a."dedupeKey" = 'stripe_unmatched:' || w.id::text)
    ORDER BY w."receivedAt", w.id
    LIMIT ${ALERTS_PER_SWEEP}`;
  for (const row of rows) {
    const { what, money, ids } = describe(row);
    await deps.db.$transaction((tx) =>
      raiseAlert(tx, {
        kind: "stripe_event_unmatched",
        severity: "critical",
        title: `Stripe ${what} matches no booking`,
        message:
          `Stripe ${what} of ${money} (${ids}; event ${row.externalId}, ${row.type}) matches no booking or tip by charge, PaymentIntent, ` +
          "metadata.bookingId or transfer group. Nothing was held or deducted. It is applied as soon as a booking or tip names its charge; " +
          "otherwise check the charge in Stripe and re-drive the delivery from the Webhooks page.",
        dedupeKey: `stripe_unmatched:${row.id}`,
      }),
    );
  }
  return rows.length;
}
