import type { TCurrentUser } from "@/lib/auth/session";

import { SignOutButton } from "./sign-out-button";

/** The signed-in admin: name, email, role, and the sign-out button. */
export function UserMenu({ user }: { user: TCurrentUser }) {
  return (
    <div className="flex min-w-0 items-center gap-3 lg:flex-col lg:items-stretch lg:gap-2.5">
      <div className="min-w-0 text-right lg:text-left" data-testid="current-user">
        <p className="truncate text-sm font-medium text-gray-900">{user.name}</p>
        <p className="max-w-44 truncate text-xs text-gray-500 lg:max-w-none">{user.email}</p>
        <p className="mt-1 text-xs text-gray-500">
          <span className="sr-only">Role: </span>
          <span
            data-testid="current-user-role"
            className="inline-flex rounded bg-gray-100 px-1.5 py-0.5 text-[11px] font-medium tracking-wide text-gray-600 uppercase"
          >
            {user.role}
          </span>
        </p>
      </div>
      <SignOutButton />
    </div>
  );
}
