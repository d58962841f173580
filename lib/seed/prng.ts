// A small seeded PRNG (mulberry32) and the helpers the demo data set is built with,
// so every run produces the same providers, bookings and stories (only the clock moves).

export type TRandom = {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** Float in [min, max). */
  float(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks by weight; weights need not sum to 1. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
  shuffle<T>(items: readonly T[]): T[];
  /** `length` characters from `alphabet`. */
  chars(length: number, alphabet?: string): string;
};

const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createRandom(seed: number): TRandom {
  const next = mulberry32(seed);
  const at = <T>(items: readonly T[], index: number): T => {
    const item = items[index];
    if (item === undefined) throw new RangeError(`index ${index} out of range (${items.length} items)`);
    return item;
  };
  const random: TRandom = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    float: (min, max) => min + next() * (max - min),
    chance: (probability) => next() < probability,
    pick: (items) => at(items, Math.floor(next() * items.length)),
    weighted: (items) => {
      const total = items.reduce((sum, [, weight]) => sum + weight, 0);
      let roll = next() * total;
      for (const [item, weight] of items) {
        roll -= weight;
        if (roll < 0) return item;
      }
      return at(items, items.length - 1)[0];
    },
    shuffle: (items) => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [at(copy, j), at(copy, i)];
      }
      return copy;
    },
    chars: (length, alphabet = ALPHANUMERIC) => {
      let out = "";
      for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
      return out;
    },
  };
  return random;
}

/** Deterministic ids that look like the real thing. */
export function createIdFactory(random: TRandom) {
  const hex = (length: number) => random.chars(length, "0123456789abcdef");
  return {
    /** A version-4-shaped UUID. */
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${random.pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`,
    /** Stripe-style object id: prefix + 24 alphanumerics (e.g. tr_, trr_, ch_, du_). */
    stripe: (prefix: string, length = 24) => `${prefix}_${random.chars(length)}`,
    /** A ULID for the given time, like the run ids Inngest shows. */
    ulid: (at: Date) => {
      let time = at.getTime();
      let encoded = "";
      for (let i = 0; i < 10; i++) {
        encoded = CROCKFORD[time % 32] + encoded;
        time = Math.floor(time / 32);
      }
      return encoded + random.chars(16, CROCKFORD);
    },
  };
}

export type TIdFactory = ReturnType<typeof createIdFactory>;
