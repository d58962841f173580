// Review of e9ac7aa (raw recordAudits / enqueueEvents / recordProcessedTogether; the batch's own
// deliveries not read back). Differential: the old ORM statement and the new raw one on the same input.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Prisma } from "@/generated/prisma/client";
import { recordAudits, type TAuditEntry, toAuditRow } from "@/lib/audit/record-audit";
import { db, type Tx } from "@/lib/db";
import { applyBatch } from "@/lib/ingest/apply-batch";
import { applyInOrder, laneKeyOf } from "@/lib/ingest/apply-in-order";
import { enqueueEvents, type TOutboxEvent } from "@/lib/outbox/enqueue-event";
import { storeDelivery } from "@/lib/webhooks/store-delivery";
import type { TWebhookDeps } from "@/lib/webhooks/types";
import { bookingCompletedEvent, type TBookingEvent, tipCreatedEvent } from "@/test/support/booking-webhook";
import { startEngineHarness, type TEngineHarness } from "@/test/support/engine";
import { knowPlatformCurrencies } from "@/test/support/factories";

let h: TEngineHarness;
let deps: TWebhookDeps;

beforeAll(async () => {
  h = await startEngineHarness();
  deps = { db, stripe: () => h.stripe };
  await knowPlatformCurrencies(["USD", "EUR"]);
});
afterAll(async () => {
  await h.fake.stop();
});

const oldAudits = (tx: Tx, entries: TAuditEntry[]) => tx.auditLog.createMany({ data: entries.map(toAuditRow) });
const oldEnqueue = (tx: Tx, events: TOutboxEvent[]) =>
  tx.outboxEvent.createMany({
    data: events.map((e) => ({ eventId: e.eventId, name: e.name, data: e.data as Prisma.InputJsonValue })),
    skipDuplicates: true,
  });

type TRow = Record<string, unknown>;
async function auditRows(runId: string): Promise<TRow[]> {
  return db.$queryRaw<TRow[]>`
    SELECT "actorType"::text, "actorId", "actorLabel", action, "entityType", "entityId", reason,
           before IS NULL AS "beforeNull", before::text AS before, after IS NULL AS "afterNull", after::text AS after,
           "requestId", "createdAt"
    FROM "AuditLog" WHERE "runId" = ${runId} ORDER BY "entityId"`;
}

function entries(runId: string, reason: (i: number) => string | null = () => null): TAuditEntry[] {
  const at = new Date("2026-01-02T03:04:05.678Z");
  const actor = { type: "system", id: "sys", label: "Système ✓ 😀" } as const;
  const afters: (Prisma.InputJsonValue | null | undefined)[] = [
    undefined,
    null,
    { nested: null, list: [1, null, "x"], at: at as unknown as Prisma.InputJsonValue, f: 0.1 + 0.2, big: 1e21 },
    "null",
    0,
    false,
    [],
    { dropped: undefined, kept: 1 } as unknown as Prisma.InputJsonValue,
    { s: 'line\u2028sep \\ " é 😀' },
  ];
  return afters.map((after, i) => ({
    actor,
    action: "payout.scheduled",
    entityType: "payout",
    entityId: `e${i}`,
    reason: reason(i),
    before: i % 2 === 0 ? null : { i },
    ...(after === undefined ? {} : { after }),
    requestId: i === 3 ? undefined : `req:${i}`,
    runId,
    ...(i === 4 ? { at } : {}),
  }));
}

describe("recordAudits writes the rows tx.auditLog.createMany(toAuditRow) wrote", () => {
  it("JSON null / SQL NULL / 'null', nested Dates, undefined fields, `at`, unicode", async () => {
    const a = `old-${randomUUID()}`;
    const b = `new-${randomUUID()}`;
    const reason = (i: number) => (i === 1 ? "" : i === 2 ? "tip ü 😀 added" : null);
    await db.$transaction((tx) => oldAudits(tx, entries(a, reason)));
    await db.$transaction((tx) => recordAudits(tx, entries(b, reason)));
    const strip = (rows: TRow[]) => rows.map(({ createdAt, ...r }) => ({ ...r, at: r.entityId === "e4" ? createdAt : "now" }));
    expect(strip(await auditRows(b))).toEqual(strip(await auditRows(a)));
    // The statement trigger queued every new entry for sealing.
    const unsealed = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM "AuditUnsealed" u JOIN "AuditLog" l ON l.id = u."entryId" WHERE l."runId" = ${b}`;
    expect(unsealed[0]!.n).toBe(entries(b).length);
  });

  it("createdAt: the client's time at the statement (not the transaction's start), as the ORM", async () => {
    for (const [run, write] of [
      [`old-${randomUUID()}`, oldAudits],
      [`new-${randomUUID()}`, recordAudits],
    ] as const) {
      let started = new Date(0);
      let before = new Date(0);
      await db.$transaction(async (tx) => {
        const [row] = await tx.$queryRaw<{ started: Date }[]>`SELECT now() AS started`;
        started = row!.started;
        await new Promise((r) => setTimeout(r, 400));
        before = new Date();
        await write(tx, entries(run).slice(0, 2));
      });
      const rows = await auditRows(run);
      for (const r of rows) {
        expect((r.createdAt as Date).getTime()).toBeGreaterThanOrEqual(before.getTime() - 5);
        expect((r.createdAt as Date).getTime() - started.getTime()).toBeGreaterThan(300);
      }
    }
  });

  it("a lone surrogate in a text column (reason): the ORM stored U+FFFD; the raw statement must not throw instead", async () => {
    const a = `old-${randomUUID()}`;
    const b = `new-${randomUUID()}`;
    const lone = (i: number) => (i === 0 ? `tip \ud83d added` : null);
    await db.$transaction((tx) => oldAudits(tx, entries(a, lone).slice(0, 1)));
    expect((await auditRows(a))[0]!.reason).toBe("tip \ufffd added");
    await db.$transaction((tx) => recordAudits(tx, entries(b, lone).slice(0, 1)));
    expect((await auditRows(b))[0]!.reason).toBe("tip \ufffd added");
  });

  it("a lone surrogate inside `after` (jsonb): both paths reject it (no change)", async () => {
    const bad = (run: string) => [{ ...entries(run)[0]!, after: { s: "\ud83d" } }];
    await expect(db.$transaction((tx) => oldAudits(tx, bad(`old-${randomUUID()}`)))).rejects.toThrow();
    await expect(db.$transaction((tx) => recordAudits(tx, bad(`new-${randomUUID()}`)))).rejects.toThrow();
  });
});

describe("enqueueEvents writes the rows createMany(skipDuplicates) wrote", () => {
  it("odd data, a repeat inside the call and of a stored event id", async () => {
    const run = async (ns: string, write: (tx: Tx, e: TOutboxEvent[]) => Promise<unknown>) => {
      const ev = (id: string, data: unknown) => ({ name: "booking/completed", eventId: `${ns}:${id}`, data }) as unknown as TOutboxEvent;
      await db.$transaction((tx) => write(tx, [ev("known", { v: 1 })]));
      await db.$transaction((tx) =>
        write(tx, [
          ev("a", { bookingId: "b", gone: undefined, at: new Date("2026-01-02T03:04:05.678Z"), n: null, arr: [1] }),
          ev("dup", { v: "first" }),
          ev("dup", { v: "second" }),
          ev("known", { v: 2 }),
        ]),
      );
      return db.$queryRaw<TRow[]>`SELECT split_part("eventId", ':', 2) AS id, name, data::text AS data, attempts
        FROM "OutboxEvent" WHERE "eventId" LIKE ${`${ns}:%`} ORDER BY "eventId"`;
    };
    expect(await run(`new${randomUUID()}`, enqueueEvents)).toEqual(await run(`old${randomUUID()}`, oldEnqueue));
  });
});

describe("applyBatch with the deliveries as storeDelivery returns them (not read back)", () => {
  /** Stores as receiveBookingWebhook does: the parsed JSON in memory, the text as sent in the row. */
  async function storeAsRoute(event: TBookingEvent, text = JSON.stringify(event)) {
    const { delivery } = await storeDelivery(db, {
      source: "booking_platform",
      externalId: event.id,
      type: event.type,
      payload: JSON.parse(text) as Prisma.InputJsonValue,
      payloadText: text,
      bookingExternalId: String(event.data.bookingId),
    });
    return delivery;
  }

  it("a completion then its tip, recorded together in two rounds; the tip's receivedAt is the row's", async () => {
    const ns = `m${randomUUID().slice(0, 6)}`;
    const completion = await storeAsRoute(
      bookingCompletedEvent({ bookingId: `${ns}bk`, providerId: `${ns}p`, stripeAccountId: `acct_${ns}` }),
    );
    const t = tipCreatedEvent({ bookingId: `${ns}bk`, amount: 700 });
    // Whitespace and a duplicate key: JSON.parse and jsonb both keep the last value.
    const tipText = JSON.stringify(t).replace('"amount":700', '"amount":1,  "amount" : 700');
    const tip = await storeAsRoute(t, tipText);
    const result = await applyBatch(deps, [completion, tip]);
    expect(result.together).toEqual([completion.id, tip.id]);
    const row = await db.webhookEvent.findUniqueOrThrow({ where: { id: tip.id } });
    const stored = await db.tip.findUniqueOrThrow({ where: { externalId: String(t.data.tipId) } });
    expect(stored.amount).toBe(700);
    expect(stored.receivedAt.getTime()).toBe(row.receivedAt.getTime());
    expect(row).toMatchObject({ status: "processed", applyAttempts: 1 });
  });

  it("a stale in-memory delivery another server already applied is not recorded again", async () => {
    const ns = `s${randomUUID().slice(0, 6)}`;
    const d = await storeAsRoute(bookingCompletedEvent({ bookingId: `${ns}bk`, providerId: `${ns}p`, stripeAccountId: `acct_${ns}` }));
    await applyInOrder(deps, laneKeyOf(d));
    expect(d.status).toBe("received"); // the object is stale
    const result = await applyBatch(deps, [d]);
    expect(result).toMatchObject({ together: [], oneByOne: [] });
    expect(await db.booking.count({ where: { externalId: `${ns}bk` } })).toBe(1);
    expect(await db.auditLog.count({ where: { requestId: `webhook:${d.id}` } })).toBe(2);
    expect(await db.outboxEvent.count({ where: { eventId: d.id } })).toBe(1);
    expect((await db.webhookEvent.findUniqueOrThrow({ where: { id: d.id } })).applyAttempts).toBe(1);
  });
});
