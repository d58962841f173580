import "server-only";

import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import { getEnv } from "@/lib/env";

import { nextAttemptAfterFailure } from "./backoff";
import { webhookHeaders } from "./signature";

/** The endpoint from the configuration (PLATFORM_WEBHOOK_URL, PLATFORM_WEBHOOK_SECRET), if any. */
export type TConfigEndpoint = { url: string; secrets: readonly string[] } | null;

export type TDeliverDeps = {
  db: PrismaClient;
  /** The clock for scheduling (tests move it by days); attempts' durations use the real one. */
  now?: () => Date;
  fetch?: typeof fetch;
  /** How long one attempt may take, answer included (default 10 s). */
  timeoutMs?: number;
  /** Default: from the environment. */
  config?: TConfigEndpoint;
};

export type TDeliverResult = { attempted: number; succeeded: number; failed: number };

/** How long a deliverer's claim on a delivery keeps others off it (longer than an attempt may take). */
export const DELIVERY_CLAIM_MS = 60_000;
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** What is kept of an endpoint's answer. */
export const RESPONSE_BODY_CAP = 2_000;
const BATCH = 50;
const MAX_BATCHES = 20;

export function configEndpointFromEnv(): TConfigEndpoint {
  const env = getEnv();
  return env.PLATFORM_WEBHOOK_URL && env.PLATFORM_WEBHOOK_SECRET
    ? { url: env.PLATFORM_WEBHOOK_URL, secrets: env.PLATFORM_WEBHOOK_SECRET }
    : null;
}

/**
 * Delivers what is due to the booking platform's endpoints: first the events not yet fanned out
 * become one delivery per enabled endpoint that wants them (all of them, or just `eventIds`),
 * then the due deliveries are claimed (FOR UPDATE SKIP LOCKED, for DELIVERY_CLAIM_MS: two
 * deliverers never send the same attempt) and sent, signed per Standard Webhooks, each attempt
 * logged with the answer. Per endpoint, a payout's events go out in sequence: a delivery waits
 * while an earlier event of the same subject is still pending for that endpoint. A failure is
 * tried again with exponential backoff for 3 days (backoff.ts), by whoever runs this next (the
 * engine's function every minute, the sweep, the next change).
 */
export async function deliverPlatformWebhooks(deps: TDeliverDeps, options: { eventIds?: string[] } = {}): Promise<TDeliverResult> {
  const total: TDeliverResult = { attempted: 0, succeeded: 0, failed: 0 };
  if (options.eventIds?.length === 0) return total;
  const config = deps.config === undefined ? configEndpointFromEnv() : deps.config;
  await syncConfigEndpoint(deps.db, config);
  await fanOut(deps.db, options.eventIds);
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const claimed = await claimDue(deps.db, (deps.now ?? (() => new Date()))(), options.eventIds);
    if (claimed.length === 0) break;
    const results = await Promise.all(claimed.map((id) => attemptDelivery(deps, config, id, { manual: false })));
    for (const ok of results) {
      total.attempted += 1;
      if (ok) total.succeeded += 1;
      else total.failed += 1;
    }
  }
  return total;
}

/** The configuration's endpoint as a row (its secrets stay in the configuration), once per process and value. */
const synced = new WeakMap<PrismaClient, string>();
async function syncConfigEndpoint(db: PrismaClient, config: TConfigEndpoint): Promise<void> {
  const key = config?.url ?? "";
  if (synced.get(db) === key) return;
  if (config) {
    await db.$executeRaw`
      INSERT INTO "PlatformWebhookEndpoint" (url, description, source, "eventTypes")
      VALUES (${config.url}, 'From PLATFORM_WEBHOOK_URL', 'config', '[]'::jsonb)
      ON CONFLICT (source) WHERE source = 'config'
      DO UPDATE SET url = EXCLUDED.url, enabled = true, "updatedAt" = now()`;
  } else {
    await db.platformWebhookEndpoint.updateMany({ where: { source: "config", enabled: true }, data: { enabled: false } });
  }
  synced.set(db, key);
}

/**
 * Events not yet fanned out → one delivery per enabled endpoint whose filter takes them and that
 * existed when the event was written (one statement).
 */
async function fanOut(db: PrismaClient, eventIds?: string[]): Promise<void> {
  const only = eventIds ? Prisma.sql`AND id = ANY(${eventIds}::uuid[])` : Prisma.empty;
  await db.$executeRaw`
    WITH ev AS (
      UPDATE "PlatformWebhookEvent" SET "fannedOutAt" = clock_timestamp()
      WHERE id IN (
        SELECT id FROM "PlatformWebhookEvent" WHERE "fannedOutAt" IS NULL ${only}
        ORDER BY "createdAt", id LIMIT 1000 FOR UPDATE SKIP LOCKED)
      RETURNING id, type, "createdAt")
    INSERT INTO "PlatformWebhookDelivery" ("eventId", "endpointId", "nextAttemptAt", "createdAt")
    SELECT ev.id, ep.id, ev."createdAt", ev."createdAt"
    FROM ev JOIN "PlatformWebhookEndpoint" ep
      ON ep.enabled AND (jsonb_array_length(ep."eventTypes") = 0 OR ep."eventTypes" ? ev.type)
      -- An endpoint receives the events from its creation on (the configuration's: all).
      AND (ep."createdAt" <= ev."createdAt" OR ep.source = 'config')
    ON CONFLICT ("eventId", "endpointId") DO NOTHING`;
}

/** Claims due deliveries, each the oldest pending event of its subject for its endpoint. */
async function claimDue(db: PrismaClient, now: Date, eventIds?: string[]): Promise<string[]> {
  const only = eventIds ? Prisma.sql`AND d."eventId" = ANY(${eventIds}::uuid[])` : Prisma.empty;
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE "PlatformWebhookDelivery" SET "claimedUntil" = clock_timestamp() + ${DELIVERY_CLAIM_MS} * interval '1 millisecond'
    WHERE id IN (
      SELECT d.id FROM "PlatformWebhookDelivery" d
      JOIN "PlatformWebhookEvent" e ON e.id = d."eventId"
      JOIN "PlatformWebhookEndpoint" ep ON ep.id = d."endpointId" AND ep.enabled
      WHERE d.status = 'pending' AND d."nextAttemptAt" <= ${now}
        AND (d."claimedUntil" IS NULL OR d."claimedUntil" < clock_timestamp()) ${only}
        AND NOT EXISTS (
          SELECT 1 FROM "PlatformWebhookDelivery" d2 JOIN "PlatformWebhookEvent" e2 ON e2.id = d2."eventId"
          WHERE d2."endpointId" = d."endpointId" AND d2.status = 'pending'
            AND e2."subjectId" = e."subjectId" AND e2.sequence < e.sequence)
      ORDER BY d."nextAttemptAt", d.id
      LIMIT ${BATCH}
      FOR UPDATE OF d SKIP LOCKED)
    RETURNING id::text AS id`;
  return rows.map((r) => r.id);
}

/** A delivery's body: the Standard Webhooks envelope, the same bytes on every attempt. */
export function deliveryBody(event: { type: string; createdAt: Date; payload: Prisma.JsonValue }): string {
  return JSON.stringify({ type: event.type, timestamp: event.createdAt.toISOString(), data: event.payload });
}

/** The webhook-id of an event (the platform's idempotency key: the same on every attempt and re-send). */
export function messageId(eventId: string): string {
  return `msg_${eventId}`;
}

/**
 * One attempt of a delivery the caller has claimed (or, manual, an admin's re-send), recorded with
 * the answer; the delivery's next attempt scheduled, or its outcome set. True on a 2xx.
 */
export async function attemptDelivery(
  deps: TDeliverDeps,
  config: TConfigEndpoint,
  deliveryId: string,
  options: { manual: boolean },
): Promise<boolean> {
  const delivery = await deps.db.platformWebhookDelivery.findUniqueOrThrow({
    where: { id: deliveryId },
    include: { event: true, endpoint: { include: { secrets: { orderBy: { createdAt: "desc" } } } } },
  });
  const now = (deps.now ?? (() => new Date()))();
  const secrets =
    delivery.endpoint.source === "config"
      ? [...(config?.secrets ?? [])]
      : delivery.endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret);
  const body = deliveryBody(delivery.event);
  const startedAt = new Date();
  const started = performance.now();
  const outcome =
    secrets.length === 0
      ? { error: "No signing secret for this endpoint." }
      : await post(deps, delivery.endpoint.url, body, secrets, messageId(delivery.eventId), startedAt);
  const durationMs = Math.round(performance.now() - started);
  const ok = outcome.statusCode !== undefined && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const attempts = delivery.attempts + 1;
  const error = ok ? null : (outcome.error ?? `HTTP ${outcome.statusCode}`);

  let status = delivery.status;
  let nextAttemptAt = delivery.nextAttemptAt;
  if (ok) {
    status = "succeeded";
    nextAttemptAt = null;
  } else if (!options.manual && delivery.status === "pending") {
    // A re-send leaves the schedule as it was; a scheduled attempt moves it on.
    nextAttemptAt = nextAttemptAfterFailure({ attempts, since: delivery.createdAt, now });
    if (!nextAttemptAt) status = "failed";
  }
  await deps.db.$transaction([
    deps.db.platformWebhookAttempt.create({
      data: {
        deliveryId,
        number: attempts,
        manual: options.manual,
        startedAt,
        durationMs,
        statusCode: outcome.statusCode ?? null,
        responseBody: outcome.body ?? null,
        error,
      },
    }),
    deps.db.platformWebhookDelivery.update({
      where: { id: deliveryId },
      data: {
        attempts,
        status,
        nextAttemptAt,
        claimedUntil: null,
        lastStatus: outcome.statusCode ?? null,
        lastError: error,
        ...(ok ? { deliveredAt: startedAt } : {}),
      },
    }),
  ]);
  return ok;
}

type TPostOutcome = { statusCode?: number; body?: string; error?: string };

/** `at`: the attempt's real time, the webhook-timestamp a receiver checks against its own clock. */
async function post(
  deps: TDeliverDeps,
  url: string,
  body: string,
  secrets: readonly string[],
  msgId: string,
  at: Date,
): Promise<TPostOutcome> {
  const timeoutMs = deps.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await (deps.fetch ?? fetch)(url, {
      method: "POST",
      // Redirects are failures (Standard Webhooks): the endpoint's URL should be updated instead.
      redirect: "manual",
      signal,
      headers: { "content-type": "application/json", "user-agent": "payouts-webhooks/1", ...webhookHeaders({ msgId, at, body, secrets }) },
      body,
    });
    return { statusCode: response.status, body: await cappedText(response) };
  } catch (error) {
    if (signal.aborted) return { error: `No answer within ${timeoutMs} ms` };
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return { error: `${error instanceof Error ? error.message : String(error)}${cause}`.slice(0, 500) };
  }
}

/** The start of an answer's body, read no further than RESPONSE_BODY_CAP characters. */
async function cappedText(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < RESPONSE_BODY_CAP) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // What arrived before the body broke off is kept.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return text.slice(0, RESPONSE_BODY_CAP);
}
