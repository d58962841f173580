-- The overview's totals per status and currency, kept instead of computed (issue 13: computing
-- them read every payout, ≈ 370 ms at a million). Every statement that writes "Payout" appends,
-- in its own transaction, one row per (status, currency) it changed: the signed change of the
-- count and of the amount. The totals are the sums of these rows, so any snapshot that sees a
-- payout write also sees its delta: exact, never an estimate. Rows are only appended (no row is
-- updated), so concurrent payout writes never wait on each other here; compactPayoutTotals
-- (lib/overview/compact-payout-totals.ts, run by the sweep) folds them into one row per key.
CREATE TABLE "PayoutTotalDelta" (
    "id" BIGSERIAL NOT NULL,
    "status" "PayoutStatus" NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "count" BIGINT NOT NULL,
    "amount" BIGINT NOT NULL,

    CONSTRAINT "PayoutTotalDelta_pkey" PRIMARY KEY ("id")
);

-- Statement-level, from the transition tables: one INSERT … SELECT … GROUP BY per statement,
-- however many rows it wrote (generate-payouts.ts inserts 100,000 per statement). An UPDATE
-- that changes no status, currency or amount (most of them: attempts, version, notes) appends
-- nothing. (A trigger with transition tables may have one event only, and no column list.)
CREATE FUNCTION "payout_totals_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "PayoutTotalDelta" ("status", "currency", "count", "amount")
    SELECT "status", "currency", COUNT(*), SUM("amount") FROM "new_payouts" GROUP BY "status", "currency";
    RETURN NULL;
END;
$$;

CREATE FUNCTION "payout_totals_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "PayoutTotalDelta" ("status", "currency", "count", "amount")
    SELECT "status", "currency", -COUNT(*), -SUM("amount") FROM "old_payouts" GROUP BY "status", "currency";
    RETURN NULL;
END;
$$;

CREATE FUNCTION "payout_totals_updated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "PayoutTotalDelta" ("status", "currency", "count", "amount")
    SELECT "status", "currency", SUM("n"), SUM("amount")
    FROM (
        SELECT "status", "currency", 1 AS "n", "amount"::bigint AS "amount" FROM "new_payouts"
        UNION ALL
        SELECT "status", "currency", -1, -"amount"::bigint FROM "old_payouts"
    ) AS "change"
    GROUP BY "status", "currency"
    HAVING SUM("n") <> 0 OR SUM("amount") <> 0;
    RETURN NULL;
END;
$$;

-- TRUNCATE "Payout" (transition tables do not exist for it) empties the totals too. The lock
-- waits for a compaction in flight (it holds ROW EXCLUSIVE on the table), so the DELETE, with a
-- snapshot taken after it, also removes the rows that compaction wrote.
CREATE FUNCTION "payout_totals_truncated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE "PayoutTotalDelta" IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM "PayoutTotalDelta";
    RETURN NULL;
END;
$$;

-- No payout is written between the triggers' creation and the backfill (the lock is held until
-- this migration commits), so the backfill and the deltas after it add up exactly.
LOCK TABLE "Payout" IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER "Payout_totals_insert" AFTER INSERT ON "Payout"
    REFERENCING NEW TABLE AS "new_payouts"
    FOR EACH STATEMENT EXECUTE FUNCTION "payout_totals_inserted"();
CREATE TRIGGER "Payout_totals_update" AFTER UPDATE ON "Payout"
    REFERENCING OLD TABLE AS "old_payouts" NEW TABLE AS "new_payouts"
    FOR EACH STATEMENT EXECUTE FUNCTION "payout_totals_updated"();
CREATE TRIGGER "Payout_totals_delete" AFTER DELETE ON "Payout"
    REFERENCING OLD TABLE AS "old_payouts"
    FOR EACH STATEMENT EXECUTE FUNCTION "payout_totals_deleted"();
CREATE TRIGGER "Payout_totals_truncate" AFTER TRUNCATE ON "Payout"
    FOR EACH STATEMENT EXECUTE FUNCTION "payout_totals_truncated"();

INSERT INTO "PayoutTotalDelta" ("status", "currency", "count", "amount")
SELECT "status", "currency", COUNT(*), SUM("amount") FROM "Payout" GROUP BY "status", "currency";
