-- What the provider lost after the transfer is reversedAmount − repaidAmount: reversals (of the
-- payout's transfers, of its top-ups and of its repayments) less what repayments gave back of
-- them. That, not every reversal ever made, is what the payout's amount bounds: a repayment is a
-- transfer too, and a loss that comes after it (another refund, a dispute) is reversed from it,
-- so reversedAmount alone may exceed the amount (160.00 transferred, 160.00 reversed for a refund
-- that then failed, 160.00 repaid, 50.00 reversed for a second refund: 210.00 reversed, 50.00 lost).
ALTER TABLE "Payout" DROP CONSTRAINT "Payout_reversed_within_amount";
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_lost_within_amount" CHECK ("reversedAmount" - "repaidAmount" <= "amount");
