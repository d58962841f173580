import type { ReactNode } from "react";

import { hasRole, type TRole } from "@/lib/auth/roles";

/** `minRole`: shown only to users with at least this role (the page and its APIs check it too). */
export type TNavItem = { href: string; label: string; icon: ReactNode; minRole?: TRole };

function Icon({ children }: { children: ReactNode }) {
  return (
    <svg
      aria-hidden
      viewBox="0 0 20 20"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.5}
      strokeLinecap="round"
      strokeLinejoin="round"
      className="size-4 shrink-0"
    >
      {children}
    </svg>
  );
}

export const NAV_ITEMS: readonly TNavItem[] = [
  {
    href: "/",
    label: "Overview",
    icon: (
      <Icon>
        <path d="M3 9.5 10 4l7 5.5V16a1 1 0 0 1-1 1h-3.5v-4.5h-5V17H4a1 1 0 0 1-1-1z" />
      </Icon>
    ),
  },
  {
    href: "/payouts",
    label: "Payouts",
    icon: (
      <Icon>
        <rect x="2.5" y="5" width="15" height="10" rx="1.5" />
        <circle cx="10" cy="10" r="2" />
      </Icon>
    ),
  },
  {
    href: "/disputes",
    label: "Disputes",
    icon: (
      <Icon>
        <path d="M10 3 17.5 16.5h-15z" />
        <path d="M10 8.5v3.5M10 14.2v.1" />
      </Icon>
    ),
  },
  {
    href: "/providers",
    label: "Providers",
    icon: (
      <Icon>
        <circle cx="10" cy="7" r="3" />
        <path d="M4 17c.8-3 3.2-4.5 6-4.5s5.2 1.5 6 4.5" />
      </Icon>
    ),
  },
  {
    href: "/audit",
    label: "Audit log",
    icon: (
      <Icon>
        <path d="M5 2.5h7l3 3v12H5z" />
        <path d="M8 9h5M8 12h5M8 15h3" />
      </Icon>
    ),
  },
  {
    href: "/alerts",
    label: "Alerts",
    icon: (
      <Icon>
        <path d="M5 13.5V9a5 5 0 0 1 10 0v4.5l1.5 2h-13z" />
        <path d="M8.5 17.5a1.5 1.5 0 0 0 3 0" />
      </Icon>
    ),
  },
  {
    href: "/webhooks",
    label: "Webhooks",
    icon: (
      <Icon>
        <path d="M3 10h3l2-5 4 10 2-5h3" />
      </Icon>
    ),
  },
  {
    href: "/platform-webhooks",
    label: "Platform hooks",
    icon: (
      <Icon>
        <path d="M4 10h7M8 6l4 4-4 4" />
        <path d="M14 4.5h2.5v11H14" />
      </Icon>
    ),
  },
  {
    href: "/users",
    label: "Users",
    minRole: "admin",
    icon: (
      <Icon>
        <circle cx="7.5" cy="7.5" r="2.5" />
        <path d="M2.5 16c.6-2.4 2.6-3.7 5-3.7s4.4 1.3 5 3.7" />
        <path d="M12.5 5.2a2.5 2.5 0 0 1 0 4.6M14.5 12.6c1.5.4 2.6 1.6 3 3.4" />
      </Icon>
    ),
  },
];

/** The items `role` may see. */
export function navItemsFor(role: TRole): TNavItem[] {
  return NAV_ITEMS.filter((item) => !item.minRole || hasRole(role, item.minRole));
}

/** "/" matches only itself; other items match their path and anything below it. */
export function isActivePath(pathname: string, href: string): boolean {
  if (href === "/") return pathname === "/";
  return pathname === href || pathname.startsWith(`${href}/`);
}
