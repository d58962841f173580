import type { AdminRole } from "@/generated/prisma/enums";

declare module "next-auth" {
  interface User {
    role: AdminRole;
    sessionVersion: number;
    /** The AdminSession row created at sign-in. */
    sessionId: string;
  }
  interface Session {
    user: { id: string; name: string; email: string; role: AdminRole; sessionVersion: number; sessionId: string };
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    role: AdminRole;
    sessionVersion: number;
    /** The AdminSession id, checked on every request. */
    sid: string;
  }
}
