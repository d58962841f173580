import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";

/**
 * A stand-in for the Prisma client whose `$transaction(fn)` runs `fn` inside the caller's
 * open transaction `tx`. The admin services (lib/payouts/*-payout.ts) open their own
 * transaction from `ctx.db`; passing this as `ctx.db` makes one of them part of a larger
 * unit of work, so a four-eyes decision and the force release it causes commit or roll back
 * together. Everything else is `tx` itself.
 */
export function joinTransaction(tx: Tx): PrismaClient {
  const joined = new Proxy(tx, {
    get(target, property) {
      if (property === "$transaction") {
        return (fn: unknown) => {
          if (typeof fn !== "function") throw new TypeError("joinTransaction supports interactive transactions only.");
          return (fn as (tx: Tx) => Promise<unknown>)(target);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return joined as unknown as PrismaClient;
}
