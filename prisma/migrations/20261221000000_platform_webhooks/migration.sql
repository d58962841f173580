-- Outbound webhooks to the booking platform (Standard Webhooks): endpoints, their secrets, the
-- events written in the transaction of the change they report, one delivery per event and
-- endpoint, and each attempt's answer.
CREATE TYPE "PlatformDeliveryStatus" AS ENUM ('pending', 'succeeded', 'failed');

CREATE TABLE "PlatformWebhookEndpoint" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "url" VARCHAR(2048) NOT NULL,
    "description" VARCHAR(255),
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "eventTypes" JSONB NOT NULL,
    "source" VARCHAR(10) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PlatformWebhookEndpoint_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PlatformWebhookEndpoint_url_scheme" CHECK ("url" ~ '^https?://'),
    CONSTRAINT "PlatformWebhookEndpoint_source" CHECK ("source" IN ('admin', 'config')),
    CONSTRAINT "PlatformWebhookEndpoint_eventTypes_array" CHECK (jsonb_typeof("eventTypes") = 'array')
);
CREATE INDEX "PlatformWebhookEndpoint_enabled_idx" ON "PlatformWebhookEndpoint"("enabled");
-- At most one endpoint from the configuration.
CREATE UNIQUE INDEX "PlatformWebhookEndpoint_one_config" ON "PlatformWebhookEndpoint"("source") WHERE "source" = 'config';

CREATE TABLE "PlatformWebhookSecret" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "endpointId" UUID NOT NULL,
    "secret" VARCHAR(100) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3),
    CONSTRAINT "PlatformWebhookSecret_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PlatformWebhookSecret_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "PlatformWebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "PlatformWebhookSecret_endpointId_createdAt_idx" ON "PlatformWebhookSecret"("endpointId", "createdAt");

CREATE TABLE "PlatformWebhookEvent" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "type" VARCHAR(64) NOT NULL,
    "subjectId" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "fannedOutAt" TIMESTAMPTZ(3),
    CONSTRAINT "PlatformWebhookEvent_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PlatformWebhookEvent_sequence_positive" CHECK ("sequence" >= 1)
);
CREATE UNIQUE INDEX "PlatformWebhookEvent_subjectId_sequence_key" ON "PlatformWebhookEvent"("subjectId", "sequence");
CREATE INDEX "PlatformWebhookEvent_fannedOutAt_createdAt_idx" ON "PlatformWebhookEvent"("fannedOutAt", "createdAt");

CREATE TABLE "PlatformWebhookDelivery" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "eventId" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "status" "PlatformDeliveryStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3),
    "claimedUntil" TIMESTAMPTZ(3),
    "lastStatus" INTEGER,
    "lastError" TEXT,
    "deliveredAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PlatformWebhookDelivery_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PlatformWebhookDelivery_eventId_fkey" FOREIGN KEY ("eventId") REFERENCES "PlatformWebhookEvent"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "PlatformWebhookDelivery_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "PlatformWebhookEndpoint"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "PlatformWebhookDelivery_eventId_endpointId_key" ON "PlatformWebhookDelivery"("eventId", "endpointId");
CREATE INDEX "PlatformWebhookDelivery_status_nextAttemptAt_idx" ON "PlatformWebhookDelivery"("status", "nextAttemptAt");
CREATE INDEX "PlatformWebhookDelivery_createdAt_id_idx" ON "PlatformWebhookDelivery"("createdAt", "id");

CREATE TABLE "PlatformWebhookAttempt" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "deliveryId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "manual" BOOLEAN NOT NULL DEFAULT false,
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "statusCode" INTEGER,
    "responseBody" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PlatformWebhookAttempt_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "PlatformWebhookAttempt_deliveryId_fkey" FOREIGN KEY ("deliveryId") REFERENCES "PlatformWebhookDelivery"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "PlatformWebhookAttempt_deliveryId_number_key" ON "PlatformWebhookAttempt"("deliveryId", "number");
