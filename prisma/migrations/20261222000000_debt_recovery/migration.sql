-- Provider debts are recovered from the provider's next payouts in the same currency
-- (docs/architecture.md, "Debt recovery").

-- A payout whose whole amount went to the provider's debts: closed without a Stripe transfer.
ALTER TYPE "PayoutStatus" ADD VALUE 'applied_to_debt';
-- A debt an admin waived (forgiven: the provider does not owe it) or wrote off (not collectable).
ALTER TYPE "DebtStatus" ADD VALUE 'waived';

CREATE TYPE "DebtRecoveryStatus" AS ENUM ('reserved', 'applied', 'released');
CREATE TYPE "DebtClosing" AS ENUM ('waive', 'write_off');

-- The part of the payout kept for the provider's debts (reserved at the claim, applied with the
-- transfer): what is transferred is the amount, which is what is left after it.
ALTER TABLE "Payout" ADD COLUMN "debtRecoveredAmount" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Payout" DROP CONSTRAINT "Payout_amount_formula";
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_amount_formula" CHECK (
    "debtRecoveredAmount" >= 0
    AND "amount" = GREATEST(0, "providerShare" + "tipAmount" - "refundedAmount") - "debtRecoveredAmount"
);

-- What recoveries took of the debt (reserved or applied); what is left is amount − recoveredAmount.
ALTER TABLE "ProviderDebt" ADD COLUMN "recoveredAmount" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "ProviderDebt" ADD COLUMN "closedReason" TEXT;
ALTER TABLE "ProviderDebt" ADD CONSTRAINT "ProviderDebt_recovered_within_amount" CHECK (
    "recoveredAmount" >= 0 AND "recoveredAmount" <= "amount"
);
CREATE INDEX "ProviderDebt_providerId_currency_status_idx" ON "ProviderDebt"("providerId", "currency", "status");
-- The payout detail lists the debts its failed reversals made.
CREATE INDEX "ProviderDebt_payoutId_idx" ON "ProviderDebt"("payoutId");

-- One recovery per debt and payout: reserved when the payout is claimed for its transfer, applied
-- when the transfer is made (or at once when nothing is left to transfer), released when it is not.
CREATE TABLE "DebtRecovery" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "debtId" UUID NOT NULL,
    "payoutId" UUID NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "status" "DebtRecoveryStatus" NOT NULL DEFAULT 'reserved',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "appliedAt" TIMESTAMPTZ(3),
    CONSTRAINT "DebtRecovery_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "DebtRecovery_amount_positive" CHECK ("amount" > 0)
);
CREATE UNIQUE INDEX "DebtRecovery_debtId_payoutId_key" ON "DebtRecovery"("debtId", "payoutId");
CREATE INDEX "DebtRecovery_payoutId_idx" ON "DebtRecovery"("payoutId");
ALTER TABLE "DebtRecovery" ADD CONSTRAINT "DebtRecovery_debtId_fkey" FOREIGN KEY ("debtId") REFERENCES "ProviderDebt"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "DebtRecovery" ADD CONSTRAINT "DebtRecovery_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "Payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A waive or write-off at or above FOUR_EYES_THRESHOLD waits for a second admin.
CREATE TABLE "DebtClosingRequest" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "debtId" UUID NOT NULL,
    "closing" "DebtClosing" NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "reason" TEXT NOT NULL,
    "status" "ApprovalStatus" NOT NULL DEFAULT 'pending',
    "requestedById" UUID NOT NULL,
    "decidedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" TIMESTAMPTZ(3),
    CONSTRAINT "DebtClosingRequest_pkey" PRIMARY KEY ("id")
);
-- At most one pending request per debt.
CREATE UNIQUE INDEX "DebtClosingRequest_one_pending" ON "DebtClosingRequest"("debtId") WHERE "status" = 'pending';
CREATE INDEX "DebtClosingRequest_debtId_status_idx" ON "DebtClosingRequest"("debtId", "status");
ALTER TABLE "DebtClosingRequest" ADD CONSTRAINT "DebtClosingRequest_debtId_fkey" FOREIGN KEY ("debtId") REFERENCES "ProviderDebt"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "DebtClosingRequest" ADD CONSTRAINT "DebtClosingRequest_requestedById_fkey" FOREIGN KEY ("requestedById") REFERENCES "AdminUser"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "DebtClosingRequest" ADD CONSTRAINT "DebtClosingRequest_decidedById_fkey" FOREIGN KEY ("decidedById") REFERENCES "AdminUser"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
