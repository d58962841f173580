// Axis ticks a person reads at a glance: 0 and equal steps of 1, 2 or 5 times a power of ten
// ($1K / $2K / $3K), never the even split of an odd maximum ($950 / $1.9K / $2.9K). Pure.

const STEPS = [1, 2, 5, 10] as const;

/**
 * Ticks from 0 up to the first step at or above `max`, about `count` of them after 0. With
 * `integers` (counts of payouts) the step is at least 1.
 */
export function niceTicks(max: number, { count = 4, integers = false }: { count?: number; integers?: boolean } = {}): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const rough = max / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  let step = (STEPS.find((s) => s * magnitude >= rough) ?? 10) * magnitude;
  if (integers) step = Math.max(1, Math.round(step));
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step / 1e6; i += 1) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}
