// Runs before each integration test file. Next's `after()` needs the request scope a Next
// server gives; tests call route handlers directly, so here `after(task)` starts the task on the
// next tick (once the handler has made its answer, as on a server) and records it; the send
// helpers wait for it with settleAfterTasks() (test/support/after-tasks.ts).
import { vi } from "vitest";

import { recordAfterTask } from "./after-tasks";

vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: (task: (() => unknown) | Promise<unknown>) => {
    recordAfterTask(
      new Promise((resolve) => setImmediate(resolve))
        .then(() => (typeof task === "function" ? task() : task))
        .catch((error: unknown) => console.error("after() task failed", error)),
    );
  },
}));
