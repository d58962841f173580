// One seed: generate its history, play it, check the invariants; for an order-independence seed,
// play the same facts again in another order (with other duplicates) and compare the ends (I6).
// A failing history is shrunk to the fewest operations that still break the same invariant.
import { createRandom } from "@/lib/seed/prng";

import { checkInvariants, type TInvariant, type TOutcome, type TViolation } from "./invariants";
import { describeOp, eventsWhenMade, generateHistory, type THistory, type TOp } from "./model";
import { playHistory, type TSimWorld } from "./play";

export type TSeedResult = { seed: number; history: THistory; violations: TViolation[]; ms: number };

export async function runHistory(world: TSimWorld, history: THistory): Promise<TViolation[]> {
  const first = await checkInvariants(world, history, await playHistory(world, history));
  if (history.mode !== "order" || first.violations.length > 0) return first.violations;
  const reordered = reorder(history);
  const second = await checkInvariants(world, reordered, await playHistory(world, reordered));
  if (second.violations.length > 0) return second.violations.map((v) => ({ ...v, message: `(second order) ${v.message}` }));
  return compareOutcomes(first.outcome, second.outcome);
}

export async function runSeed(world: TSimWorld, seed: number): Promise<TSeedResult> {
  const started = performance.now();
  const history = generateHistory(seed);
  const violations = await runHistory(world, history);
  return { seed, history, violations, ms: performance.now() - started };
}

/**
 * The same facts in another order: every delivery moved to a random place after what it needs
 * (a Stripe event after the Stripe fact that creates it), some delivered twice; time, faults,
 * Inngest and the sweep stay where they were. Deterministic in the seed.
 */
export function reorder(history: THistory): THistory {
  const r = createRandom(history.seed ^ 0x5eed);
  const isDelivery = (op: TOp) => op.op === "deliver_platform" || op.op === "deliver_stripe";
  const base: TOp[] = history.ops.filter((op) => !isDelivery(op));
  const deliveries = history.ops.filter(isDelivery);
  const unique = deliveries.filter((op, i) => deliveries.findIndex((o) => JSON.stringify(o) === JSON.stringify(op)) === i);
  // The facts arrived before the payouts fell due in the first play; they do in this one too.
  const timeAt = (list: TOp[], index: number) => list.slice(0, index).reduce((t, op) => t + (op.op === "advance" ? op.ms : 0), 0);
  const lastArrival = Math.max(0, ...history.ops.map((op, i) => (isDelivery(op) ? timeAt(history.ops, i) : 0)));
  const ops: TOp[] = [...base];
  for (const op of r.shuffle(unique)) {
    const copies = r.chance(0.25) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const after = op.op === "deliver_stripe" ? madeAt(ops, op.fact, op.event) + 1 : 0;
      let last = after;
      while (last < ops.length && timeAt(ops, last + 1) <= lastArrival) last++;
      ops.splice(r.int(after, last), 0, op);
    }
  }
  return { ...history, ops };
}

/** Where the operation that makes event #n of a Stripe fact is: the fact itself, or its outcome. */
function madeAt(ops: TOp[], key: string, n: number): number {
  const made = ops.findIndex((o) => o.op === "stripe" && o.fact.key === key);
  const fact = ops[made];
  if (fact?.op !== "stripe" || n < eventsWhenMade(fact.fact)) return made;
  return ops.findIndex((o) => o.op === "stripe_outcome" && o.fact === key);
}

function compareOutcomes(a: TOutcome, b: TOutcome): TViolation[] {
  const violations: TViolation[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[key] ?? null);
    const y = JSON.stringify(b[key] ?? null);
    if (x !== y) violations.push({ invariant: "I6", message: `booking ${key} ends ${x} in one order and ${y} in another` });
  }
  return violations;
}

/**
 * Delta debugging over the operations: removes chunks, then single operations, keeping every
 * removal after which the history still breaks `invariant`. Stops at the time budget.
 */
export async function shrink(
  world: TSimWorld,
  history: THistory,
  invariant: TInvariant,
  budgetMs: number,
  onProgress?: (ops: number) => void,
): Promise<THistory> {
  const deadline = performance.now() + budgetMs;
  const fails = async (h: THistory) => (await runHistory(world, h)).some((v) => v.invariant === invariant);
  let current = history;
  let chunk = Math.max(1, Math.floor(current.ops.length / 2));
  while (chunk >= 1 && performance.now() < deadline) {
    let removed = false;
    for (let start = 0; start < current.ops.length && performance.now() < deadline;) {
      const candidate = { ...current, ops: [...current.ops.slice(0, start), ...current.ops.slice(start + chunk)] };
      if (await fails(candidate)) {
        current = candidate;
        removed = true;
        onProgress?.(current.ops.length);
      } else {
        start += chunk;
      }
    }
    if (!removed) chunk = Math.floor(chunk / 2);
  }
  return current;
}

export function formatFailure(result: { seed: number; history: THistory; violations: TViolation[] }, shrunk?: THistory): string {
  const lines = [
    `seed ${result.seed} (${result.history.mode}) broke ${[...new Set(result.violations.map((v) => v.invariant))].join(", ")}:`,
    ...result.violations.slice(0, 10).map((v) => `  ${v.invariant} ${v.message}`),
    `  replay: npm run sim -- --seed ${result.seed}`,
  ];
  const shown = shrunk ?? result.history;
  lines.push(
    `  world: ${shown.providers.map((p) => `${p.key}${p.readyAtStart ? "" : " (not ready)"}`).join(", ")}; ` +
      shown.bookings
        .map(
          (b) =>
            `${b.key}: ${b.provider} share ${b.providerShare} fee ${b.fee} paid by ${b.payment}${b.fundsAfterMs ? ` funds +${b.fundsAfterMs / 3_600_000} h` : ""} completed +${(b.completedAtMs / 3_600_000).toFixed(2)} h tips ${JSON.stringify(b.tips.map((t) => [t.key, t.amount, t.charge ? "own charge" : "no charge", `+${(t.tippedAfterMs / 3_600_000).toFixed(2)} h`]))}`,
        )
        .join("; "),
    `  ${shrunk ? `minimised history (${shrunk.ops.length} of ${result.history.ops.length} operations)` : `history (${shown.ops.length} operations)`}:`,
    ...shown.ops.map((op, i) => `    ${String(i).padStart(3)} ${describeOp(op)}`),
  );
  return lines.join("\n");
}
