// An async scope like an engine step's (withAfterCommitEffects): its own outbox scope and
// platform-webhook scope, and an AsyncResource to run work in it, for tests of what a batch
// member notes in its caller's scope (lib/together.ts).
import { AsyncResource } from "node:async_hooks";

import { inOutboxScope } from "@/lib/outbox/outbox-scope";
import { collectPlatformEvents } from "@/lib/platform-webhooks/after-commit";

export async function stepScope() {
  let resource!: AsyncResource;
  let untried!: () => string[];
  const collected = await collectPlatformEvents(async () => {
    const scope = inOutboxScope(async () => {
      resource = new AsyncResource("x");
    });
    untried = scope.untried;
    await scope.run;
  });
  return { resource, outboxNoted: () => untried(), platformNoted: () => [...collected.eventIds] };
}

export type TStepScope = Awaited<ReturnType<typeof stepScope>>;
