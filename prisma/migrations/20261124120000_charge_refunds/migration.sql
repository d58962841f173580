-- Stripe refunds on a booking's (or a tip's) charge: one row per new cumulative refunded
-- total Stripe reports, with the provider's part of the increase. A refund after the
-- transfer is recovered with a TransferReversal that points at its row.

-- CreateTable
CREATE TABLE "ChargeRefund" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "bookingId" UUID NOT NULL,
    "stripeChargeId" VARCHAR(255) NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "chargeAmount" INTEGER NOT NULL,
    "providerPortion" INTEGER NOT NULL,
    "customerRefundedTotal" INTEGER NOT NULL,
    "providerRefundedTotal" INTEGER NOT NULL,
    "amount" INTEGER NOT NULL,
    "refundedAt" TIMESTAMPTZ(3) NOT NULL,
    "appliedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChargeRefund_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "TransferReversal" ADD COLUMN "chargeRefundId" UUID;

-- CreateIndex
CREATE INDEX "ChargeRefund_bookingId_idx" ON "ChargeRefund"("bookingId");

-- CreateIndex
CREATE UNIQUE INDEX "ChargeRefund_stripeChargeId_customerRefundedTotal_key" ON "ChargeRefund"("stripeChargeId", "customerRefundedTotal");

-- CreateIndex
CREATE UNIQUE INDEX "TransferReversal_chargeRefundId_key" ON "TransferReversal"("chargeRefundId");

-- AddForeignKey
ALTER TABLE "ChargeRefund" ADD CONSTRAINT "ChargeRefund_bookingId_fkey" FOREIGN KEY ("bookingId") REFERENCES "Booking"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TransferReversal" ADD CONSTRAINT "TransferReversal_chargeRefundId_fkey" FOREIGN KEY ("chargeRefundId") REFERENCES "ChargeRefund"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Money guards the Prisma schema cannot express.
ALTER TABLE "ChargeRefund" ADD CONSTRAINT "ChargeRefund_currency_iso" CHECK ("currency" ~ '^[A-Z]{3}$');
ALTER TABLE "ChargeRefund" ADD CONSTRAINT "ChargeRefund_amounts_valid" CHECK (
    "chargeAmount" > 0
    AND "providerPortion" >= 0
    AND "customerRefundedTotal" > 0 AND "customerRefundedTotal" <= "chargeAmount"
    AND "providerRefundedTotal" >= 0 AND "providerRefundedTotal" <= "providerPortion"
    AND "amount" >= 0 AND "amount" <= "providerRefundedTotal"
);
-- A reversal recovers one cause: a lost dispute or a refund step, never both.
ALTER TABLE "TransferReversal" ADD CONSTRAINT "TransferReversal_single_cause" CHECK ("disputeId" IS NULL OR "chargeRefundId" IS NULL);
