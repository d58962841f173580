-- When a tip was received (its webhook delivery's receipt): a tip received before the payout's
-- transfer was made is paid, with a top-up transfer when it came while that transfer was in
-- flight; one received after is rejected. Tips recorded before this column: their creation.

-- AlterTable
ALTER TABLE "Tip" ADD COLUMN "receivedAt" TIMESTAMPTZ(3);
UPDATE "Tip" SET "receivedAt" = "createdAt";
ALTER TABLE "Tip" ALTER COLUMN "receivedAt" SET NOT NULL;
ALTER TABLE "Tip" ALTER COLUMN "receivedAt" SET DEFAULT CURRENT_TIMESTAMP;
