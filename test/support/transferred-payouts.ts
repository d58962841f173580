// Many transferred payouts for plan and scale checks, written by PostgreSQL itself in three
// statements: `providers` providers, `payouts` bookings completed five minutes apart going back
// from now, each paid 48 hours later with its succeeded transfer leg (a leg for every payout in the
// table). Names, ids and keys start with `prefix`, so that two seeds in one database stay apart.
import type { PrismaClient } from "@/generated/prisma/client";

export async function seedTransferredPayouts(
  db: PrismaClient,
  { prefix, providers, payouts }: { prefix: string; providers: number; payouts: number },
): Promise<void> {
  await db.$executeRawUnsafe(`
    INSERT INTO "Provider" ("externalId", name, email, "stripeAccountId", "payoutsEnabled")
    SELECT '${prefix}-p-' || n, 'Review provider ' || n, '${prefix}-' || n || '@example.test', 'acct_${prefix}_' || n, true
    FROM generate_series(1, ${providers}) AS n`);
  await db.$executeRawUnsafe(`
    WITH s AS (
      SELECT i, p.id AS "providerId", now() - make_interval(mins => i * 5) AS completed
      FROM generate_series(1, ${payouts}) AS i JOIN "Provider" p ON p."externalId" = '${prefix}-p-' || (1 + i % ${providers})
    ), b AS (
      INSERT INTO "Booking" ("externalId", "providerId", currency, "providerShare", "stripeChargeId", "completedAt", "createdAt", "updatedAt")
      SELECT '${prefix}-b-' || i, "providerId", 'USD', 10000, 'ch_${prefix}_' || i, completed, completed, completed FROM s
      RETURNING id, "externalId"
    )
    INSERT INTO "Payout" ("bookingId", "providerId", currency, "providerShare", "tipAmount", "refundedAmount", amount, "reversedAmount",
                          status, "eligibleAt", attempts, "stripeTransferId", "transferredAt", version, "createdAt", "updatedAt")
    SELECT b.id, s."providerId", 'USD', 10000, 0, 0, 10000, 0, 'transferred', s.completed + interval '48 hours', 1,
           'tr_${prefix}_' || s.i, s.completed + interval '48 hours', 1, s.completed, s.completed + interval '48 hours'
    FROM b JOIN s ON '${prefix}-b-' || s.i = b."externalId"`);
  await db.$executeRawUnsafe(`
    INSERT INTO "PayoutTransfer" ("payoutId", kind, "amountVersion", leg, "payoutAmount", amount, currency, status,
                                  "idempotencyKey", "stripeTransferId", "transferredAt", "createdAt", "updatedAt")
    SELECT id, 'payout', 1, 1, amount, amount, currency, 'succeeded', '${prefix}-leg-' || id, "stripeTransferId",
           "transferredAt", "eligibleAt", "transferredAt"
    FROM "Payout"`);
}
