// The engine's steps send the Inngest events their work wrote to the outbox themselves, right
// after their transactions commit (withAfterCommitEffects): no "publish-events" step, so no
// second call of the function for it, and only their own events (the sweep sends the rest).
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { db } from "@/lib/db";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { HOUR, payoutOf, engineHarness } from "../../support/engine";

const h = engineHarness();

const transferRequestsOf = (payoutId: string) =>
  db.outboxEvent.findMany({
    where: { name: "payout/transfer.requested", data: { path: ["payoutId"], equals: payoutId } },
    select: { eventId: true, sentAt: true, attempts: true, lastError: true },
  });

const received = (eventId: string) => globalThis.inngestReceiver.events().filter((e) => e.id === eventId);

/** An outbox event some other writer left unsent. */
async function strayEvent(): Promise<string> {
  const eventId = `test-stray:${randomUUID()}`;
  await db.outboxEvent.create({ data: { eventId, name: "payout/transfer.requested", data: { payoutId: randomUUID(), reason: "stray" } } });
  return eventId;
}

describe("an engine step sends the events it wrote", () => {
  it("schedule-payout's request step sends payout/transfer.requested itself; no publish step runs, and another writer's event is left to the sweep", async () => {
    const stray = await strayEvent();
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const { result, error, state } = await h.run("schedule", { name: "booking/completed", data: { bookingId } });
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ transferRequested: true });

    const payout = await payoutOf(bookingId);
    const [requested, ...more] = await transferRequestsOf(payout.id);
    expect(more).toEqual([]);
    expect(requested).toMatchObject({ attempts: 1, lastError: null });
    expect(requested!.sentAt).not.toBeNull();
    expect(received(requested!.eventId)).toHaveLength(1);

    expect(Object.keys(state)).not.toContain("publish-events");
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { eventId: stray } })).toMatchObject({ sentAt: null, attempts: 0 });
    expect(received(stray)).toEqual([]);
  });

  it("a transfer that writes no event sends nothing and runs no publish step", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    const before = globalThis.inngestReceiver.events().length;
    const { result, error, state } = await h.run("transfer", {
      name: "payout/transfer.requested",
      data: { payoutId: payout.id, reason: "test" },
    });
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ kind: "transferred" });
    expect(Object.keys(state)).not.toContain("publish-events");
    expect(globalThis.inngestReceiver.events().length).toBe(before);
  });

  it("events committed before the work threw are still sent, and the work's error is what the step sees", async () => {
    const eventId = `test-thrown:${randomUUID()}`;
    const work = withAfterCommitEffects(db, async () => {
      await db.$transaction((tx) =>
        enqueueEvent(tx, { name: "payout/transfer.requested", eventId, data: { payoutId: randomUUID(), reason: "test" } }),
      );
      throw new Error("the step failed after its commit");
    });
    await expect(work).rejects.toThrow("the step failed after its commit");
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { eventId } })).toMatchObject({ attempts: 1, lastError: null });
    expect((await db.outboxEvent.findUniqueOrThrow({ where: { eventId } })).sentAt).not.toBeNull();
    expect(received(eventId)).toHaveLength(1);
  });

  it("an event of a transaction rolled back is not sent; with Inngest down the step still succeeds and the event waits, error recorded", async () => {
    const rolledBack = `test-rolled-back:${randomUUID()}`;
    const kept = `test-kept:${randomUUID()}`;
    globalThis.inngestReceiver.setDown(true);
    const answer = await withAfterCommitEffects(db, async () => {
      await db
        .$transaction(async (tx) => {
          await enqueueEvent(tx, {
            name: "payout/transfer.requested",
            eventId: rolledBack,
            data: { payoutId: randomUUID(), reason: "test" },
          });
          throw new Error("rolled back");
        })
        .catch(() => undefined);
      await db.$transaction((tx) =>
        enqueueEvent(tx, { name: "payout/transfer.requested", eventId: kept, data: { payoutId: randomUUID(), reason: "test" } }),
      );
      return "done";
    });
    expect(answer).toBe("done");
    expect(await db.outboxEvent.findUnique({ where: { eventId: rolledBack } })).toBeNull();
    const waiting = await db.outboxEvent.findUniqueOrThrow({ where: { eventId: kept } });
    expect(waiting).toMatchObject({ sentAt: null, attempts: 1, claimedUntil: null });
    expect(waiting.lastError).toBeTruthy();
    expect(received(kept)).toEqual([]);
  });
});
