import type { AdminRole } from "@/generated/prisma/enums";

export type TRole = AdminRole;

const RANK: Record<TRole, number> = { viewer: 0, operator: 1, admin: 2 };

export const ROLES: readonly TRole[] = ["viewer", "operator", "admin"];

/** True when `role` grants at least what `required` grants. */
export function hasRole(role: TRole, required: TRole): boolean {
  return RANK[role] >= RANK[required];
}
