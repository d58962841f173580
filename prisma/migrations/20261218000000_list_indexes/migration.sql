-- Lists at one million payouts (issue 13).

-- Provider-name search ("name ILIKE 'bri%'", any case) through a trigram index instead of
-- reading every provider.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX "Provider_name_trgm_idx" ON "Provider" USING GIN ("name" gin_trgm_ops);

-- The list's sort indexes carry the other date as a last key column (the order stays
-- (sort column, id): id is unique). A date window on one column sorted by the other
-- ("due in October, newest created first") is then read from the index alone, instead of
-- fetching every row of the table newer than the window to test its date.
CREATE INDEX "Payout_createdAt_id_eligibleAt_idx" ON "Payout"("createdAt", "id", "eligibleAt");
DROP INDEX "Payout_createdAt_id_idx";
CREATE INDEX "Payout_eligibleAt_id_createdAt_idx" ON "Payout"("eligibleAt", "id", "createdAt");
DROP INDEX "Payout_eligibleAt_id_idx";
-- A provider's payouts newest first (the provider filter, a name search) from the index alone.
CREATE INDEX "Payout_providerId_createdAt_id_idx" ON "Payout"("providerId", "createdAt", "id");
DROP INDEX "Payout_providerId_createdAt_idx";

-- The overview: the newest failed payouts and the failed/cancelled volume by updatedAt, the
-- on-hold count per reason, and the transferred volume per day (read from the index alone).
CREATE INDEX "Payout_status_updatedAt_id_idx" ON "Payout"("status", "updatedAt", "id");
CREATE INDEX "Payout_status_holdReason_idx" ON "Payout"("status", "holdReason");
CREATE INDEX "Payout_transferredAt_currency_amount_idx" ON "Payout"("transferredAt", "currency", "amount");
