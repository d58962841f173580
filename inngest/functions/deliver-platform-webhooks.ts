import { cron } from "inngest";

import { defaultDeps, type TEngineDeps } from "@/inngest/deps";
import { inngest } from "@/lib/inngest/client";
import { deliverPlatformWebhooks, type TDeliverDeps } from "@/lib/platform-webhooks/deliver-platform-webhooks";

export const DELIVER_PLATFORM_WEBHOOKS_FN = "deliver-platform-webhooks";

/**
 * Every minute: the booking platform's webhooks that are due: retries of failed attempts (with
 * exponential backoff for 3 days, lib/platform-webhooks/backoff.ts) and any first attempt the
 * process that made the change did not get to. One run at a time; deliveries are claimed, so a
 * delivery the change's own process is sending is not sent twice.
 */
export function createDeliverPlatformWebhooksFunction(deps: TEngineDeps = defaultDeps, delivery: Omit<TDeliverDeps, "db"> = {}) {
  return inngest.createFunction(
    { id: DELIVER_PLATFORM_WEBHOOKS_FN, triggers: [cron("TZ=UTC * * * * *")], retries: 1, concurrency: [{ limit: 1 }] },
    async ({ step }) =>
      step.run("deliver", () =>
        deliverPlatformWebhooks({ db: deps.db, ...(deps.clock ? { now: () => deps.clock!.now() } : {}), ...delivery }),
      ),
  );
}
