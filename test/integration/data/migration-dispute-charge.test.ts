// Dispute.stripeChargeId on rows that existed before the column: the first backfill places Stripe
// disputes on the booking's charge or its only tip charge; the second one reads the charge from
// the stored charge.dispute.* delivery (tips paid with several charges). A lost chargeback
// recorded before the migration must still cap a later refund on that charge.
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { engineHarness } from "../../support/engine";
import { sendStripeEvent, stripeDeliveryOf, stripeId } from "../../support/stripe-webhook";

const h = engineHarness();

const now = () => Math.floor(Date.now() / 1000);
function stripeEvent(type: string, object: unknown, created = now()) {
  return {
    id: stripeId("evt"),
    object: "event",
    api_version: "2026-10-28.endive",
    created,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: stripeId("req"), idempotency_key: randomUUID() },
    type,
  };
}

/**
 * The data statements (UPDATE "Dispute" …) of migration 20261124170000_dispute_charge and of any
 * later migration, as `migrate` would run them on existing rows (a fix may come as a new migration).
 */
async function runBackfill() {
  const dir = path.resolve("prisma/migrations");
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && e.name >= "20261124170000")
    .map((e) => e.name)
    .sort();
  const updates: string[] = [];
  for (const name of names) {
    const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
    updates.push(
      ...sql
        .split(";")
        .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
        .filter((s) => s.startsWith('UPDATE "Dispute"')),
    );
  }
  expect(updates.length).toBeGreaterThanOrEqual(2);
  for (const statement of updates) await db.$executeRawUnsafe(statement);
}

describe("migration 20261124170000_dispute_charge on existing rows", () => {
  it("a lost chargeback on a tip charge, recorded before the migration, still caps a later refund on that charge", async () => {
    const tipCharge = stripeId("ch");
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
    // Two tips, each paid with its own charge.
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 1_000,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: tipCharge,
    });
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 500,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: stripeId("ch"),
    });

    // The 10.00 tip charge was charged back and lost: the provider bears the whole 10.00.
    const lost = stripeEvent("charge.dispute.closed", {
      id: stripeId("du"),
      object: "dispute",
      amount: 1_000,
      charge: tipCharge,
      created: now() - 60,
      currency: "usd",
      reason: "fraudulent",
      status: "lost",
    });
    expect((await sendStripeEvent(lost)).status).toBe(200);
    expect(await stripeDeliveryOf(lost)).toMatchObject({ status: "processed" });
    const dispute = await db.dispute.findFirstOrThrow({ where: { bookingId, stripeDisputeId: { not: null } } });
    expect(dispute).toMatchObject({ scope: "tip", refundedAmount: 1_000 });

    // The row as it was before the migration (the column did not exist), then the migration's backfill.
    await db.dispute.update({ where: { id: dispute.id }, data: { stripeChargeId: null } });
    await runBackfill();

    // A refund of that charge made before the chargeback is reported after the migration.
    const refunded = stripeEvent(
      "charge.refunded",
      {
        id: tipCharge,
        object: "charge",
        amount: 1_000,
        amount_captured: 1_000,
        amount_refunded: 1_000,
        captured: true,
        created: now() - 3 * 86_400,
        currency: "usd",
        metadata: {},
        paid: true,
        refunded: true,
        status: "succeeded",
        transfer_group: null,
      },
      now() - 600,
    );
    expect((await sendStripeEvent(refunded)).status).toBe(200);
    expect(await stripeDeliveryOf(refunded)).toMatchObject({ status: "processed" });

    // The provider's portion of the charge is 10.00 and the chargeback already took it all.
    const steps = await db.chargeRefund.aggregate({ where: { stripeChargeId: tipCharge }, _sum: { amount: true } });
    expect((steps._sum.amount ?? 0) + dispute.refundedAmount).toBeLessThanOrEqual(1_000);
    expect(await db.dispute.findUniqueOrThrow({ where: { id: dispute.id } })).toMatchObject({ stripeChargeId: tipCharge });
  });
});
