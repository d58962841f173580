"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { toast } from "sonner";

import { primaryButtonClass } from "@/components/shell/list/fields";
import { Notice } from "@/components/shell/list/page-states";
import { DataTable, type TColumn } from "@/components/ui/data-table";
import { DateTime } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { ReasonDialog } from "@/components/ui/reason-dialog";
import { Badge } from "@/components/ui/status-badge";
import type { AdminRole } from "@/generated/prisma/enums";
import { ApiError } from "@/lib/http/client";
import type { TAdminUserItem, TUserList } from "@/lib/users/types";
import type { TCreateUser, TUpdateUser } from "@/lib/users/user-schemas";
import { createUserRequest, decideAdminAccessRequest, fetchUsers, updateUserRequest, userKeys } from "@/lib/users/users-query";

import { AccessRequests } from "./access-requests";
import { CreateUserDialog } from "./create-user-dialog";
import { RoleDialog } from "./role-dialog";
import { ROLE_LABELS } from "./role-labels";

const ROLE_TONES = { viewer: "neutral", operator: "info", admin: "accent" } as const;

const actionClass =
  "rounded-md border border-gray-300 bg-white px-2.5 py-1 text-xs font-medium whitespace-nowrap text-gray-700 shadow-xs hover:bg-gray-50 disabled:cursor-not-allowed disabled:opacity-50";

/** The Users page: every dashboard user, and (admins only reach it) adding, role changes, disabling. */
export function UsersPanel({ initialList, loadedAt, currentUserId }: { initialList: TUserList; loadedAt: string; currentUserId: string }) {
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [roleTarget, setRoleTarget] = useState<TAdminUserItem | null>(null);
  const [toggleTarget, setToggleTarget] = useState<TAdminUserItem | null>(null);

  const { data, error, isFetching } = useQuery({
    queryKey: userKeys.list(),
    queryFn: ({ signal }) => fetchUsers(signal),
    initialData: initialList,
    initialDataUpdatedAt: Date.parse(loadedAt),
  });

  const invalidate = () => queryClient.invalidateQueries({ queryKey: userKeys.list(), exact: true });

  const create = useMutation({
    mutationFn: (input: TCreateUser) => createUserRequest(input),
    onSuccess: async (result) => {
      if (result.outcome === "created") {
        toast.success(`${result.user.name} can now sign in as ${ROLE_LABELS[result.user.role].toLowerCase()}.`);
      } else {
        toast.info(`Admin account for ${result.request.name} requested: waiting for another admin's approval.`);
      }
      await invalidate();
    },
  });

  const update = useMutation({
    mutationFn: ({ userId, change }: { userId: string; change: TUpdateUser }) => updateUserRequest(userId, change),
    onSuccess: async ({ user, changed, request }, { change }) => {
      if (request) toast.info(`Admin access for ${user.name} requested: waiting for another admin's approval.`);
      else if (!changed) toast.info(`Nothing to change for ${user.name}.`);
      else if ("role" in change) toast.success(`${user.name} is now ${ROLE_LABELS[user.role].toLowerCase()}; their sessions ended.`);
      else toast.success(change.disabled ? `${user.name} is disabled and signed out.` : `${user.name} can sign in again.`);
      await invalidate();
    },
  });

  const decide = useMutation({
    mutationFn: ({ requestId, decision, reason }: { requestId: string; decision: "approve" | "reject"; reason: string }) =>
      decideAdminAccessRequest(requestId, decision, { reason }),
    onSuccess: async ({ request, outcome }) => {
      if (outcome === "approved") toast.success(`${request.name} is now an admin.`);
      else toast.info(outcome === "withdrawn" ? "Your request is withdrawn." : `Admin access for ${request.name} rejected.`);
      await invalidate();
    },
    // An expired request (409) is closed on the server: show the list as it is now.
    onError: async (e) => {
      if (e instanceof ApiError && e.status === 409) await invalidate();
    },
  });

  const pendingFor = new Map(data.accessRequests.map((r) => [r.userId, r]));

  const columns: TColumn<TAdminUserItem>[] = [
    {
      key: "user",
      header: "User",
      className: "min-w-52",
      cell: (u) => (
        <div>
          <span className="font-medium text-gray-900">{u.name}</span>
          {u.id === currentUserId ? <span className="ml-1.5 text-xs text-gray-500">(you)</span> : null}
          <div className="text-xs text-gray-500">{u.email}</div>
        </div>
      ),
    },
    {
      key: "role",
      header: "Role",
      cell: (u) => (
        <div>
          <Badge tone={ROLE_TONES[u.role]}>{ROLE_LABELS[u.role]}</Badge>
          {pendingFor.has(u.id) ? (
            <div className="mt-0.5 text-xs whitespace-nowrap text-amber-800">Admin access awaiting approval</div>
          ) : null}
        </div>
      ),
    },
    {
      key: "status",
      header: "Status",
      cell: (u) =>
        u.disabledAt ? (
          <div>
            <Badge tone="danger">Disabled</Badge>
            <div className="mt-0.5 text-xs text-gray-500">
              since <DateTime value={u.disabledAt} />
            </div>
          </div>
        ) : (
          <Badge tone="success">Active</Badge>
        ),
    },
    {
      key: "lastLogin",
      header: "Last sign-in",
      cell: (u) => (u.lastLoginAt ? <DateTime value={u.lastLoginAt} /> : <span className="text-gray-400">Never</span>),
    },
    { key: "created", header: "Added", cell: (u) => <DateTime value={u.createdAt} /> },
    {
      key: "actions",
      header: <span className="sr-only">Actions</span>,
      align: "right",
      cell: (u) => {
        const self = u.id === currentUserId;
        return (
          <div className="flex justify-end gap-2">
            <button
              type="button"
              className={actionClass}
              disabled={self || Boolean(u.disabledAt)}
              title={self ? "You cannot change your own role" : u.disabledAt ? "Enable the user first" : undefined}
              aria-label={`Change role of ${u.name}`}
              onClick={() => setRoleTarget(u)}
            >
              Change role
            </button>
            <button
              type="button"
              className={actionClass}
              disabled={self}
              title={self ? "You cannot disable your own account" : undefined}
              aria-label={`${u.disabledAt ? "Enable" : "Disable"} ${u.name}`}
              onClick={() => setToggleTarget(u)}
            >
              {u.disabledAt ? "Enable" : "Disable"}
            </button>
          </div>
        );
      },
    },
  ];

  const active = data.users.filter((u) => !u.disabledAt).length;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="text-sm text-gray-600" aria-live="polite">
          {active.toLocaleString("en-US")} active, {(data.users.length - active).toLocaleString("en-US")} disabled
          {isFetching ? " · refreshing…" : ""}
        </p>
        <button type="button" className={primaryButtonClass} onClick={() => setCreating(true)}>
          Add user
        </button>
      </div>
      <AccessRequests
        requests={data.accessRequests}
        currentUserId={currentUserId}
        onDecide={async (requestId, decision, reason) => void (await decide.mutateAsync({ requestId, decision, reason }))}
      />
      {error ? (
        <Notice>
          {error instanceof ApiError && error.status === 401
            ? "Your session has ended. Sign in again."
            : "Could not refresh the users; the list below may be out of date."}
        </Notice>
      ) : null}
      <DataTable
        caption="Dashboard users: active ones first"
        columns={columns}
        rows={data.users}
        rowKey={(u) => u.id}
        empty={<EmptyState title="No users" description="Add the people who run payouts." />}
      />
      <CreateUserDialog open={creating} onOpenChange={setCreating} onCreate={async (input) => void (await create.mutateAsync(input))} />
      <RoleDialog
        user={roleTarget}
        onOpenChange={(open) => {
          if (!open) setRoleTarget(null);
        }}
        onConfirm={async (role: AdminRole, reason) => {
          if (!roleTarget) return;
          await update.mutateAsync({ userId: roleTarget.id, change: { role, reason } });
        }}
      />
      <ReasonDialog
        open={toggleTarget !== null}
        onOpenChange={(open) => {
          if (!open) setToggleTarget(null);
        }}
        title={toggleTarget?.disabledAt ? `Enable ${toggleTarget.name}?` : `Disable ${toggleTarget?.name ?? "this user"}?`}
        description={
          toggleTarget?.disabledAt
            ? "They can sign in again with their password."
            : "They are signed out everywhere at once and cannot sign in until an admin enables them again. Their audit history stays."
        }
        confirmLabel={toggleTarget?.disabledAt ? "Enable" : "Disable"}
        destructive={!toggleTarget?.disabledAt}
        onConfirm={async (reason) => {
          if (!toggleTarget) return;
          await update.mutateAsync({ userId: toggleTarget.id, change: { disabled: !toggleTarget.disabledAt, reason } });
        }}
      />
    </div>
  );
}
