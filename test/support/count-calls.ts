// A database client (or transaction) whose raw statements are counted: what a test of group commit
// (lib/coalesce.ts) asserts, that many callers made one round trip.

/** `target` with its `method` (`$queryRaw` or `$executeRaw`) counted; `calls()` says how many were made. */
export function countingCalls<T extends object>(target: T, method: "$queryRaw" | "$executeRaw"): { counted: T; calls: () => number } {
  let calls = 0;
  const counted = new Proxy(target, {
    get(inner, property, receiver) {
      const value = Reflect.get(inner, property, receiver) as unknown;
      if (property !== method || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls++;
        return (value as (...a: unknown[]) => unknown).apply(inner, args);
      };
    },
  });
  return { counted, calls: () => calls };
}
