"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useTransition } from "react";

import { primaryButtonClass, secondaryButtonClass } from "./fields";

/**
 * A GET form for a list's filters. With JavaScript it navigates client-side and leaves
 * empty fields out of the URL; without, the browser submits it as a plain GET form.
 * Paging positions are not fields, so changing a filter starts from the first page.
 */
export function FilterForm({
  action,
  label,
  clearHref,
  active,
  children,
}: {
  action: string;
  label: string;
  clearHref: string;
  active: boolean;
  children: React.ReactNode;
}) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();

  function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(event.currentTarget)) {
      if (typeof value === "string" && value.trim() !== "") params.set(key, value.trim());
    }
    const search = params.toString();
    startTransition(() => router.push(search ? `${action}?${search}` : action, { scroll: false }));
  }

  return (
    <form
      role="search"
      aria-label={label}
      method="get"
      action={action}
      onSubmit={submit}
      className="rounded-xl border border-gray-200 bg-white p-3 shadow-xs sm:p-4"
    >
      <div className="flex flex-wrap items-end gap-3">
        {children}
        <div className="ml-auto flex shrink-0 flex-wrap items-center gap-2">
          {active ? (
            <Link href={clearHref} className={secondaryButtonClass} scroll={false}>
              Clear
            </Link>
          ) : null}
          <button type="submit" className={primaryButtonClass} disabled={pending}>
            {pending ? "Applying…" : "Apply"}
          </button>
        </div>
      </div>
    </form>
  );
}
