// Issue 13: publishers running at once (every Inngest run's publish step, the webhooks' applies,
// the sweep) used to each send every unsent event and update the same outbox rows in different
// orders (re-sends, deadlocks). They now claim what they send: disjoint sets, each event once.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { publishOutbox } from "@/lib/outbox/publish-outbox";

async function unsentEvents(n: number, tag: string): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `test-outbox:${tag}:${i}`);
  await db.outboxEvent.createMany({
    data: ids.map((eventId, i) => ({ eventId, name: "payout/transfer.requested", data: { payoutId: tag, i } })),
  });
  return ids;
}

describe("outbox publishers running at once", () => {
  it("eight publishers over the same 120 events: each event sent once, all marked sent, no error", async () => {
    const tag = randomUUID();
    const ids = await unsentEvents(120, tag);
    const sent: string[] = [];
    // A send that takes a moment, so the publishers overlap.
    const send = async (events: { id: string }[]) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      sent.push(...events.map((e) => e.id));
    };
    const results = await Promise.all(Array.from({ length: 8 }, () => publishOutbox(db, { send, limit: 40 })));
    // Whatever was claimed by a publisher is left alone by the others; a second round sends the rest.
    results.push(...(await Promise.all(Array.from({ length: 8 }, () => publishOutbox(db, { send, limit: 40 })))));
    expect(results.every((r) => r.failed === 0 && !r.error)).toBe(true);
    const ours = sent.filter((id) => id.includes(tag));
    expect(ours.sort()).toEqual([...ids].sort());
    expect(new Set(ours).size).toBe(ours.length);
    expect(await db.outboxEvent.count({ where: { eventId: { in: ids }, sentAt: null } })).toBe(0);
    expect(await db.outboxEvent.count({ where: { eventId: { in: ids }, claimedUntil: { not: null } } })).toBe(0);
  });

  it("a failed send lets go of its claim: the next publisher sends the events", async () => {
    const tag = randomUUID();
    const ids = await unsentEvents(3, tag);
    const failed = await publishOutbox(db, {
      eventIds: ids,
      send: () => Promise.reject(new Error("Inngest is down")),
    });
    expect(failed).toMatchObject({ sent: 0, failed: 3, error: "Inngest is down" });
    expect(
      await db.outboxEvent.findMany({ where: { eventId: { in: ids } }, select: { attempts: true, claimedUntil: true, sentAt: true } }),
    ).toEqual(ids.map(() => ({ attempts: 1, claimedUntil: null, sentAt: null })));
    const sent: string[] = [];
    expect(await publishOutbox(db, { eventIds: ids, send: async (events) => void sent.push(...events.map((e) => e.id)) })).toEqual({
      sent: 3,
      failed: 0,
    });
    expect(sent.sort()).toEqual([...ids].sort());
  });

  it("events a publisher claimed and never marked (it died) are sent by the next one once the claim runs out", async () => {
    const tag = randomUUID();
    const ids = await unsentEvents(2, tag);
    await db.outboxEvent.updateMany({ where: { eventId: { in: ids } }, data: { claimedUntil: new Date(Date.now() + 60_000) } });
    const sent: string[] = [];
    const send = async (events: { id: string }[]) => void sent.push(...events.map((e) => e.id));
    expect(await publishOutbox(db, { eventIds: ids, send })).toEqual({ sent: 0, failed: 0 });
    await db.outboxEvent.updateMany({ where: { eventId: { in: ids } }, data: { claimedUntil: new Date(Date.now() - 1_000) } });
    expect(await publishOutbox(db, { eventIds: ids, send })).toEqual({ sent: 2, failed: 0 });
    expect(sent.sort()).toEqual([...ids].sort());
  });
});
