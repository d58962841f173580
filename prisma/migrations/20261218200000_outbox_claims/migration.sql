-- Publishers claim the unsent events they send (FOR UPDATE SKIP LOCKED, for a short while), so
-- concurrent publishers send disjoint sets: no event sent by every publisher at once, and no two
-- publishers updating the same rows in different orders (deadlocks).
ALTER TABLE "OutboxEvent" ADD COLUMN "claimedUntil" TIMESTAMPTZ(3);
