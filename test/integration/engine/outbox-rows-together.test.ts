// A batch's outbox rows (withOutboxRowsTogether): each member enqueues its events as alone, and
// they are written in one statement before the transaction commits; a transaction that rolls back
// writes none; an event id enqueued twice is written once.
import { randomUUID } from "node:crypto";

import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { enqueueEvent, withOutboxRowsTogether } from "@/lib/outbox/enqueue-event";
import { inOutboxScope } from "@/lib/outbox/outbox-scope";

import { countingCalls } from "../../support/count-calls";

const event = (eventId: string) => ({
  name: "payout/transfer.requested" as const,
  eventId,
  data: { payoutId: randomUUID(), reason: "due" },
});

it("the rows enqueued in the work are written when it ends, in one statement, and each is noted by the scope that enqueued it", async () => {
  const ids = [`together:${randomUUID()}`, `together:${randomUUID()}`, `together:${randomUUID()}`];
  let seenInside = -1;
  let statements = () => 0;
  const noted: string[][] = [];
  await db.$transaction(async (tx) => {
    const { counted, calls } = countingCalls(tx, "$executeRaw");
    statements = calls;
    await withOutboxRowsTogether(counted, async () => {
      for (const id of ids) {
        const scope = inOutboxScope(() => enqueueEvent(counted, event(id)));
        await scope.run;
        noted.push(scope.untried());
      }
      // The same id again: written once.
      await enqueueEvent(counted, event(ids[0]!));
      seenInside = await tx.outboxEvent.count({ where: { eventId: { in: ids } } });
    });
  });
  expect(seenInside).toBe(0);
  expect(statements()).toBe(1);
  expect(noted).toEqual(ids.map((id) => [id]));
  const rows = await db.outboxEvent.findMany({ where: { eventId: { in: ids } } });
  expect(rows.map((r) => r.eventId).sort()).toEqual([...ids].sort());
  expect(rows.every((r) => r.sentAt === null && r.name === "payout/transfer.requested")).toBe(true);
});

it("work that throws writes none of its rows, and the transaction after it enqueues as before", async () => {
  const id = `together:${randomUUID()}`;
  await expect(
    db.$transaction((tx) =>
      withOutboxRowsTogether(tx, async () => {
        await enqueueEvent(tx, event(id));
        throw new Error("a member failed");
      }),
    ),
  ).rejects.toThrow("a member failed");
  expect(await db.outboxEvent.count({ where: { eventId: id } })).toBe(0);

  await db.$transaction((tx) => enqueueEvent(tx, event(id)));
  expect(await db.outboxEvent.count({ where: { eventId: id } })).toBe(1);
});
