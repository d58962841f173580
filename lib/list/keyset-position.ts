// Keyset page positions that carry an instant, for every list that pages on
// (timestamp, id). A position comes back from the browser as text, so it is checked
// strictly before it reaches the database: an instant must be exactly what
// Date#toISOString writes (so `2026-13-45T99:99:99.999Z` or `2026-02-30T…` is refused,
// not handed to PostgreSQL) and within what a timestamptz holds. Pure and browser-safe.
import { isUuid } from "@/lib/ids";

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The instant of `2026-11-24T08:49:14.836Z` (UTC, milliseconds, as toISOString writes
 * it); null for anything else, including impossible dates and year 0000 (PostgreSQL has
 * no year 0).
 */
export function parseIsoInstant(text: string): Date | null {
  if (!ISO_INSTANT.test(text)) return null;
  const at = new Date(text);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== text || at.getUTCFullYear() < 1) return null;
  return at;
}

export type TInstantPosition = { at: Date; id: string };

/** `<ISO instant>_<uuid>`, e.g. `2026-11-24T08:49:14.836Z_9a9d4043-…`: the row's timestamp and id. */
export function encodeInstantPosition(row: { at: string | Date; id: string }): string {
  return `${new Date(row.at).toISOString()}_${row.id}`;
}

/** The instant and id (in lower case) of a position encodeInstantPosition wrote; null for anything else. */
export function decodeInstantPosition(raw: string): TInstantPosition | null {
  const split = raw.indexOf("_");
  if (split < 0) return null;
  const at = parseIsoInstant(raw.slice(0, split));
  const id = raw.slice(split + 1);
  if (!at || !isUuid(id)) return null;
  return { at, id: id.toLowerCase() };
}
