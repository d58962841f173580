-- Stripe in live mode: payouts paid with one transfer per funding charge (source_transaction),
-- in the charge's settlement currency, waiting for funds instead of failing; refunds that fail;
-- charge losses that go down as well as up; Connect bank payouts; PaymentIntent ids; the
-- api_version, account and creation time of every stored Stripe event.

-- AlterEnum (new values are not used in this file: PostgreSQL refuses that in one transaction)
ALTER TYPE "HoldReason" ADD VALUE 'awaiting_funds';
ALTER TYPE "HoldReason" ADD VALUE 'currency_unsupported';
ALTER TYPE "HoldReason" ADD VALUE 'review_required';
ALTER TYPE "ReversalStatus" ADD VALUE 'canceled';

-- CreateEnum
CREATE TYPE "ChargeStepCause" AS ENUM ('refund', 'refund_failed', 'reprice');

-- CreateEnum
CREATE TYPE "PayoutTransferKind" AS ENUM ('payout', 'repayment');

-- CreateEnum
CREATE TYPE "PayoutTransferStatus" AS ENUM ('pending', 'succeeded', 'superseded');

-- CreateEnum
CREATE TYPE "BankPayoutStatus" AS ENUM ('pending', 'in_transit', 'paid', 'failed', 'canceled');

-- AlterTable
ALTER TABLE "Provider" ADD COLUMN "accountStateAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "Booking" ADD COLUMN "stripePaymentIntentId" VARCHAR(255);

-- AlterTable
ALTER TABLE "Tip" ADD COLUMN "stripePaymentIntentId" VARCHAR(255);

-- AlterTable
ALTER TABLE "Dispute" ADD COLUMN "disputedAmount" INTEGER;

-- AlterTable
ALTER TABLE "ChargeRefund" ADD COLUMN "sequence" INTEGER,
ADD COLUMN "cause" "ChargeStepCause" NOT NULL DEFAULT 'refund';

-- AlterTable
ALTER TABLE "Payout" ADD COLUMN "repaidAmount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "transferCurrency" VARCHAR(3),
ADD COLUMN "fundsExpectedAt" TIMESTAMPTZ(3),
ADD COLUMN "fundsWaitingSince" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "TransferAttempt" ADD COLUMN "counted" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "TransferReversal" ADD COLUMN "payoutTransferId" UUID,
ADD COLUMN "transferAmount" INTEGER,
ADD COLUMN "transferCurrency" VARCHAR(3),
ADD COLUMN "sentAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "ProviderDebt" ADD COLUMN "reversalId" UUID;

-- AlterTable
ALTER TABLE "WebhookEvent" ADD COLUMN "apiVersion" VARCHAR(50),
ADD COLUMN "account" VARCHAR(255),
ADD COLUMN "eventCreatedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "StripeRefund" (
    "id" VARCHAR(255) NOT NULL,
    "stripeChargeId" VARCHAR(255) NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "status" VARCHAR(30) NOT NULL,
    "failureReason" VARCHAR(100),
    "statusAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StripeRefund_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeCharge" (
    "id" VARCHAR(255) NOT NULL,
    "paymentIntentId" VARCHAR(255),
    "amount" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "settlementCurrency" VARCHAR(3) NOT NULL,
    "settledAmount" INTEGER NOT NULL,
    "exchangeRate" VARCHAR(40),
    "balanceTransactionId" VARCHAR(255),
    "availableOn" TIMESTAMPTZ(3),
    "metadataBookingId" VARCHAR(191),
    "transferGroup" VARCHAR(255),
    "fetchedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "StripeCharge_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PayoutTransfer" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "payoutId" UUID NOT NULL,
    "kind" "PayoutTransferKind" NOT NULL DEFAULT 'payout',
    "amountVersion" INTEGER NOT NULL,
    "leg" INTEGER NOT NULL,
    "sourceChargeId" VARCHAR(255),
    "payoutAmount" INTEGER NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "exchangeRate" VARCHAR(40),
    "status" "PayoutTransferStatus" NOT NULL DEFAULT 'pending',
    "refusals" INTEGER NOT NULL DEFAULT 0,
    "idempotencyKey" VARCHAR(255) NOT NULL,
    "stripeTransferId" VARCHAR(255),
    "destinationPaymentId" VARCHAR(255),
    "chargeRefundId" UUID,
    "bankPayoutId" UUID,
    "transferredAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PayoutTransfer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProviderBankPayout" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "providerId" UUID NOT NULL,
    "stripePayoutId" VARCHAR(255) NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "status" "BankPayoutStatus" NOT NULL,
    "automatic" BOOLEAN NOT NULL DEFAULT true,
    "arrivalDate" TIMESTAMPTZ(3),
    "failureCode" VARCHAR(100),
    "failureMessage" TEXT,
    "stateAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProviderBankPayout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RateLimit" (
    "key" VARCHAR(100) NOT NULL,
    "nextSlotAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "RateLimit_pkey" PRIMARY KEY ("key")
);

-- Backfill: the charge steps of each charge numbered in the order they were recorded.
UPDATE "ChargeRefund" c SET "sequence" = n.seq
FROM (
  SELECT "id", row_number() OVER (PARTITION BY "stripeChargeId" ORDER BY "createdAt", "customerRefundedTotal", "providerPortion", "id") AS seq
  FROM "ChargeRefund"
) n
WHERE n."id" = c."id";
ALTER TABLE "ChargeRefund" ALTER COLUMN "sequence" SET NOT NULL;

-- Backfill: every transfer a payout already has becomes its first (and only) PayoutTransfer,
-- with the amount and key of the attempt that made it where one is recorded.
INSERT INTO "PayoutTransfer" ("payoutId", "kind", "amountVersion", "leg", "payoutAmount", "amount", "currency", "status", "idempotencyKey", "stripeTransferId", "transferredAt", "createdAt", "updatedAt")
SELECT p."id", 'payout', p."amountVersion", 1, p."amount",
       COALESCE(a."amount", p."amount"), COALESCE(upper(a."currency"), p."currency"), 'succeeded',
       COALESCE(a."idempotencyKey", 'payout:' || p."id" || ':v' || p."amountVersion"),
       p."stripeTransferId", COALESCE(p."transferredAt", p."updatedAt"), COALESCE(p."transferredAt", p."updatedAt"), COALESCE(p."transferredAt", p."updatedAt")
FROM "Payout" p
LEFT JOIN LATERAL (
  SELECT t."amount", t."currency", t."idempotencyKey" FROM "TransferAttempt" t
  WHERE t."payoutId" = p."id" AND t."stripeTransferId" = p."stripeTransferId"
  ORDER BY t."attemptNumber" DESC LIMIT 1
) a ON true
WHERE p."stripeTransferId" IS NOT NULL AND p."amount" > 0;

-- Backfill: existing reversals reverse that transfer, in its currency; those ever sent are never cancelled.
UPDATE "TransferReversal" r SET "payoutTransferId" = t."id", "transferAmount" = r."amount", "transferCurrency" = r."currency",
       "sentAt" = CASE WHEN r."status" = 'pending' AND r."stripeReversalId" IS NULL THEN r."createdAt" ELSE r."updatedAt" END
FROM "PayoutTransfer" t
WHERE t."payoutId" = r."payoutId" AND t."leg" = 1 AND t."kind" = 'payout';

-- Backfill: a debt belongs to the failed reversal of its dispute.
UPDATE "ProviderDebt" d SET "reversalId" = r."id"
FROM "TransferReversal" r
WHERE d."disputeId" IS NOT NULL AND r."disputeId" = d."disputeId" AND r."status" = 'failed';

-- Backfill: what the stored Stripe events say of themselves.
UPDATE "WebhookEvent" SET
  "apiVersion" = left("payload" ->> 'api_version', 50),
  "account" = left("payload" ->> 'account', 255),
  "eventCreatedAt" = CASE WHEN jsonb_typeof("payload" -> 'created') = 'number' THEN to_timestamp(("payload" ->> 'created')::double precision) END
WHERE "source" = 'stripe';

-- Backfill: the amount the bank took back on each Stripe dispute, from its stored events.
UPDATE "Dispute" d SET "disputedAmount" = (
  SELECT (w."payload" #>> '{data,object,amount}')::integer FROM "WebhookEvent" w
  WHERE w."source" = 'stripe' AND w."type" LIKE 'charge.dispute.%'
    AND w."payload" #>> '{data,object,id}' = d."stripeDisputeId"
    AND jsonb_typeof(w."payload" #> '{data,object,amount}') = 'number'
  ORDER BY w."receivedAt" DESC LIMIT 1
)
WHERE d."stripeDisputeId" IS NOT NULL;

-- DropIndex
DROP INDEX "ChargeRefund_charge_total_portion_key";

-- DropIndex
DROP INDEX "TransferReversal_disputeId_key";

-- DropIndex
DROP INDEX "TransferReversal_chargeRefundId_key";

-- DropIndex
DROP INDEX "ProviderDebt_disputeId_key";

-- CreateIndex
CREATE UNIQUE INDEX "Booking_stripePaymentIntentId_key" ON "Booking"("stripePaymentIntentId");

-- CreateIndex
CREATE INDEX "Tip_stripePaymentIntentId_idx" ON "Tip"("stripePaymentIntentId");

-- CreateIndex
CREATE UNIQUE INDEX "ChargeRefund_stripeChargeId_sequence_key" ON "ChargeRefund"("stripeChargeId", "sequence");

-- CreateIndex
CREATE INDEX "StripeRefund_stripeChargeId_idx" ON "StripeRefund"("stripeChargeId");

-- CreateIndex
CREATE INDEX "StripeCharge_paymentIntentId_idx" ON "StripeCharge"("paymentIntentId");

-- CreateIndex
CREATE INDEX "Payout_status_fundsExpectedAt_idx" ON "Payout"("status", "fundsExpectedAt");

-- CreateIndex
CREATE UNIQUE INDEX "PayoutTransfer_stripeTransferId_key" ON "PayoutTransfer"("stripeTransferId");

-- CreateIndex
CREATE UNIQUE INDEX "PayoutTransfer_destinationPaymentId_key" ON "PayoutTransfer"("destinationPaymentId");

-- CreateIndex
CREATE INDEX "PayoutTransfer_bankPayoutId_idx" ON "PayoutTransfer"("bankPayoutId");

-- CreateIndex
CREATE UNIQUE INDEX "PayoutTransfer_payoutId_kind_amountVersion_leg_key" ON "PayoutTransfer"("payoutId", "kind", "amountVersion", "leg");

-- CreateIndex
CREATE UNIQUE INDEX "PayoutTransfer_chargeRefundId_key" ON "PayoutTransfer"("chargeRefundId");

-- CreateIndex
CREATE INDEX "TransferReversal_payoutTransferId_idx" ON "TransferReversal"("payoutTransferId");

-- CreateIndex
CREATE UNIQUE INDEX "TransferReversal_disputeId_payoutTransferId_key" ON "TransferReversal"("disputeId", "payoutTransferId");

-- CreateIndex
CREATE UNIQUE INDEX "TransferReversal_chargeRefundId_payoutTransferId_key" ON "TransferReversal"("chargeRefundId", "payoutTransferId");

-- CreateIndex
CREATE UNIQUE INDEX "ProviderDebt_reversalId_key" ON "ProviderDebt"("reversalId");

-- CreateIndex
CREATE INDEX "ProviderDebt_disputeId_idx" ON "ProviderDebt"("disputeId");

-- CreateIndex
CREATE UNIQUE INDEX "ProviderBankPayout_stripePayoutId_key" ON "ProviderBankPayout"("stripePayoutId");

-- CreateIndex
CREATE INDEX "ProviderBankPayout_providerId_createdAt_idx" ON "ProviderBankPayout"("providerId", "createdAt");

-- AddForeignKey
ALTER TABLE "PayoutTransfer" ADD CONSTRAINT "PayoutTransfer_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "Payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutTransfer" ADD CONSTRAINT "PayoutTransfer_chargeRefundId_fkey" FOREIGN KEY ("chargeRefundId") REFERENCES "ChargeRefund"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutTransfer" ADD CONSTRAINT "PayoutTransfer_bankPayoutId_fkey" FOREIGN KEY ("bankPayoutId") REFERENCES "ProviderBankPayout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TransferReversal" ADD CONSTRAINT "TransferReversal_payoutTransferId_fkey" FOREIGN KEY ("payoutTransferId") REFERENCES "PayoutTransfer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProviderDebt" ADD CONSTRAINT "ProviderDebt_reversalId_fkey" FOREIGN KEY ("reversalId") REFERENCES "TransferReversal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProviderBankPayout" ADD CONSTRAINT "ProviderBankPayout_providerId_fkey" FOREIGN KEY ("providerId") REFERENCES "Provider"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Money guards the Prisma schema cannot express.
ALTER TABLE "ChargeRefund" DROP CONSTRAINT "ChargeRefund_amounts_valid";
ALTER TABLE "ChargeRefund" ADD CONSTRAINT "ChargeRefund_amounts_valid" CHECK (
    "chargeAmount" > 0
    AND "providerPortion" >= 0
    AND "customerRefundedTotal" >= 0 AND "customerRefundedTotal" <= "chargeAmount"
    AND "providerRefundedTotal" >= 0 AND "providerRefundedTotal" <= "providerPortion"
    AND "amount" BETWEEN -"providerPortion" AND "providerPortion"
    AND "sequence" > 0
);
ALTER TABLE "StripeRefund" ADD CONSTRAINT "StripeRefund_amount_valid" CHECK ("amount" >= 0 AND "currency" ~ '^[A-Z]{3}$');
ALTER TABLE "StripeCharge" ADD CONSTRAINT "StripeCharge_amounts_valid" CHECK (
    "amount" >= 0 AND "settledAmount" >= 0 AND "currency" ~ '^[A-Z]{3}$' AND "settlementCurrency" ~ '^[A-Z]{3}$'
);
ALTER TABLE "PayoutTransfer" ADD CONSTRAINT "PayoutTransfer_amounts_valid" CHECK (
    "amount" > 0 AND "payoutAmount" > 0 AND "leg" > 0 AND "refusals" >= 0 AND "currency" ~ '^[A-Z]{3}$'
);
-- A repayment pays back one charge step; a payout transfer pays no step.
ALTER TABLE "PayoutTransfer" ADD CONSTRAINT "PayoutTransfer_repayment_cause" CHECK (("kind" = 'repayment') = ("chargeRefundId" IS NOT NULL));
ALTER TABLE "TransferReversal" ADD CONSTRAINT "TransferReversal_transfer_amount_positive" CHECK ("transferAmount" IS NULL OR "transferAmount" > 0);
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_repaid_within_reversed" CHECK ("repaidAmount" >= 0 AND "repaidAmount" <= "reversedAmount");
ALTER TABLE "ProviderBankPayout" ADD CONSTRAINT "ProviderBankPayout_amount_valid" CHECK ("amount" >= 0 AND "currency" ~ '^[A-Z]{3}$');
