// Reading a list page's filter from its URL: only the filter's own keys, the first value
// of each; a filter that does not validate falls back to the default and says why.
import type { z } from "zod";

export type TSearchParams = Record<string, string | string[] | undefined>;

export function parseListSearchParams<S extends z.ZodType>(
  schema: S,
  keys: readonly string[],
  raw: TSearchParams,
  fallback: z.output<S>,
): { filter: z.output<S>; problems: string[] } {
  const picked: Record<string, string> = {};
  for (const key of keys) {
    const value = raw[key];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) picked[key] = first;
  }
  const parsed = schema.safeParse(picked);
  if (parsed.success) return { filter: parsed.data, problems: [] };
  return { filter: fallback, problems: parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)) };
}

/** `/path?a=1&b=2` from the non-empty values. */
export function hrefWith(path: string, params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
