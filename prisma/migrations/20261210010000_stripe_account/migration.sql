-- What Stripe said of a connected account that no provider had yet (account.updated before the
-- provider's first booking): applied when a provider is recorded with the account.

-- CreateTable
CREATE TABLE "StripeAccount" (
    "id" VARCHAR(255) NOT NULL,
    "payoutsEnabled" BOOLEAN NOT NULL,
    "transfersActive" BOOLEAN NOT NULL,
    "disabledReason" TEXT,
    "stateAt" TIMESTAMPTZ(3) NOT NULL,
    "toldAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StripeAccount_pkey" PRIMARY KEY ("id")
);
