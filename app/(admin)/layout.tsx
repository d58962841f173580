import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { loginUrlFor } from "@/components/auth/login-helpers";
import { AdminShell } from "@/components/shell/admin-shell";
import { getCurrentUser, requirePageUser } from "@/lib/auth/session";

/**
 * The dashboard frame for a signed-in user. Without a session, the login page is asked to come
 * back to the page that was opened (its path from proxy.ts's `x-pathname`; same-origin paths
 * only), so a payout link opened while signed out lands on the payout. Each page checks again.
 */
export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  if (!(await getCurrentUser())) redirect(loginUrlFor((await headers()).get("x-pathname")));
  const user = await requirePageUser();
  return <AdminShell user={user}>{children}</AdminShell>;
}
