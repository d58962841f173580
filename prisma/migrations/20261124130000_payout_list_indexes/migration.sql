-- Keyset pagination of the payouts list: every sort the list offers, (sort column, id),
-- has an index ((createdAt, id) exists since the first migration), and the most common
-- filter, one status, walks (status, createdAt, id) in the default order.

-- CreateIndex
CREATE INDEX "Payout_eligibleAt_id_idx" ON "Payout"("eligibleAt", "id");

-- CreateIndex
CREATE INDEX "Payout_amount_id_idx" ON "Payout"("amount", "id");

-- CreateIndex
CREATE INDEX "Payout_status_createdAt_id_idx" ON "Payout"("status", "createdAt", "id");
