import type { AdminRole } from "@/generated/prisma/enums";

/** Demo logins created by `npm run db:seed` (development only; the README lists them). */
export const DEMO_USERS: ReadonlyArray<{ email: string; name: string; role: AdminRole; password: string }> = [
  { email: "admin@payouts.test", name: "Ada Admin", role: "admin", password: "demo-admin-pass" },
  { email: "operator@payouts.test", name: "Oscar Operator", role: "operator", password: "demo-operator-pass" },
  { email: "viewer@payouts.test", name: "Vera Viewer", role: "viewer", password: "demo-viewer-pass" },
];
