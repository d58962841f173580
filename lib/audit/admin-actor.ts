import type { TActor } from "./record-audit";

/** The audit actor for a dashboard user: `{ type: "admin", id, label: "Name <email>" }`. */
export function adminActorOf(user: { id: string; name: string; email: string }): TActor & { type: "admin" } {
  return { type: "admin", id: user.id, label: `${user.name} <${user.email}>` };
}
