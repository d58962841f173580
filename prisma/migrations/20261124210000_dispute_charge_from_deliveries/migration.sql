-- Stripe disputes the first backfill (20261124170000_dispute_charge) could not place on a charge
-- (tips of the booking paid with several charges): the stored charge.dispute.* delivery names it.
UPDATE "Dispute" d SET "stripeChargeId" = w."payload" #>> '{data,object,charge}'
FROM "WebhookEvent" w
WHERE d."stripeChargeId" IS NULL AND d."stripeDisputeId" IS NOT NULL
  AND w."source" = 'stripe' AND w."type" LIKE 'charge.dispute.%'
  AND jsonb_typeof(w."payload" #> '{data,object,charge}') = 'string'
  AND w."payload" #>> '{data,object,id}' = d."stripeDisputeId";
