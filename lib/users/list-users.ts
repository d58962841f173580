import "server-only";

import type { Db, Tx } from "@/lib/db";

import { adminAccessRequestInclude, toAccessRequestItem } from "./admin-access-rules";
import type { TAdminUserItem, TUserList } from "./types";

export const userSelect = {
  id: true,
  email: true,
  name: true,
  role: true,
  disabledAt: true,
  lastLoginAt: true,
  createdAt: true,
} as const;

type TUserRow = {
  id: string;
  email: string;
  name: string;
  role: TAdminUserItem["role"];
  disabledAt: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
};

export function toUserItem(row: TUserRow): TAdminUserItem {
  return {
    ...row,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Every dashboard user: active ones first, then disabled ones, each by name; and the admin access awaiting a second admin. */
export async function listUsers(db: Db | Tx): Promise<TUserList> {
  const rows = await db.adminUser.findMany({
    orderBy: [{ disabledAt: { sort: "desc", nulls: "first" } }, { name: "asc" }, { id: "asc" }],
    select: userSelect,
  });
  const requests = await db.adminAccessRequest.findMany({
    where: { status: "pending" },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    include: adminAccessRequestInclude,
  });
  return { users: rows.map(toUserItem), accessRequests: requests.map(toAccessRequestItem) };
}
