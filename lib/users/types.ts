import type { AdminRole } from "@/generated/prisma/enums";

/** A dashboard user as the Users page and API show it (never the password hash). */
export type TAdminUserItem = {
  id: string;
  email: string;
  name: string;
  role: AdminRole;
  disabledAt: string | null;
  lastLoginAt: string | null;
  createdAt: string;
};

/** A pending four-eyes request for admin access (create an admin, promote to admin, enable an admin). */
export type TAdminAccessRequestItem = {
  id: string;
  kind: "create" | "promote" | "enable";
  /** The account: promoted or enabled; for `create`, the id it gets when approved. */
  userId: string;
  email: string;
  name: string;
  reason: string | null;
  status: "pending" | "approved" | "rejected" | "cancelled";
  requestedBy: { id: string; name: string; email: string };
  createdAt: string;
};

export type TUserList = {
  users: TAdminUserItem[];
  /** Admin access waiting for a second admin, oldest first. */
  accessRequests: TAdminAccessRequestItem[];
};

export type TUserChangeResult = {
  user: TAdminUserItem;
  /** False when the user already had that role or state, or the change awaits a second admin: nothing was changed. */
  changed: boolean;
  /** Set when the change gives admin access and waits for a second admin's approval (four-eyes). */
  request?: TAdminAccessRequestItem;
};

/** Creating a user: done, or (an admin account while another admin is active) waiting for a second admin. */
export type TCreateUserResult = { outcome: "created"; user: TAdminUserItem } | { outcome: "requested"; request: TAdminAccessRequestItem };

/** A decision on an admin access request. */
export type TAdminAccessDecision = {
  request: TAdminAccessRequestItem;
  outcome: "approved" | "rejected" | "withdrawn";
  /** The account as it is after an approval. */
  user: TAdminUserItem | null;
};
