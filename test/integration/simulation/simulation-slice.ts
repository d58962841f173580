// The simulation's CI slice (docs/simulation.md): a fixed range of seeds, played through the
// webhook receivers, the Inngest functions and the admin services against the fake Stripe, each
// checked against the invariants. A failing seed is shrunk and printed with its replay command.
import { afterAll, beforeAll, expect, it, vi } from "vitest";

import { OPEN_FINDINGS } from "../../sim/open-findings";
import { startWorld, type TSimWorld } from "../../sim/play";
import { formatFailure, runSeed, shrink } from "../../sim/run-seed";
import { startFakeStripe, type TFakeStripe } from "../../support/fake-stripe";
import { pointAppStripeAt } from "../../support/stripe-webhook";

/** Seeds [from, from + count); a failure is shrunk for at most this long before it is reported. */
export function simulationSlice(from: number, count: number, shrinkMs = 30_000) {
  let fake: TFakeStripe;
  let world: TSimWorld;
  let restore = () => {};

  beforeAll(async () => {
    let now = () => new Date();
    fake = await startFakeStripe({ now: () => now() });
    restore = pointAppStripeAt(fake);
    world = await startWorld(fake, globalThis.inngestReceiver);
    now = () => world.clock.now();
  });

  afterAll(async () => {
    restore();
    await fake.stop();
  });

  it(`seeds ${from}…${from + count - 1} keep every invariant`, { timeout: 20 * 60_000 }, async () => {
    const failures: string[] = [];
    const known: string[] = [];
    // The engine logs what it recovers from, which is every history here.
    const quiet = [
      vi.spyOn(console, "warn").mockImplementation(() => {}),
      vi.spyOn(console, "error").mockImplementation(() => {}),
      vi.spyOn(console, "log").mockImplementation(() => {}),
    ];
    const started = performance.now();
    try {
      for (let seed = from; seed < from + count; seed++) {
        const result = await runSeed(world, seed);
        const open = OPEN_FINDINGS[seed];
        if (open !== undefined) {
          if (result.violations.length === 0) failures.push(`seed ${seed} passes now: take it out of test/sim/open-findings.ts (${open})`);
          else known.push(`seed ${seed}: ${open}`);
          continue;
        }
        if (result.violations.length === 0) continue;
        const shrunk = await shrink(world, result.history, result.violations[0]!.invariant, shrinkMs);
        failures.push(formatFailure(result, shrunk));
        if (failures.length >= 3) break;
      }
    } finally {
      for (const spy of quiet) spy.mockRestore();
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`simulation: seeds ${from}…${from + count - 1} in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(2)} seeds/s)`);
    for (const line of known) console.warn(`simulation: open finding, ${line}`);
    expect(failures, failures.join("\n\n")).toEqual([]);
  });
}
