-- A tip paid with a charge that was already (partly) refunded enlarges the provider's portion
-- of it: the refund is re-priced with a new step at the same refunded total, so one charge may
-- have one row per (total, portion).

-- DropIndex
DROP INDEX "ChargeRefund_stripeChargeId_customerRefundedTotal_key";

-- CreateIndex
CREATE UNIQUE INDEX "ChargeRefund_charge_total_portion_key" ON "ChargeRefund"("stripeChargeId", "customerRefundedTotal", "providerPortion");
