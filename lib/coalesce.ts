// Group commit for the statements many concurrent callers in one process each make alone (the
// outbox's claim and mark of the events they send, the Stripe write gate's slot): calls made while
// `maxInFlight` flushes are running wait and go together in the next one, so a busy process makes
// one round trip for many callers, and a quiet one (nothing in flight) flushes each call at once,
// with no added wait.

export type TCoalesceOptions = {
  /** Calls flushed together at most (default 100). */
  maxBatch?: number;
  /** Flushes running at once (default 1). */
  maxInFlight?: number;
};

type TWaiting<I, O> = { input: I; resolve: (output: O) => void; reject: (error: unknown) => void };

/**
 * Wraps `flush`, which does the work of many calls at once and gives each its output, in the order
 * of its inputs, into a function of one call. A flush that throws rejects every call in it with its
 * error; one that gives the wrong number of outputs rejects them all too.
 */
export function coalesce<I, O>(
  flush: (inputs: readonly I[]) => Promise<readonly O[]>,
  options: TCoalesceOptions = {},
): (input: I) => Promise<O> {
  const maxBatch = options.maxBatch ?? 100;
  const maxInFlight = options.maxInFlight ?? 1;
  const queue: TWaiting<I, O>[] = [];
  let inFlight = 0;

  function startFlushes(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      inFlight++;
      void run(batch);
    }
  }

  async function run(batch: TWaiting<I, O>[]): Promise<void> {
    try {
      const outputs = await flush(batch.map((w) => w.input));
      if (outputs.length !== batch.length) throw new Error(`A coalesced flush of ${batch.length} calls gave ${outputs.length} outputs.`);
      batch.forEach((w, i) => w.resolve(outputs[i]!));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      inFlight--;
      startFlushes();
    }
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      startFlushes();
    });
}
