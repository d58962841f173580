// lockBooking and lockPayoutAndBooking: what they return is exactly what the ORM reads of the same
// rows (lockPayoutAndBooking reads the payout and the provider in one statement), the locks they
// hold, and a provider changed by the lock's previous holder is seen as it is once the lock is held
// (a provider read in the locking statement would be as it was when that statement began).
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";
import { lockBooking, lockPayoutAndBooking } from "@/lib/payouts/lock-booking";
import { refreshPayout } from "@/lib/payouts/refresh-payout";

import { createBooking, createPayout, createProvider } from "../../support/factories";

const CTX = { db, actor: { type: "system" as const, id: "lock-booking-test", label: "Lock booking test" } };

const ormRead = (bookingId: string) => db.booking.findUniqueOrThrow({ where: { id: bookingId }, include: { provider: true } });

describe("locking a booking and reading its provider", () => {
  it("returns what the ORM reads: a provider with every date set, and one with none", async () => {
    const dated = await createProvider({
      accountUpdatedAt: new Date("2026-11-30T10:11:12.345Z"),
      accountCheckedAt: new Date("2026-12-01T00:00:00.001Z"),
      accountLookedUpAt: new Date("2026-12-02T23:59:59.999Z"),
      accountStateAt: new Date("2026-12-03T12:00:00.000Z"),
      name: `Zoë "quoted" \\ back\u2028slash ${randomUUID().slice(0, 4)}`,
    });
    const bare = await createProvider({ stripeAccountId: null, payoutsEnabled: false });
    for (const provider of [dated, bare]) {
      const booking = await createBooking({ provider, cancelledAt: provider === bare ? new Date() : null });
      const locked = await db.$transaction((tx) => lockBooking(tx, booking.id));
      expect(locked).toEqual(await ormRead(booking.id));
      expect(locked.provider.createdAt).toBeInstanceOf(Date);
    }
  });

  it("locks a payout's booking and the payout, and names a missing payout or booking", async () => {
    const payout = await createPayout();
    const { booking, payout: lockedPayout } = await db.$transaction((tx) => lockPayoutAndBooking(tx, payout.id));
    expect(booking).toEqual(await ormRead(payout.bookingId));
    // The payout and the provider come from one statement: each is exactly what the ORM reads.
    expect(lockedPayout).toEqual(await db.payout.findUniqueOrThrow({ where: { id: payout.id } }));

    // Its open disputes are counted with it: resolved ones and another booking's are not.
    const dispute = (bookingId: string, status: "open" | "resolved") =>
      db.dispute.create({ data: { bookingId, status, currency: "USD", openedAt: new Date() } });
    await dispute(payout.bookingId, "open");
    await dispute(payout.bookingId, "open");
    await dispute(payout.bookingId, "resolved");
    await dispute((await createPayout()).bookingId, "open");
    const counted = await db.$transaction((tx) => lockPayoutAndBooking(tx, payout.id));
    expect(counted.openDisputes).toBe(2);

    const missing = randomUUID();
    await expect(db.$transaction((tx) => lockPayoutAndBooking(tx, missing))).rejects.toThrow(NotFoundError);
    await expect(db.$transaction((tx) => lockPayoutAndBooking(tx, missing))).rejects.toThrow(/Payout/);
    await expect(db.$transaction((tx) => lockBooking(tx, missing))).rejects.toThrow(/Booking/);
  });

  it("refreshes a payout named by its id through its booking's lock, and names a missing one", async () => {
    const payout = await createPayout({ status: "scheduled" });
    const result = await refreshPayout(CTX, { payoutId: payout.id });
    expect(result.payout?.id).toBe(payout.id);
    const missing = randomUUID();
    await expect(refreshPayout(CTX, { payoutId: missing })).rejects.toMatchObject({
      status: 404,
      message: expect.stringMatching(/Payout/),
    });
  });

  it("holds the booking's lock until the transaction ends", async () => {
    const booking = await createBooking();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = db.$transaction(async (tx) => {
      await lockBooking(tx, booking.id);
      await held;
    });
    // Give the first transaction its lock, then try the row without waiting.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const tried = db.$transaction(async (tx) => tx.$queryRaw`SELECT id FROM "Booking" WHERE id = ${booking.id}::uuid FOR UPDATE NOWAIT`);
    await expect(tried).rejects.toThrow(/lock/i);
    release();
    await first;
  });

  it("holds the payout's lock as well as the booking's until the transaction ends", async () => {
    const payout = await createPayout();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = db.$transaction(async (tx) => {
      await lockPayoutAndBooking(tx, payout.id);
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const [table, id] of [
      ["Payout", payout.id],
      ["Booking", payout.bookingId],
    ] as const) {
      const tried = db.$transaction(async (tx) =>
        tx.$queryRawUnsafe(`SELECT id FROM "${table}" WHERE id = $1::uuid FOR UPDATE NOWAIT`, id),
      );
      await expect(tried).rejects.toThrow(/lock/i);
    }
    // The provider is read, not locked.
    await db.$transaction(async (tx) => tx.$queryRaw`SELECT id FROM "Provider" WHERE id = ${payout.providerId}::uuid FOR UPDATE NOWAIT`);
    release();
    await first;
  });

  it("sees the provider as the lock's previous holder left it", async () => {
    const provider = await createProvider({ payoutsEnabled: false });
    const payout = await createPayout({ provider });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    // As an account update does: the booking locked, the provider made ready, then the commit.
    const holder = db.$transaction(async (tx) => {
      await lockBooking(tx, payout.bookingId);
      await tx.provider.update({ where: { id: provider.id }, data: { payoutsEnabled: true } });
      locked();
      await held;
    });
    await lockTaken;
    const waiter = db.$transaction(async (tx) => lockPayoutAndBooking(tx, payout.id));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the waiter's statement has begun and waits
    release();
    await holder;
    const { booking } = await waiter;
    expect(booking.provider.payoutsEnabled).toBe(true);
  });
});
