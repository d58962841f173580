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

export type TUserList = { users: TAdminUserItem[] };

export type TUserChangeResult = {
  user: TAdminUserItem;
  /** False when the user already had that role or state: nothing was written. */
  changed: boolean;
};
