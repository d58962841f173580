import type { Tx } from "@/lib/db";

// Rows the members of a batch's transaction (lib/together.ts) each write, which nothing in the
// transaction reads back: gathered while the members work, then written in one statement before
// the transaction commits, instead of one statement per member.

export type TGatheredRows<R> = {
  /** The rows `tx` gathers, to push to; undefined when it gathers none (the caller writes at once). */
  of: (tx: Tx) => R[] | undefined;
  /** Runs `work` with `tx`'s rows gathered, then writes them all (before returning: before the commit). */
  around: <T>(tx: Tx, work: () => Promise<T>) => Promise<T>;
};

/** What runs work with rows gathered, whatever their kind. */
export type TGatherer = Pick<TGatheredRows<unknown>, "around">;

/** `work` with the rows of every kind in `kinds` gathered for `tx`, each kind written in its one statement after it. */
export function aroundAll<T>(tx: Tx, kinds: readonly TGatherer[], work: () => Promise<T>): Promise<T> {
  return kinds.reduceRight<() => Promise<T>>((inner, kind) => () => kind.around(tx, inner), work)();
}

/** A kind of gathered rows, written by `write` (called only with some rows). */
export function gatheredRows<R>(write: (tx: Tx, rows: readonly R[]) => Promise<void>): TGatheredRows<R> {
  const gathering = new WeakMap<Tx, R[]>();
  return {
    of: (tx) => gathering.get(tx),
    async around(tx, work) {
      // Already gathering (a batch inside a batch's work): the outer one writes them.
      if (gathering.has(tx)) return work();
      const rows: R[] = [];
      gathering.set(tx, rows);
      try {
        const result = await work();
        if (rows.length > 0) await write(tx, rows);
        return result;
      } finally {
        gathering.delete(tx);
      }
    },
  };
}
