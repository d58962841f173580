import type { Metadata } from "next";

import { PageHeader } from "@/components/ui/page-header";
import { UsersPanel } from "@/components/users/users-panel";
import { requirePageUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { listUsers } from "@/lib/users/list-users";

export const metadata: Metadata = { title: "Users" };
export const dynamic = "force-dynamic";

/** Admins only: others are sent back to the Overview (the users API answers them 403). */
export default async function UsersPage() {
  const admin = await requirePageUser("admin");
  const loadedAt = new Date().toISOString();
  const list = await listUsers(db);
  return (
    <div className="space-y-5">
      <PageHeader
        title="Users"
        description="Who can sign in to the dashboard, and what their role lets them do. Every change is audited."
      />
      <UsersPanel initialList={list} loadedAt={loadedAt} currentUserId={admin.id} />
    </div>
  );
}
