import "server-only";

import type { TActor } from "@/lib/audit/record-audit";
import type { TCurrentUser } from "@/lib/auth/session";

/** The audit actor for a signed-in dashboard user: `{ type: "admin", id, label: "Name <email>" }`. */
export function adminActorOf(user: Pick<TCurrentUser, "id" | "name" | "email">): TActor & { type: "admin" } {
  return { type: "admin", id: user.id, label: `${user.name} <${user.email}>` };
}
