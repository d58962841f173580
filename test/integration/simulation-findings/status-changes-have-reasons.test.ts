// Found by the simulation (seed 1; invariant I4): the audit entry of a payout's move from
// processing to transferred had no reason, though every status change must say why (design:
// "who, what, why"). It now names the transfer Stripe made. This walks a payout through the
// usual life (scheduled, held, released, transferred, reversed) and checks every status change
// in its audit log has an actor and a reason.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";

import { HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h.fake.stop();
});

it("every status change of a payout is audited with an actor and a reason", async () => {
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
  const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
  await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
  h.clock.advance(48 * HOUR + 1_000);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).error).toBeUndefined();
  const second = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
  await resolveDispute(h.ctx(), { disputeId: second.dispute.id, outcome: "partial", refundedAmount: 1_000, resolvedAt: h.clock.now() });
  const reversal = await db.transferReversal.findFirstOrThrow({ where: { payoutId: payout.id } });
  await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversal.id, payoutId: payout.id } });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 1_000 });

  const entries = await db.auditLog.findMany({
    where: { entityType: "payout", entityId: payout.id },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const changes = entries.filter((e) => {
    const before = (e.before as { status?: string } | null)?.status;
    const after = (e.after as { status?: string } | null)?.status;
    return before !== undefined && after !== undefined && before !== after;
  });
  expect(changes.map((e) => e.action)).toEqual(
    expect.arrayContaining(["payout.held", "payout.released", "payout.transferred", "payout.reversed"]),
  );
  for (const e of changes) {
    expect({ action: e.action, actor: e.actorLabel.length > 0, reason: (e.reason ?? "").length > 0 }).toEqual({
      action: e.action,
      actor: true,
      reason: true,
    });
  }
  expect(changes.find((e) => e.action === "payout.transferred")?.reason).toMatch(/^Stripe made transfer tr_/);
});
