// Client-side access to the users API: typed query keys and fetchers.
import { getJson, sendJson } from "@/lib/http/client";

import type { TAdminUserItem, TUserChangeResult, TUserList } from "./types";
import type { TCreateUser, TUpdateUser } from "./user-schemas";

export const userKeys = {
  all: ["users"] as const,
  list: () => [...userKeys.all, "list"] as const,
};

export function fetchUsers(signal?: AbortSignal): Promise<TUserList> {
  return getJson<TUserList>("/api/admin/users", signal);
}

export function createUserRequest(body: TCreateUser): Promise<{ user: TAdminUserItem }> {
  return sendJson<{ user: TAdminUserItem }>("/api/admin/users", body);
}

export function updateUserRequest(userId: string, body: TUpdateUser): Promise<TUserChangeResult> {
  return sendJson<TUserChangeResult>(`/api/admin/users/${encodeURIComponent(userId)}`, body, "PATCH");
}
