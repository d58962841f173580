-- When Stripe last told us a connected account's readiness; the reconciliation sweep re-asks
-- about providers whose payouts are held for "provider account not ready".

-- AlterTable
ALTER TABLE "Provider" ADD COLUMN "accountCheckedAt" TIMESTAMPTZ(3);
