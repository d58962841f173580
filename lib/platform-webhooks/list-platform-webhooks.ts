import "server-only";

import { z } from "zod";

import type { PrismaClient } from "@/generated/prisma/client";

import { eventTypesOf } from "./event-types";
import type { TEndpointView } from "./manage-endpoints";

export const DELIVERY_LOG_SIZE = 50;

export const ZDeliveryLogQuery = z
  .object({
    status: z.enum(["pending", "succeeded", "failed"]).optional(),
    endpointId: z.uuid().optional(),
  })
  .strict();
export type TDeliveryLogQuery = z.infer<typeof ZDeliveryLogQuery>;

export type TPlatformEndpointItem = TEndpointView & {
  /** The secrets signing now (never their values): the current one, and old ones until their grace ends. */
  secrets: { createdAt: string; expiresAt: string | null }[];
};

export type TPlatformAttemptItem = {
  number: number;
  manual: boolean;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
};

export type TPlatformDeliveryItem = {
  id: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  endpoint: { id: string; url: string };
  event: { id: string; type: string; subjectId: string; sequence: number; createdAt: string };
  log: TPlatformAttemptItem[];
};

export type TPlatformWebhooksView = { endpoints: TPlatformEndpointItem[]; deliveries: TPlatformDeliveryItem[] };

/** The Platform webhooks page: the endpoints, and the newest deliveries with each attempt's answer. */
export async function listPlatformWebhooks(
  db: PrismaClient,
  query: TDeliveryLogQuery = {},
  now = new Date(),
): Promise<TPlatformWebhooksView> {
  const [endpoints, deliveries] = await Promise.all([
    db.platformWebhookEndpoint.findMany({
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      include: {
        secrets: {
          where: { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
          orderBy: { createdAt: "desc" },
          select: { createdAt: true, expiresAt: true },
        },
      },
    }),
    db.platformWebhookDelivery.findMany({
      where: { ...(query.status ? { status: query.status } : {}), ...(query.endpointId ? { endpointId: query.endpointId } : {}) },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: DELIVERY_LOG_SIZE,
      include: {
        endpoint: { select: { id: true, url: true } },
        event: { select: { id: true, type: true, subjectId: true, sequence: true, createdAt: true } },
        log: { orderBy: { number: "asc" } },
      },
    }),
  ]);
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    endpoints: endpoints.map((e) => ({
      id: e.id,
      url: e.url,
      description: e.description,
      enabled: e.enabled,
      eventTypes: eventTypesOf(e.eventTypes),
      source: e.source,
      createdAt: e.createdAt.toISOString(),
      secrets: e.secrets.map((s) => ({ createdAt: s.createdAt.toISOString(), expiresAt: iso(s.expiresAt) })),
    })),
    deliveries: deliveries.map((d) => ({
      id: d.id,
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: d.status === "pending" ? iso(d.nextAttemptAt) : null,
      deliveredAt: iso(d.deliveredAt),
      createdAt: d.createdAt.toISOString(),
      endpoint: d.endpoint,
      event: { ...d.event, createdAt: d.event.createdAt.toISOString() },
      log: d.log.map((a) => ({
        number: a.number,
        manual: a.manual,
        startedAt: a.startedAt.toISOString(),
        durationMs: a.durationMs,
        statusCode: a.statusCode,
        responseBody: a.responseBody,
        error: a.error,
      })),
    })),
  };
}
