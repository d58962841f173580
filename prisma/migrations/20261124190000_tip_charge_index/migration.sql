-- Stripe events name a charge; finding the booking a tip's charge belongs to (and the sweep's
-- re-check of deferred Stripe deliveries) looked it up by scanning Tip.

-- CreateIndex
CREATE INDEX "Tip_stripeChargeId_idx" ON "Tip"("stripeChargeId");
