import "server-only";

import { randomUUID } from "node:crypto";

import { after, NextResponse } from "next/server";
import type { z } from "zod";

import { assertSameOrigin } from "@/lib/api/guard";
import { readJsonBody, uuidParam } from "@/lib/api/http-input";
import { errorResponse } from "@/lib/api/respond";
import { adminActorOf } from "@/lib/audit/admin-actor";
import type { TActor } from "@/lib/audit/record-audit";
import type { TRole } from "@/lib/auth/roles";
import { requireApiUser, type TCurrentUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { sendAlertNotificationsAfterCommit } from "@/lib/notifications/after-commit";
import { publishAfterWork } from "@/lib/outbox/after-commit";
import { inOutboxScope } from "@/lib/outbox/outbox-scope";
import { collectPlatformEvents, deliverPlatformEventsNow } from "@/lib/platform-webhooks/after-commit";

// Every admin route handler is one `adminRoute(options, handler)`: the same checks in the same
// order, and the same answer for the same mistake everywhere:
//   1. a mutation (anything but GET/HEAD) from another origin, or without Origin: 403
//   2. not signed in: 401; a role below `role`: 403
//   3. an id segment that is not a uuid: 404 (it cannot name a row)
//   4. query parameters the schema refuses: 400
//   5. the body: over 64 KB 413, not application/json 415, not JSON or refused by the schema 400
//   6. the handler; any AppError becomes its status, anything else a logged 500
//   7. events the change queued are sent to Inngest after the answer (unsent ones stay in the
//      outbox for the reconciliation sweep); the booking platform's webhooks it caused get
//      their first attempt (lib/platform-webhooks), and alerts it raised are notified (a no-op otherwise)
// Answers are JSON and never cached.

type TParamsContext = { params: Promise<Record<string, string | string[] | undefined>> } | undefined;

export type TAdminRouteInput<TBody, TQuery, TIds extends string> = {
  request: Request;
  user: TCurrentUser;
  /** The signed-in user as the audit log's actor. */
  actor: TActor & { type: "admin" };
  /** One id per request, for the services' idempotency and the logs. */
  requestId: string;
  ids: Record<TIds, string>;
  body: TBody;
  query: TQuery;
  /** Sends the outbox's unsent events (or just these) once the answer is out. */
  publishAfter(eventIds?: string[]): void;
};

export type TAdminRouteOptions<TBody, TQuery, TIds extends string> = {
  /** The least role allowed (viewer < operator < admin). */
  role: TRole;
  /** Route segments that are row ids, each with the name of what it identifies ("Payout"). */
  ids?: Record<TIds, string>;
  /** The JSON body's schema (mutations). */
  body?: z.ZodType<TBody>;
  /** An empty body reads as `{}` (every field of the schema is optional). */
  bodyOptional?: boolean;
  /** The query string: a schema over its parameters, or a function for repeated parameters. */
  query?: z.ZodType<TQuery> | ((search: URLSearchParams) => TQuery);
};

/** A JSON answer that is never cached; for a status other than 200 or extra headers. */
export function jsonAnswer(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): NextResponse {
  return NextResponse.json(body, { status: init.status ?? 200, headers: { "Cache-Control": "no-store", ...init.headers } });
}

export function adminRoute<TBody = undefined, TQuery = undefined, TIds extends string = never>(
  options: TAdminRouteOptions<TBody, TQuery, TIds>,
  handler: (input: TAdminRouteInput<TBody, TQuery, TIds>) => Promise<unknown>,
): (request: Request, context: TParamsContext) => Promise<Response> {
  return async (request, context) => {
    let written: () => string[] = () => [];
    try {
      if (request.method !== "GET" && request.method !== "HEAD") assertSameOrigin(request);
      const user = await requireApiUser(options.role);
      const params = (await context?.params) ?? {};
      const ids = {} as Record<TIds, string>;
      for (const [segment, entity] of Object.entries(options.ids ?? {}) as [TIds, string][]) {
        const value = params[segment];
        ids[segment] = uuidParam(typeof value === "string" ? value : "", entity);
      }
      const query = readQuery(request, options.query);
      const body = (
        options.body ? options.body.parse(await readJsonBody(request, { optional: options.bodyOptional })) : undefined
      ) as TBody;

      let publish: { eventIds?: string[] } | null = null;
      // Every Inngest event the handler wrote is sent after the answer, whether it asked (publishAfter) or not.
      const scoped = inOutboxScope(() =>
        collectPlatformEvents(() =>
          handler({
            request,
            user,
            actor: adminActorOf(user),
            requestId: randomUUID(),
            ids,
            body,
            query,
            publishAfter: (eventIds) => {
              publish = { eventIds };
            },
          }),
        ),
      );
      written = scoped.untried;
      const { result, eventIds: platformEvents } = await scoped.run;
      publishWritten(publish, written());
      if (platformEvents.length > 0) after(() => deliverPlatformEventsNow(db, platformEvents));
      after(() => sendAlertNotificationsAfterCommit(db));
      if (result instanceof Response) {
        if (!result.headers.has("Cache-Control")) result.headers.set("Cache-Control", "no-store");
        return result;
      }
      return jsonAnswer(result);
    } catch (error) {
      // What committed before the handler failed is sent too.
      publishWritten(null, written());
      return errorResponse(error);
    }
  };
}

/** After the answer: what the handler asked to send (every unsent event when it named none) and what it wrote. */
function publishWritten(publish: { eventIds?: string[] } | null, written: string[]): void {
  if (publish && !publish.eventIds) {
    after(() => publishAfterWork(db, undefined, "an admin action"));
    return;
  }
  const eventIds = [...new Set([...(publish?.eventIds ?? []), ...written])];
  if (eventIds.length > 0) after(() => publishAfterWork(db, { eventIds }, "an admin action"));
}

/** A safeParse result's data, or its error thrown (400). */
export function parsedOrThrow<T>(result: { success: true; data: T } | { success: false; error: z.ZodError }): T {
  if (!result.success) throw result.error;
  return result.data;
}

function readQuery<TQuery>(request: Request, query: TAdminRouteOptions<unknown, TQuery, never>["query"]): TQuery {
  if (!query) return undefined as TQuery;
  const search = new URL(request.url).searchParams;
  return typeof query === "function" ? query(search) : query.parse(Object.fromEntries(search));
}
