// Audit entries sort by (createdAt, id), and the id is random. Entries written one after another
// (a payout's changes in one transaction: an amount adjusted, then cancelled) came in the same
// millisecond often enough that the timeline, the audit chain and the simulation's check of a
// payout's last audited status (seed 60615, I4) saw them either way round. Each entry a process
// writes is now dated after the one before it.
import { expect, it } from "vitest";

import { recordAudit, recordAudits } from "@/lib/audit/record-audit";
import { ENGINE_ACTOR } from "@/lib/context";
import { db } from "@/lib/db";
import { changePayout } from "@/lib/payouts/change-payout";

import { createPayout } from "../../support/factories";

const actor = ENGINE_ACTOR;

it("a payout's changes in one transaction sort in the order they were made, whatever their ids", async () => {
  const created = await createPayout();
  const written: string[] = [];
  await db.$transaction(async (tx) => {
    let payout = created;
    for (let i = 0; i < 15; i++) {
      payout = await changePayout(tx, payout, {
        event: "hold",
        data: { holdReason: "admin_hold" },
        audit: { actor, action: "payout.held", reason: `hold ${i}` },
      });
      written.push(`hold ${i}`);
      payout = await changePayout(tx, payout, { event: "release", audit: { actor, action: "payout.released", reason: `release ${i}` } });
      written.push(`release ${i}`);
    }
    await recordAudit(tx, { actor, action: "payout.amount_adjusted", entityType: "payout", entityId: created.id, reason: "one" });
    await recordAudits(tx, [
      { actor, action: "payout.amount_adjusted", entityType: "payout", entityId: created.id, reason: "two" },
      { actor, action: "payout.amount_adjusted", entityType: "payout", entityId: created.id, reason: "three" },
    ]);
    written.push("one", "two", "three");
  });
  const entries = await db.auditLog.findMany({
    where: { entityId: created.id, reason: { not: null } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  expect(entries.map((e) => e.reason)).toEqual(written);
  const times = entries.map((e) => e.createdAt.getTime());
  expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
  // Dated now, not far ahead: a burst moves the times by a millisecond per entry at most.
  expect(times.at(-1)! - Date.now()).toBeLessThanOrEqual(entries.length);
});
