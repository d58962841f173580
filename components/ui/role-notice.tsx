import Link from "next/link";

import type { TRole } from "@/lib/auth/roles";

const WITH_ARTICLE: Record<TRole, string> = { viewer: "a viewer", operator: "an operator", admin: "an admin" };

/** In place of a page the signed-in role may not open: which role it needs, and which one the user has. */
export function RoleNotice({ what, required, role }: { what: string; required: TRole; role: TRole }) {
  return (
    <div role="alert" className="rounded-xl border border-amber-200 bg-amber-50 px-5 py-4 text-sm text-amber-900">
      <p className="font-medium">
        {what} needs the {required} role.
      </p>
      <p className="mt-1">
        You are signed in as {WITH_ARTICLE[role]}. Ask an admin to change your role if you need it.{" "}
        <Link href="/" className="font-medium underline">
          Back to the Overview
        </Link>
      </p>
    </div>
  );
}
