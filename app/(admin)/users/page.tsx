import type { Metadata } from "next";

import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { PageHeader } from "@/components/ui/page-header";
import { RoleNotice } from "@/components/ui/role-notice";
import { UsersPanel } from "@/components/users/users-panel";
import { hasRole } from "@/lib/auth/roles";
import { db } from "@/lib/db";
import { listUsers } from "@/lib/users/list-users";

export const metadata: Metadata = { title: "Users" };
export const dynamic = "force-dynamic";

/** Admins only: others are told which role it needs (the users API answers them 403). */
export default async function UsersPage() {
  const user = await requirePageUserAt("/users");
  if (!hasRole(user.role, "admin")) {
    return (
      <div className="space-y-5">
        <PageHeader title="Users" />
        <RoleNotice what="Managing users" required="admin" role={user.role} />
      </div>
    );
  }
  const loadedAt = new Date().toISOString();
  const list = await listUsers(db);
  return (
    <div className="space-y-5">
      <PageHeader
        title="Users"
        description="Who can sign in to the dashboard, and what their role lets them do. Every change is audited."
      />
      <UsersPanel initialList={list} loadedAt={loadedAt} currentUserId={user.id} />
    </div>
  );
}
