import type { AdminRole } from "@/generated/prisma/enums";

export const ROLE_LABELS: Record<AdminRole, string> = { viewer: "Viewer", operator: "Operator", admin: "Admin" };

export const ROLE_DESCRIPTIONS: Record<AdminRole, string> = {
  viewer: "Reads everything; changes nothing.",
  operator: "Also holds, releases and retries payouts, acknowledges alerts and re-drives webhooks.",
  admin: "Also force-releases and cancels payouts, and manages users. Giving admin access needs a second admin's approval.",
};
