-- A charge's provider portion can shrink: a tip paid with it, accepted before its booking's
-- cancellation arrived but tipped after it, is rejected at the cancellation (cancel-booking.ts),
-- and the step that re-prices the charge's refunds gives back what they took of the tip, which can
-- be more than the smaller portion now. A step still never takes more than the portion, and never
-- gives back more than the whole charge. Added NOT VALID and validated after, so the check of the
-- existing rows does not block writes to the table.
ALTER TABLE "ChargeRefund" DROP CONSTRAINT "ChargeRefund_amounts_valid";
ALTER TABLE "ChargeRefund" ADD CONSTRAINT "ChargeRefund_amounts_valid" CHECK (
    "chargeAmount" > 0
    AND "providerPortion" >= 0
    AND "customerRefundedTotal" >= 0 AND "customerRefundedTotal" <= "chargeAmount"
    AND "providerRefundedTotal" >= 0 AND "providerRefundedTotal" <= "providerPortion"
    AND "amount" BETWEEN -"chargeAmount" AND "providerPortion"
    AND "sequence" > 0
) NOT VALID;
ALTER TABLE "ChargeRefund" VALIDATE CONSTRAINT "ChargeRefund_amounts_valid";
