// Runs before each integration test file. Next's `after()` needs the request scope a Next
// server gives; tests call route handlers directly, so here `after(task)` starts the task at
// once (as soon as the handler has returned its answer, like the server) and `settleAfterTasks()`
// waits for every task started so far, and for those they start in turn.
import { vi } from "vitest";

declare global {
  var afterTasks: Promise<unknown>[];
}
globalThis.afterTasks = [];

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: (task: (() => unknown) | Promise<unknown>) => {
    // Started on the next tick: the handler's answer is made first, as on a server.
    globalThis.afterTasks.push(
      new Promise((resolve) => setImmediate(resolve))
        .then(() => (typeof task === "function" ? task() : task))
        .catch((error: unknown) => console.error("after() task failed", error)),
    );
  },
}));

/** Waits for every `after()` task the route handlers started (test/support/next-after.ts), and those they started. */
export async function settleAfterTasks(): Promise<void> {
  while (globalThis.afterTasks.length > 0) await Promise.all(globalThis.afterTasks.splice(0));
}
