import { SignInRedirect } from "@/components/auth/sign-in-redirect";
import { AdminShell } from "@/components/shell/admin-shell";
import { getCurrentUser } from "@/lib/auth/session";

/**
 * The dashboard frame for a signed-in user. Without a session each page redirects to the login
 * page with its own URL to come back to; the layout (which cannot know the URL) does not
 * redirect itself, so it never wins that race with a bare /login.
 */
export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  const user = await getCurrentUser();
  if (!user) return <SignInRedirect />;
  return <AdminShell user={user}>{children}</AdminShell>;
}
