-- The Stripe charge a Stripe dispute (chargeback) is on, so that refunds and lost chargebacks on
-- one charge together never take more than the provider's portion of it, whatever their order.

-- AlterTable
ALTER TABLE "Dispute" ADD COLUMN "stripeChargeId" VARCHAR(255);

-- Existing Stripe disputes on a booking's own charge.
UPDATE "Dispute" d SET "stripeChargeId" = b."stripeChargeId"
FROM "Booking" b
WHERE d."bookingId" = b."id" AND d."stripeDisputeId" IS NOT NULL AND d."scope" = 'booking' AND b."stripeChargeId" IS NOT NULL;

-- Existing Stripe disputes on a tip charge, when the booking's tips name only one charge.
UPDATE "Dispute" d SET "stripeChargeId" = t."stripeChargeId"
FROM (
  SELECT "bookingId", MIN("stripeChargeId") AS "stripeChargeId"
  FROM "Tip" WHERE "stripeChargeId" IS NOT NULL
  GROUP BY "bookingId" HAVING COUNT(DISTINCT "stripeChargeId") = 1
) t
WHERE d."bookingId" = t."bookingId" AND d."stripeDisputeId" IS NOT NULL AND d."scope" = 'tip';

-- CreateIndex
CREATE INDEX "Dispute_stripeChargeId_idx" ON "Dispute"("stripeChargeId");
