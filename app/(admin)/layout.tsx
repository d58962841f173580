import { AdminShell } from "@/components/shell/admin-shell";
import { requirePageUser } from "@/lib/auth/session";

export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  const user = await requirePageUser();
  return <AdminShell user={user}>{children}</AdminShell>;
}
