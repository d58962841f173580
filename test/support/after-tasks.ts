// The `after()` tasks route handlers started in a test (test/support/next-after.ts records them).
// Kept apart from that setup file, which mocks next/server with Vitest: scripts (the simulation,
// the benchmarks) import the send helpers that wait here without running under Vitest.

declare global {
  var afterTasks: Promise<unknown>[] | undefined;
}

export function recordAfterTask(task: Promise<unknown>): void {
  (globalThis.afterTasks ??= []).push(task);
}

/** Waits for every `after()` task the route handlers started, and those they started in turn. */
export async function settleAfterTasks(): Promise<void> {
  const tasks = (globalThis.afterTasks ??= []);
  while (tasks.length > 0) await Promise.all(tasks.splice(0));
}
