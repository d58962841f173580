-- A tamper-evident audit log (issue 14). The append-only trigger stops the app, not the database's
-- owner: an owner can disable it and edit or delete entries. So the log is sealed in batches by the
-- app (lib/audit-chain/seal-audit-log.ts) with a key the database never sees (AUDIT_CHAIN_KEY): each
-- sealed entry gets a link (its position in one chain and an HMAC over its canonical content and
-- the previous link's HMAC), each batch a seal (its positions, its last link's HMAC and the
-- previous seal's HMAC, HMAC'd in turn). An owner can change rows but cannot compute a valid HMAC,
-- so `npm run audit:verify` names the first entry changed, missing or out of the chain.

-- The entries not sealed yet. Filled by a statement trigger on "AuditLog" in the writing
-- transaction (the app sends no extra statement, and writers share no lock: each only inserts
-- its own rows); emptied by the sealer as it seals them. Existing entries are queued below, so the
-- first seal run seals them.
CREATE TABLE "AuditUnsealed" (
    "entryId" UUID NOT NULL,

    CONSTRAINT "AuditUnsealed_pkey" PRIMARY KEY ("entryId")
);

CREATE FUNCTION "audit_log_queue_unsealed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "AuditUnsealed" ("entryId") SELECT "id" FROM "new_entries";
    RETURN NULL;
END;
$$;

CREATE TRIGGER "AuditLog_queue_unsealed"
    AFTER INSERT ON "AuditLog"
    REFERENCING NEW TABLE AS "new_entries"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_queue_unsealed"();

INSERT INTO "AuditUnsealed" ("entryId") SELECT "id" FROM "AuditLog";

-- One row per sealed entry: its position in the chain (1, 2, … with no gap) and its link's HMAC.
CREATE TABLE "AuditChainLink" (
    "position" BIGINT NOT NULL,
    "entryId" UUID NOT NULL,
    "sealSequence" INTEGER NOT NULL,
    "hash" VARCHAR(64) NOT NULL,

    CONSTRAINT "AuditChainLink_pkey" PRIMARY KEY ("position")
);

CREATE UNIQUE INDEX "AuditChainLink_entryId_key" ON "AuditChainLink"("entryId");

-- One row per sealed batch (sequence 1, 2, … with no gap): the positions it covers, its last
-- link's HMAC, the previous seal's HMAC and its own.
CREATE TABLE "AuditSeal" (
    "sequence" INTEGER NOT NULL,
    "firstPosition" BIGINT NOT NULL,
    "lastPosition" BIGINT NOT NULL,
    "entryCount" INTEGER NOT NULL,
    "lastLinkHash" VARCHAR(64) NOT NULL,
    "previousHash" VARCHAR(64),
    "hash" VARCHAR(64) NOT NULL,
    "sealedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "AuditSeal_pkey" PRIMARY KEY ("sequence")
);

-- Links and seals are append-only too (the app never changes one).
CREATE FUNCTION "audit_chain_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "AuditChainLink_append_only"
    BEFORE UPDATE OR DELETE ON "AuditChainLink"
    FOR EACH ROW EXECUTE FUNCTION "audit_chain_append_only"();

CREATE TRIGGER "AuditSeal_append_only"
    BEFORE UPDATE OR DELETE ON "AuditSeal"
    FOR EACH ROW EXECUTE FUNCTION "audit_chain_append_only"();

-- Each verification of the chain and its result, shown on the Audit log page.
CREATE TABLE "AuditVerification" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "finishedAt" TIMESTAMPTZ(3) NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "trigger" VARCHAR(50) NOT NULL,
    "actorLabel" VARCHAR(255) NOT NULL,
    "entriesChecked" INTEGER NOT NULL,
    "sealsChecked" INTEGER NOT NULL,
    "unsealedEntries" INTEGER NOT NULL,
    "lastSealSequence" INTEGER,
    "lastSealHash" VARCHAR(64),
    "problemCount" INTEGER NOT NULL,
    "brokenEntryId" UUID,
    "brokenPosition" BIGINT,
    "brokenSealSequence" INTEGER,
    "problem" VARCHAR(50),
    "detail" TEXT,

    CONSTRAINT "AuditVerification_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "AuditVerification_finishedAt_idx" ON "AuditVerification"("finishedAt");
