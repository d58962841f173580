// The simulation's model: a seed becomes a history of operations over a few providers and
// bookings. Pure: no I/O. A history is plain JSON, so a failing one can be printed, shrunk
// (an operation removed never changes what the others do: each carries its own sub-seed) and
// replayed exactly from its seed.
import { createRandom, type TRandom } from "@/lib/seed/prng";

export const HOUR = 60 * 60 * 1000;
export const MINUTE = 60 * 1000;

/** A provider of the world: their Stripe account is ready for transfers at the start, or not. */
export type TSimProvider = { key: string; readyAtStart: boolean };

export type TSimTip = {
  key: string;
  amount: number;
  /** Paid with its own charge (all of it the provider's), or with no charge we know of. */
  charge: boolean;
  /** When the customer tipped, in ms after the booking's completion (the window is 24 h). */
  tippedAfterMs: number;
};

export type TSimBooking = {
  key: string;
  provider: string;
  providerShare: number;
  /** The platform's commission on the booking's charge (the charge is share + fee). */
  fee: number;
  /** How the booking names its payment: the charge, only the PaymentIntent, or nothing (paid from the balance). */
  payment: "charge" | "intent" | "none";
  /** The charge's funds become available this long after completion (0: at once). */
  fundsAfterMs: number;
  completedAtMs: number;
  tips: TSimTip[];
};

/** Stripe-side facts: each changes the fake Stripe when its time comes and produces event bodies to deliver. */
export type TStripeFact =
  | { kind: "refund"; key: string; charge: string; amount: number; fate: "succeeded" | "pending_then_failed" | "pending_then_succeeded" }
  | { kind: "dispute"; key: string; charge: string; amount: number; outcome: "won" | "lost" | "open" }
  | { kind: "account"; key: string; provider: string; ready: boolean };

/** Booking-platform facts (the platform's webhook events); `atMs` is when it happened (the payload's domain time). */
export type TPlatformFact = { atMs: number } & (
  | { kind: "completed"; booking: string }
  | { kind: "tip"; booking: string; tip: string }
  | { kind: "cancelled"; booking: string }
  | { kind: "dispute_opened"; booking: string; dispute: string }
  | {
      kind: "dispute_resolved";
      booking: string;
      dispute: string;
      outcome: "provider_won" | "customer_won" | "partial";
      refundedAmount: number;
    }
);

export type TAdminAction = "hold" | "release" | "force_release" | "approve" | "retry" | "cancel";

export type TFault =
  | { kind: "transfer_5xx" }
  | { kind: "transfer_429" }
  | { kind: "transfer_lock_timeout" }
  | { kind: "transfer_answer_lost" }
  | { kind: "transfer_no_balance" }
  | { kind: "transfer_timeout" }
  | { kind: "lookup_429" }
  | { kind: "reversal_no_balance" }
  | { kind: "reversal_5xx" }
  | { kind: "stripe_read_5xx" };

export type TOp =
  /** Perform a Stripe-side fact at the fake Stripe (its events are then delivered by `deliver_stripe`). */
  | { op: "stripe"; fact: TStripeFact }
  /** The fact's outcome happens at Stripe: a pending refund fails or succeeds, a dispute closes won or lost (one more event). */
  | { op: "stripe_outcome"; fact: string }
  /** Deliver one event of a Stripe fact to POST /api/webhooks/stripe (again, when duplicated). */
  | { op: "deliver_stripe"; fact: string; event: number }
  /** Deliver a booking-platform event to POST /api/webhooks/booking (the same id again, when duplicated). */
  | { op: "deliver_platform"; fact: TPlatformFact; id: string }
  | { op: "advance"; ms: number }
  /** Run up to `runs` Inngest runs that are due, picked in an order the sub-seed chooses. */
  | { op: "inngest"; runs: number; seed: number; crash: number; rerun: number }
  | { op: "admin"; action: TAdminAction; booking: string; admin: 0 | 1 }
  | { op: "fault"; fault: TFault }
  | { op: "sweep" }
  /** The platform's available balance in USD: low (transfers from the balance are refused) or plenty. */
  | { op: "balance"; low: boolean };

/** How many events a Stripe fact sends when it happens; its outcome (if any) sends one more, event #n. */
export function eventsWhenMade(fact: TStripeFact): number {
  return fact.kind === "refund" ? 2 : 1;
}

/** Whether a Stripe fact has an outcome that happens later (a pending refund's end, a dispute's close). */
export function hasOutcome(fact: TStripeFact): boolean {
  return (fact.kind === "refund" && fact.fate !== "succeeded") || (fact.kind === "dispute" && fact.outcome !== "open");
}

export type THistory = {
  seed: number;
  /** Order-independence seeds are played twice, in two orders, and must end the same. */
  mode: "chaos" | "order";
  providers: TSimProvider[];
  bookings: TSimBooking[];
  ops: TOp[];
};

type TDistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

type TTimed = { at: number; op: TOp };

export function generateHistory(seed: number, modeOverride?: THistory["mode"]): THistory {
  const r = createRandom(seed);
  const mode = modeOverride ?? (r.chance(0.3) ? "order" : "chaos");
  const chaos = mode === "chaos";
  const cancellations = createRandom((seed ^ 0x5ca7ce1) >>> 0);

  const providers: TSimProvider[] = Array.from({ length: r.int(1, 3) }, (_, i) => ({ key: `p${i}`, readyAtStart: r.chance(0.8) }));
  const bookings: TSimBooking[] = Array.from({ length: r.int(1, 3) }, (_, i) => {
    const share = r.int(5, 200) * 100 + r.pick([0, 0, 37, 99]);
    return {
      key: `b${i}`,
      provider: r.pick(providers).key,
      providerShare: share,
      fee: r.pick([0, Math.floor(share / 5), Math.floor(share / 3)]),
      payment: r.weighted([
        ["charge", 6],
        ["intent", 2],
        ["none", 2],
      ] as const),
      fundsAfterMs: r.chance(0.2) ? r.int(1, 80) * HOUR : 0,
      completedAtMs: r.int(0, 6) * HOUR + r.int(0, 59) * MINUTE,
      tips: Array.from(
        {
          length: r.weighted([
            [0, 4],
            [1, 3],
            [2, 1],
          ] as const),
        },
        (_, t) => {
          const charge = r.chance(0.6);
          // A tip on its own charge is smaller than the share: a charge the platform names only by
          // its metadata is then told apart from the booking's by its amount (docs/simulation.md).
          const amount = r.int(1, 40) * 50;
          return {
            key: `b${i}t${t}`,
            amount: charge ? Math.min(amount, share - 1) : amount,
            charge,
            // Mostly in the 24 h window; some after it.
            tippedAfterMs: r.chance(0.8) ? r.int(0, 23 * 60) * MINUTE : r.int(25, 40) * HOUR,
          };
        },
      ),
    };
  });

  const timed: TTimed[] = [];
  // How late a delivery arrives after its fact. Order seeds keep every arrival before the
  // payouts fall due (so both plays see the same facts before any money moves).
  const lateness = () =>
    chaos
      ? r.weighted([
          [0, 5],
          [r.int(1, 120) * MINUTE, 3],
          [r.int(2, 60) * HOUR, 1],
        ] as const)
      : r.int(0, 20 * 60) * MINUTE;
  const deliverPlatform = (at: number, what: TDistributiveOmit<TPlatformFact, "atMs">, id: string) => {
    const fact = { ...what, atMs: at } as TPlatformFact;
    timed.push({ at: at + lateness(), op: { op: "deliver_platform", fact, id } });
    if (r.chance(0.2)) timed.push({ at: at + lateness(), op: { op: "deliver_platform", fact, id } });
  };
  // A Stripe fact happens at its time; each of its events is delivered (maybe late, maybe twice).
  // Its outcome (a pending refund failing or succeeding, a dispute closing) happens later, at a
  // time of its own, so the same facts happen at the same moments however the deliveries are ordered.
  const deliverStripe = (at: number, key: string, event: number) => {
    timed.push({ at: at + 1 + lateness(), op: { op: "deliver_stripe", fact: key, event } });
    if (r.chance(0.15)) timed.push({ at: at + 1 + lateness(), op: { op: "deliver_stripe", fact: key, event } });
  };
  const stripeFact = (at: number, fact: TStripeFact, outcomeLimit = Infinity) => {
    timed.push({ at, op: { op: "stripe", fact } });
    const made = eventsWhenMade(fact);
    for (let e = 0; e < made; e++) deliverStripe(at, fact.key, e);
    if (!hasOutcome(fact)) return;
    const outcomeAt = Math.max(at + 1, Math.min(at + r.int(1, chaos ? 72 * 60 : 10 * 60) * MINUTE, outcomeLimit));
    timed.push({ at: outcomeAt, op: { op: "stripe_outcome", fact: fact.key } });
    deliverStripe(outcomeAt, fact.key, made);
  };
  const orderLimit = (b: TSimBooking) => b.completedAtMs + 40 * HOUR;
  // Order seeds: a fact's outcome happens early enough for its delivery to arrive before the payout falls due.
  const outcomeLimit = (b: TSimBooking) => (chaos ? Infinity : orderLimit(b) - 20 * 60 * MINUTE);
  const factTime = (b: TSimBooking, from: number, to: number) => {
    const t = b.completedAtMs + r.int(from, to) * MINUTE;
    return chaos ? t : Math.min(t, orderLimit(b) - 20 * 60 * MINUTE);
  };

  for (const b of bookings) {
    deliverPlatform(b.completedAtMs, { kind: "completed", booking: b.key }, `evt_${b.key}_completed`);
    for (const t of b.tips) {
      const at = b.completedAtMs + t.tippedAfterMs;
      if (!chaos && at > orderLimit(b) - 20 * 60 * MINUTE) continue;
      deliverPlatform(at, { kind: "tip", booking: b.key, tip: t.key }, `evt_${t.key}`);
    }
    if (chaos && r.chance(0.08))
      deliverPlatform(b.completedAtMs + r.int(0, 72 * 60) * MINUTE, { kind: "cancelled", booking: b.key }, `evt_${b.key}_cancelled`);
    if (!chaos && cancellations.chance(0.12)) {
      // Order seeds cancel bookings too, before the payout falls due, so a cancellation meets refunds,
      // disputes and tips in both orders. Drawn from a stream of its own: the rest of each order
      // seed's history stays what it was before cancellations were added.
      const at = Math.min(b.completedAtMs + cancellations.int(0, 40 * 60) * MINUTE, orderLimit(b) - 20 * 60 * MINUTE);
      const fact: TPlatformFact = { kind: "cancelled", booking: b.key, atMs: at };
      timed.push({ at: at + cancellations.int(0, 20 * 60) * MINUTE, op: { op: "deliver_platform", fact, id: `evt_${b.key}_cancelled` } });
    }

    const charges = [...(b.payment === "none" ? [] : [`${b.key}`]), ...b.tips.filter((t) => t.charge).map((t) => t.key)];
    const portionOf = (charge: string) => (charge === b.key ? b.providerShare + b.fee : b.tips.find((t) => t.key === charge)!.amount);
    const channel = r.weighted([
      ["none", 4],
      ["platform", 2],
      ["stripe", 3],
    ] as const);
    if (channel === "platform") {
      const dispute = `${b.key}d`;
      const opened = factTime(b, 0, chaos ? 70 * 60 : 30 * 60);
      deliverPlatform(opened, { kind: "dispute_opened", booking: b.key, dispute }, `evt_${dispute}_opened`);
      if (r.chance(0.85)) {
        const outcome = r.pick(["provider_won", "customer_won", "partial"] as const);
        const tipTotal = b.tips.reduce((s, t) => s + t.amount, 0);
        const refundedAmount =
          outcome === "provider_won" ? 0 : outcome === "customer_won" ? b.providerShare + tipTotal : r.int(1, b.providerShare);
        const resolved = chaos
          ? opened + r.int(1, 60 * 60) * MINUTE
          : Math.min(opened + r.int(1, 10 * 60) * MINUTE, orderLimit(b) - 20 * 60 * MINUTE);
        deliverPlatform(
          resolved,
          { kind: "dispute_resolved", booking: b.key, dispute, outcome, refundedAmount },
          `evt_${dispute}_resolved`,
        );
      }
    }
    if (channel === "stripe" && charges.length > 0) {
      const count = r.weighted([
        [1, 3],
        [2, 1],
      ] as const);
      for (let i = 0; i < count; i++) {
        const charge = r.pick(charges);
        const amount = r.chance(0.7) ? portionOf(charge) : r.int(1, portionOf(charge));
        const outcome = r.weighted([
          ["lost", 3],
          ["won", 2],
          ["open", 1],
        ] as const);
        // Stripe sends created, then closed: two facts at two times.
        stripeFact(
          factTime(b, 0, chaos ? 90 * 60 : 30 * 60),
          { kind: "dispute", key: `${b.key}du${i}`, charge, amount, outcome },
          outcomeLimit(b),
        );
      }
    }
    if (charges.length > 0 && r.chance(0.45)) {
      const count = r.weighted([
        [1, 3],
        [2, 2],
      ] as const);
      for (let i = 0; i < count; i++) {
        const charge = r.pick(charges);
        const fate = r.weighted([
          ["succeeded", 5],
          ["pending_then_failed", 2],
          ["pending_then_succeeded", 1],
        ] as const);
        const amount = r.chance(0.3) ? portionOf(charge) : r.int(1, Math.max(1, Math.floor(portionOf(charge) / 2)));
        stripeFact(
          factTime(b, 0, chaos ? 90 * 60 : 30 * 60),
          { kind: "refund", key: `${b.key}re${i}`, charge, amount, fate },
          outcomeLimit(b),
        );
      }
    }
  }
  for (const p of providers) {
    const changes = r.weighted([
      [0, 3],
      [1, 2],
      [2, 1],
    ] as const);
    let ready = p.readyAtStart;
    for (let i = 0; i < changes; i++) {
      ready = r.chance(0.7) ? !ready : ready;
      const at = chaos ? r.int(0, 70) * HOUR : r.int(0, 30) * HOUR;
      stripeFact(at, { kind: "account", key: `${p.key}a${i}`, provider: p.key, ready });
    }
  }

  if (chaos) {
    const admins = r.int(0, 5);
    for (let i = 0; i < admins; i++) {
      const action = r.weighted([
        ["hold", 3],
        ["release", 3],
        ["force_release", 3],
        ["approve", 2],
        ["retry", 2],
        ["cancel", 1],
      ] as const);
      timed.push({ at: r.int(0, 80) * HOUR, op: { op: "admin", action, booking: r.pick(bookings).key, admin: r.pick([0, 1] as const) } });
    }
    const faults = r.int(0, 6);
    for (let i = 0; i < faults; i++) {
      const fault: TFault = r.weighted([
        [{ kind: "transfer_5xx" }, 3],
        [{ kind: "transfer_429" }, 2],
        [{ kind: "transfer_lock_timeout" }, 1],
        [{ kind: "transfer_answer_lost" }, 3],
        [{ kind: "transfer_no_balance" }, 1],
        [{ kind: "transfer_timeout" }, 1],
        [{ kind: "lookup_429" }, 2],
        [{ kind: "reversal_no_balance" }, 2],
        [{ kind: "reversal_5xx" }, 1],
        [{ kind: "stripe_read_5xx" }, 1],
      ] as const);
      timed.push({ at: r.int(40, 80) * HOUR, op: { op: "fault", fault } });
    }
    if (r.chance(0.15)) timed.push({ at: r.int(40, 60) * HOUR, op: { op: "balance", low: true } });
  } else {
    // Faults Stripe answers without acting, or answers lost after acting: the engine must end the same.
    for (let i = r.int(0, 3); i > 0; i--) {
      timed.push({
        at: r.int(40, 60) * HOUR,
        op: { op: "fault", fault: r.pick([{ kind: "transfer_429" }, { kind: "transfer_answer_lost" }, { kind: "lookup_429" }] as const) },
      });
    }
  }
  const sweeps = r.int(1, 3);
  for (let i = 0; i < sweeps; i++) timed.push({ at: r.int(0, 90) * HOUR, op: { op: "sweep" } });

  // Arrival order: by time; ties broken at random (a permutation of simultaneous arrivals).
  const order = timed.map((t, i) => ({ ...t, tie: r.next(), i })).sort((a, b) => a.at - b.at || a.tie - b.tie);
  const ops: TOp[] = [];
  let now = 0;
  for (const { at, op } of order) {
    if (at > now) {
      // Inngest works while time passes: runs that are due (a scheduled payout waking at 48 h) run.
      ops.push({ op: "advance", ms: at - now });
      now = at;
    }
    if (op.op !== "stripe" && op.op !== "stripe_outcome" && r.chance(0.5)) ops.push(inngestOp(r, chaos));
    ops.push(op);
  }
  ops.push(inngestOp(r, chaos));
  return { seed, mode, providers, bookings, ops };
}

function inngestOp(r: TRandom, chaos: boolean): TOp {
  return {
    op: "inngest",
    runs: r.int(1, 6),
    seed: r.int(0, 2 ** 31 - 1),
    // Percent chances for a run to crash between two steps, and for a finished run to run again.
    crash: chaos ? r.pick([0, 0, 10, 25]) : r.pick([0, 10]),
    rerun: r.pick([0, 0, 10]),
  };
}

/** One line per operation, for a failing history's report. */
export function describeOp(op: TOp): string {
  switch (op.op) {
    case "stripe":
      return `stripe ${JSON.stringify(op.fact)}`;
    case "stripe_outcome":
      return `stripe: the outcome of ${op.fact} happens`;
    case "deliver_stripe":
      return `deliver stripe event #${op.event} of ${op.fact}`;
    case "deliver_platform":
      return `deliver platform ${op.id} ${JSON.stringify(op.fact)}`;
    case "advance":
      return `advance ${(op.ms / HOUR).toFixed(2)} h`;
    case "inngest":
      return `inngest: up to ${op.runs} due runs (seed ${op.seed}, crash ${op.crash}%, re-run ${op.rerun}%)`;
    case "admin":
      return `admin ${op.admin}: ${op.action} ${op.booking}`;
    case "fault":
      return `fault: ${op.fault.kind}`;
    case "sweep":
      return "reconciliation sweep";
    case "balance":
      return `platform balance ${op.low ? "low" : "plenty"}`;
  }
}
