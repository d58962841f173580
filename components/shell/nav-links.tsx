"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

import type { TRole } from "@/lib/auth/roles";

import { isActivePath, navItemsFor } from "./nav-items";

/**
 * Main navigation: a horizontal, scrollable strip on small screens, a vertical list on
 * large ones. Items above the user's role are left out (their pages check the role too).
 */
export function NavLinks({ role }: { role: TRole }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Main" className="-mb-px overflow-x-auto lg:mb-0 lg:overflow-visible">
      <ul className="flex gap-1 px-3 pt-1 pb-2 lg:flex-col lg:gap-0.5 lg:px-3 lg:py-2">
        {navItemsFor(role).map((item) => {
          const active = isActivePath(pathname, item.href);
          return (
            <li key={item.href} className="shrink-0">
              <Link
                href={item.href}
                aria-current={active ? "page" : undefined}
                className={`flex items-center gap-2 rounded-md px-3 py-1.5 text-sm whitespace-nowrap transition-colors ${
                  active ? "bg-indigo-50 font-medium text-indigo-700" : "text-gray-600 hover:bg-gray-100 hover:text-gray-900"
                }`}
              >
                <span className={active ? "text-indigo-600" : "text-gray-400"}>{item.icon}</span>
                {item.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
