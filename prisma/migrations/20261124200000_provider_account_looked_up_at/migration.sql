-- When the sweep last asked Stripe about a held provider's account, whether or not Stripe
-- answered: look-ups that keep failing must not stay first in line and starve the others.

-- AlterTable
ALTER TABLE "Provider" ADD COLUMN "accountLookedUpAt" TIMESTAMPTZ(3);
