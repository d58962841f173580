// Client-side access to the users API: typed query keys and fetchers.
import { getJson, sendJson } from "@/lib/http/client";

import type { TAdminAccessDecision, TCreateUserResult, TUserChangeResult, TUserList } from "./types";
import type { TAdminAccessDecisionBody, TCreateUser, TUpdateUser } from "./user-schemas";

export const userKeys = {
  all: ["users"] as const,
  list: () => [...userKeys.all, "list"] as const,
};

export function fetchUsers(signal?: AbortSignal): Promise<TUserList> {
  return getJson<TUserList>("/api/admin/users", signal);
}

export function createUserRequest(body: TCreateUser): Promise<TCreateUserResult> {
  return sendJson<TCreateUserResult>("/api/admin/users", body);
}

export function updateUserRequest(userId: string, body: TUpdateUser): Promise<TUserChangeResult> {
  return sendJson<TUserChangeResult>(`/api/admin/users/${encodeURIComponent(userId)}`, body, "PATCH");
}

export function decideAdminAccessRequest(
  requestId: string,
  decision: "approve" | "reject",
  body: TAdminAccessDecisionBody,
): Promise<TAdminAccessDecision> {
  return sendJson<TAdminAccessDecision>(`/api/admin/users/access-requests/${encodeURIComponent(requestId)}/${decision}`, body);
}
