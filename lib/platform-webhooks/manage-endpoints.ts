import "server-only";

import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import { recordAudit, type TActor } from "@/lib/audit/record-audit";
import { ConflictError, NotFoundError } from "@/lib/errors";

import { DEFAULT_GRACE_HOURS, type TCreateEndpoint, type TRotateSecret, type TUpdateEndpoint } from "./endpoint-schemas";
import { eventTypesOf } from "./event-types";
import { generateWebhookSecret } from "./signature";

export type TEndpointView = {
  id: string;
  url: string;
  description: string | null;
  enabled: boolean;
  eventTypes: string[];
  source: string;
  createdAt: string;
};

type TEndpointRow = {
  id: string;
  url: string;
  description: string | null;
  enabled: boolean;
  eventTypes: Prisma.JsonValue;
  source: string;
  createdAt: Date;
};

function view(e: TEndpointRow): TEndpointView {
  return { ...e, eventTypes: eventTypesOf(e.eventTypes), createdAt: e.createdAt.toISOString() };
}

const HOUR = 60 * 60 * 1000;

/** An admin adds an endpoint: its first secret is made here and shown once (the answer). Audited. */
export async function createEndpoint(
  db: PrismaClient,
  input: TCreateEndpoint,
  actor: TActor,
): Promise<{ endpoint: TEndpointView; secret: string }> {
  const secret = generateWebhookSecret();
  const endpoint = await db.$transaction(async (tx) => {
    const created = await tx.platformWebhookEndpoint.create({
      data: {
        url: input.url,
        description: input.description ?? null,
        eventTypes: input.eventTypes ?? [],
        source: "admin",
        secrets: { create: { secret } },
      },
    });
    await recordAudit(tx, {
      actor,
      action: "platform_webhook.endpoint_created",
      entityType: "platform_webhook",
      entityId: created.id,
      reason: input.reason ?? `endpoint ${created.url} added`,
      after: { url: created.url, description: created.description, eventTypes: created.eventTypes, enabled: created.enabled },
    });
    return created;
  });
  return { endpoint: view(endpoint), secret };
}

async function adminEndpointOrThrow(db: PrismaClient, id: string) {
  const endpoint = await db.platformWebhookEndpoint.findUnique({ where: { id } });
  if (!endpoint) throw new NotFoundError("Platform webhook endpoint", id);
  if (endpoint.source === "config") {
    throw new ConflictError("This endpoint comes from the configuration (PLATFORM_WEBHOOK_URL); change it there.", { endpointId: id });
  }
  return endpoint;
}

/** An admin enables, disables or edits an endpoint. Audited with before and after. */
export async function updateEndpoint(
  db: PrismaClient,
  id: string,
  input: TUpdateEndpoint,
  actor: TActor,
): Promise<{ endpoint: TEndpointView }> {
  const before = await adminEndpointOrThrow(db, id);
  const endpoint = await db.$transaction(async (tx) => {
    const updated = await tx.platformWebhookEndpoint.update({
      where: { id },
      data: {
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.eventTypes !== undefined ? { eventTypes: input.eventTypes } : {}),
      },
    });
    const snapshot = (e: TEndpointRow) => ({
      url: e.url,
      description: e.description,
      eventTypes: eventTypesOf(e.eventTypes),
      enabled: e.enabled,
    });
    await recordAudit(tx, {
      actor,
      action: "platform_webhook.endpoint_updated",
      entityType: "platform_webhook",
      entityId: id,
      reason:
        input.reason ??
        (input.enabled === false
          ? `endpoint ${updated.url} disabled`
          : input.enabled
            ? `endpoint ${updated.url} enabled`
            : `endpoint ${updated.url} changed`),
      before: snapshot(before),
      after: snapshot(updated),
    });
    return updated;
  });
  return { endpoint: view(endpoint) };
}

/**
 * An admin rotates an endpoint's secret: a new one signs from now on (shown once, the answer),
 * and the ones before it keep signing beside it for the grace period (default 24 h; 0 retires
 * them at once), so the platform can switch without losing a delivery. Audited (never the secret).
 */
export async function rotateSecret(
  db: PrismaClient,
  id: string,
  input: TRotateSecret,
  actor: TActor,
  now: Date = new Date(),
): Promise<{ secret: string; previousExpireAt: string }> {
  await adminEndpointOrThrow(db, id);
  const graceHours = input.graceHours ?? DEFAULT_GRACE_HOURS;
  const expiresAt = new Date(now.getTime() + graceHours * HOUR);
  const secret = generateWebhookSecret();
  await db.$transaction(async (tx) => {
    // Secrets still signing: those without an end, or whose end is later than this grace period's.
    const shortened = await tx.platformWebhookSecret.updateMany({
      where: { endpointId: id, OR: [{ expiresAt: null }, { expiresAt: { gt: expiresAt } }] },
      data: { expiresAt },
    });
    await tx.platformWebhookSecret.create({ data: { endpointId: id, secret } });
    await recordAudit(tx, {
      actor,
      action: "platform_webhook.secret_rotated",
      entityType: "platform_webhook",
      entityId: id,
      reason: input.reason ?? `secret rotated; the previous one signs until ${expiresAt.toISOString()}`,
      after: { graceHours, previousSecretsExpireAt: expiresAt.toISOString(), previousSecrets: shortened.count },
    });
  });
  return { secret, previousExpireAt: expiresAt.toISOString() };
}
