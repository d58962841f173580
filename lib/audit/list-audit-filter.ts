// The Audit log's filter: parsed from the page's URL and from GET /api/admin/audit.
// No server imports, so the filter form can share the types.
import { z } from "zod";

import { hasRole, type TRole } from "@/lib/auth/roles";
import { storableText } from "@/lib/http/storable-text";
import { decodeInstantPosition } from "@/lib/list/keyset-position";

export const AUDIT_PAGE_SIZE = 50;

/** The entity types services write (lib/audit/record-audit.ts). */
export const AUDIT_ENTITY_TYPES = [
  "payout",
  "booking",
  "tip",
  "dispute",
  "provider",
  "stripe_account",
  "alert",
  "alert_notification",
  "admin_user",
  "webhook_event",
  "platform_webhook",
] as const;

/**
 * Entries only admins see: the ones about dashboard accounts (`admin_user.*`: emails,
 * names, roles, why someone was disabled) are the user directory, which is admin-only.
 */
export const ADMIN_ONLY_AUDIT_ENTITY_TYPES: readonly string[] = ["admin_user"];

/** Whether a reader with `role` sees entries about `entityType`. */
export function canReadAuditEntityType(role: TRole, entityType: string): boolean {
  return hasRole(role, "admin") || !ADMIN_ONLY_AUDIT_ENTITY_TYPES.includes(entityType);
}

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

/** `system`, `webhook` or `admin` (every actor of that type), or `user:<admin user id>`. */
export const AUDIT_ACTOR_PATTERN = new RegExp(`^(system|webhook|admin|user:${UUID})$`);

/** Form fields left empty arrive as "": treat them as not given. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === "" ? undefined : value), schema.optional());
}

/** A keyset position: the entry's createdAt (ISO, milliseconds) and id, e.g. `2026-11-24T08:49:14.836Z_<uuid>`. */
const position = optional(z.string().refine((value) => decodeInstantPosition(value) !== null, "Not a page position."));

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "Use a date as YYYY-MM-DD.")
  .refine(
    (value) => !Number.isNaN(Date.parse(`${value}T00:00:00.000Z`)) && new Date(`${value}T00:00:00.000Z`).toISOString().startsWith(value),
    "Not a calendar date.",
  );

export const ZAuditFilter = z
  .object({
    actor: optional(z.string().regex(AUDIT_ACTOR_PATTERN, "Use system, webhook, admin or user:<id>.")),
    action: optional(storableText().trim().min(1).max(100)),
    entityType: optional(
      z
        .string()
        .trim()
        .regex(/^[a-z_]{1,50}$/, "Not an entity type."),
    ),
    entityId: optional(storableText().trim().min(1).max(255)),
    /** First UTC day included. */
    from: optional(day),
    /** Last UTC day included. */
    to: optional(day),
    /** Entries older than this position (the next page). */
    after: position,
    /** Entries newer than this position (the previous page). */
    before: position,
  })
  .strict()
  .refine((f) => !(f.after && f.before), { message: "Give either after or before, not both.", path: ["before"] })
  .refine((f) => !(f.from && f.to && f.from > f.to), { message: "The start date is after the end date.", path: ["to"] });

export type TAuditFilter = z.infer<typeof ZAuditFilter>;

export const AUDIT_FILTER_KEYS = ["actor", "action", "entityType", "entityId", "from", "to", "after", "before"] as const;

/** The URL search string of a filter (without empty values), e.g. for links to other pages. */
export function auditFilterSearch(filter: Partial<Record<(typeof AUDIT_FILTER_KEYS)[number], string | undefined>>): string {
  const params = new URLSearchParams();
  for (const key of AUDIT_FILTER_KEYS) {
    const value = filter[key];
    if (value) params.set(key, value);
  }
  const search = params.toString();
  return search ? `?${search}` : "";
}
