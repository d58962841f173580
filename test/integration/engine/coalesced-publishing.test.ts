// The work's own outbox events, published at once by many callers in one process, go together
// (publishOutbox with eventIds; lib/coalesce.ts): one claim, one send to Inngest and one mark for
// the calls that waited while others were in flight. Each event still goes out once, each caller
// is told about its own events, and what fails stays in the outbox for the sweep.
import { randomUUID } from "node:crypto";

import { beforeEach, expect, it } from "vitest";

import { db } from "@/lib/db";
import { enqueueEvents } from "@/lib/outbox/enqueue-event";
import { publishOutbox } from "@/lib/outbox/publish-outbox";

const receiver = () => globalThis.inngestReceiver;

async function write(count: number): Promise<string[]> {
  const eventIds = Array.from({ length: count }, () => `coalesce:${randomUUID()}`);
  await db.$transaction((tx) =>
    enqueueEvents(
      tx,
      eventIds.map((eventId) => ({ name: "payout/transfer.requested" as const, eventId, data: { payoutId: randomUUID(), reason: "due" } })),
    ),
  );
  return eventIds;
}

beforeEach(() => {
  receiver().setDown(false);
  receiver().clear();
});

it("ten callers at once: the two that found no flush in flight go alone, the eight that waited in one send; each event once", async () => {
  const eventIds = await write(10);
  const results = await Promise.all(eventIds.map((id) => publishOutbox(db, { eventIds: [id] })));

  expect(results).toEqual(eventIds.map(() => ({ sent: 1, failed: 0 })));
  expect(receiver().sends()).toBe(3);
  expect(
    receiver()
      .events()
      .map((e) => e.id)
      .sort(),
  ).toEqual([...eventIds].sort());
  const rows = await db.outboxEvent.findMany({ where: { eventId: { in: eventIds } } });
  expect(rows.every((r) => r.sentAt !== null && r.attempts === 1 && r.claimedUntil === null && r.lastError === null)).toBe(true);
});

it("the same event asked for by two callers of one flush goes out once, and both hear it was sent", async () => {
  const [shared, other, ...blockers] = await write(4);
  // Two flushes in flight: the next calls wait, and go together.
  const inFlight = blockers.map((id) => publishOutbox(db, { eventIds: [id] }));
  const both = await Promise.all([publishOutbox(db, { eventIds: [shared!, other!] }), publishOutbox(db, { eventIds: [shared!] })]);
  await Promise.all(inFlight);
  expect(receiver().sends()).toBe(3);
  expect(both).toEqual([
    { sent: 2, failed: 0 },
    { sent: 1, failed: 0 },
  ]);
  expect(
    receiver()
      .events()
      .filter((e) => e.id === shared),
  ).toHaveLength(1);
});

it("an event sent already is not sent again by a later caller", async () => {
  const [id] = await write(1);
  expect(await publishOutbox(db, { eventIds: [id!] })).toEqual({ sent: 1, failed: 0 });
  expect(await publishOutbox(db, { eventIds: [id!] })).toEqual({ sent: 0, failed: 0 });
  expect(receiver().events()).toHaveLength(1);
});

it("Inngest unreachable: every caller of the flush hears its events failed, they stay unsent and unclaimed, and a later publish sends them", async () => {
  const eventIds = await write(4);
  receiver().setDown(true);
  const results = await Promise.all(eventIds.map((id) => publishOutbox(db, { eventIds: [id] })));
  expect(results.map((r) => ({ ...r, error: typeof r.error }))).toEqual(eventIds.map(() => ({ sent: 0, failed: 1, error: "string" })));
  const rows = await db.outboxEvent.findMany({ where: { eventId: { in: eventIds } } });
  expect(rows.every((r) => r.sentAt === null && r.claimedUntil === null && r.attempts === 1 && r.lastError !== null)).toBe(true);

  receiver().setDown(false);
  expect(await publishOutbox(db, { eventIds })).toEqual({ sent: 4, failed: 0 });
  expect(receiver().events()).toHaveLength(4);
});
