import type { TCurrentUser } from "@/lib/auth/session";

import { NavLinks } from "./nav-links";
import { UserMenu } from "./user-menu";

/**
 * The dashboard frame. Large screens: a sidebar with the brand, the signed-in user and the
 * navigation. Small screens: the same elements as a top bar with a scrollable nav strip.
 * One DOM for both, so the tab order matches what is seen.
 */
export function AdminShell({ user, children }: { user: TCurrentUser; children: React.ReactNode }) {
  return (
    <div className="min-h-dvh lg:grid lg:grid-cols-[15rem_minmax(0,1fr)]">
      <a
        href="#main"
        className="sr-only z-50 rounded-md bg-white px-3 py-2 text-sm font-medium text-indigo-700 shadow focus:not-sr-only focus:fixed focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <header className="border-b border-gray-200 bg-white lg:border-r lg:border-b-0">
        <div className="lg:sticky lg:top-0 lg:flex lg:max-h-dvh lg:flex-col lg:overflow-y-auto">
          <div className="flex items-center justify-between gap-4 px-4 py-3 lg:flex-col lg:items-stretch lg:gap-5 lg:px-5 lg:pt-5 lg:pb-3">
            <div className="flex items-center gap-2">
              <span aria-hidden className="flex size-7 items-center justify-center rounded-md bg-indigo-600 text-xs font-bold text-white">
                P
              </span>
              <span className="text-base font-semibold tracking-tight text-gray-900">Payouts</span>
            </div>
            <div className="min-w-0 lg:rounded-lg lg:border lg:border-gray-200 lg:bg-gray-50 lg:p-3">
              <UserMenu user={user} />
            </div>
          </div>
          <NavLinks role={user.role} />
        </div>
      </header>
      <main id="main" tabIndex={-1} className="min-w-0 focus:outline-none">
        <div className="mx-auto max-w-7xl px-4 py-6 sm:px-6 lg:px-8 lg:py-8">{children}</div>
      </main>
    </div>
  );
}
