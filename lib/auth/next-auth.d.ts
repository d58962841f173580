import type { AdminRole } from "@/generated/prisma/enums";

declare module "next-auth" {
  interface User {
    role: AdminRole;
    sessionVersion: number;
  }
  interface Session {
    user: { id: string; name: string; email: string; role: AdminRole; sessionVersion: number };
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    role: AdminRole;
    sessionVersion: number;
  }
}
