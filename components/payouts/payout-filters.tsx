"use client";

import { useEffect, useId, useRef, useState } from "react";

import { PAYOUT_STATUS_LABELS } from "@/components/ui/labels";
import { PAYOUT_STATUS_TONES, toneDotClass } from "@/components/ui/status-badge";
import type { TPayoutListPage } from "@/lib/payouts/list-payouts";
import {
  DEFAULT_PAYOUT_FILTER,
  isFiltered,
  PAYOUT_STATUSES,
  parsePayoutFilter,
  serializePayoutFilter,
  type TPayoutFilter,
} from "@/lib/payouts/payout-filter";

import { useHydrated } from "./use-hydrated";

export const SORT_OPTIONS = [
  { value: "createdAt:desc", label: "Newest first" },
  { value: "createdAt:asc", label: "Oldest first" },
  { value: "eligibleAt:asc", label: "Due soonest" },
  { value: "eligibleAt:desc", label: "Due latest" },
  { value: "amount:desc", label: "Largest amount" },
  { value: "amount:asc", label: "Smallest amount" },
] as const;

const inputClass =
  "block w-full rounded-md border border-gray-300 bg-white px-2.5 py-1.5 text-sm text-gray-900 shadow-xs placeholder:text-gray-400 focus:border-indigo-500 focus:ring-1 focus:ring-indigo-500 focus:outline-none aria-invalid:border-red-400";
const labelClass = "mb-1 block text-xs font-medium text-gray-600";

type TFieldErrors = Partial<Record<string, string>>;

/** Reads the form into URL params the filter schema understands. */
function formToParams(form: HTMLFormElement): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) {
    if (typeof value !== "string") continue;
    if (key === "sortOrder") {
      const [sort = "createdAt", order = "desc"] = value.split(":");
      params.set("sort", sort);
      params.set("order", order);
    } else params.append(key, value);
  }
  return params;
}

/**
 * The filter bar. Choices (status, currency, date field, sort) apply at once; typed values
 * (search, provider, dates, amounts) apply with Enter or "Apply". The form is keyed by the
 * filter, so Back/Forward reset it to the URL's view.
 */
export function PayoutFilters({
  filter,
  currencies,
  provider,
  onChange,
}: {
  filter: TPayoutFilter;
  currencies: string[];
  /** The resolved provider filter, once the list has loaded. */
  provider: TPayoutListPage["provider"] | undefined;
  onChange: (filter: TPayoutFilter) => void;
}) {
  const formRef = useRef<HTMLFormElement>(null);
  const hydrated = useHydrated();
  const [errors, setErrors] = useState<TFieldErrors>({});
  const [dirty, setDirty] = useState(false);
  // Phones show the search and the sort; the other filters open with a button.
  const [moreOpen, setMoreOpen] = useState(false);
  const activeCount =
    (filter.status.length > 0 ? 1 : 0) +
    [filter.provider, filter.currency, filter.from || filter.to, filter.amountMin || filter.amountMax].filter(Boolean).length;
  const phoneHidden = moreOpen ? "" : "max-md:hidden";

  // The inputs are uncontrolled. When the filter changes from outside the form (Back,
  // Forward, "Clear filters", a provider link in the table), the form is re-created from
  // the URL; after the form's own submit it is left alone, so focus stays where it was.
  const current = serializePayoutFilter(filter).toString();
  const [seen, setSeen] = useState(current);
  const [submitted, setSubmitted] = useState(current);
  const [generation, setGeneration] = useState(0);
  if (seen !== current) {
    setSeen(current);
    if (current !== submitted) {
      setGeneration((g) => g + 1);
      setErrors({});
      setDirty(false);
    }
  }
  const id = useId();
  const fieldId = (name: string) => `${id}-${name}`;
  const errorId = (name: string) => `${id}-${name}-error`;
  const currencyOptions = filter.currency && !currencies.includes(filter.currency) ? [...currencies, filter.currency].sort() : currencies;

  function submit(event?: React.FormEvent<HTMLFormElement>) {
    event?.preventDefault();
    const form = formRef.current;
    if (!form) return;
    const parsed = parsePayoutFilter(formToParams(form));
    if (!parsed.success) {
      const next: TFieldErrors = {};
      for (const issue of parsed.error.issues) next[String(issue.path[0] ?? "form")] ??= issue.message;
      setErrors(next);
      return;
    }
    setErrors({});
    setDirty(false);
    setSubmitted(serializePayoutFilter(parsed.data).toString());
    onChange(parsed.data);
  }

  const applyNow = () => formRef.current?.requestSubmit();
  const invalid = (name: string) => (errors[name] ? { "aria-invalid": true as const, "aria-describedby": errorId(name) } : {});
  const fieldError = (name: string) =>
    errors[name] ? (
      <p id={errorId(name)} className="mt-1 text-xs text-red-700">
        {errors[name]}
      </p>
    ) : null;

  return (
    <form
      key={generation}
      ref={formRef}
      role="search"
      aria-label="Filter payouts"
      onSubmit={submit}
      onInput={() => setDirty(true)}
      className="space-y-3 rounded-xl border border-gray-200 bg-white p-3 shadow-xs sm:p-4"
    >
      <div className="grid grid-cols-2 gap-3 md:flex md:items-start">
        <div className="col-span-2 min-w-0 md:flex-1">
          <label htmlFor={fieldId("q")} className={labelClass}>
            Search
          </label>
          <div className="relative">
            <svg
              aria-hidden
              viewBox="0 0 20 20"
              fill="none"
              stroke="currentColor"
              strokeWidth={1.5}
              className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-gray-400"
            >
              <circle cx="9" cy="9" r="5.5" />
              <path d="m13 13 3.5 3.5" strokeLinecap="round" />
            </svg>
            <input
              id={fieldId("q")}
              name="q"
              type="search"
              defaultValue={filter.q ?? ""}
              maxLength={200}
              placeholder="Payout ID, tr_… transfer, booking or provider ID, provider name"
              autoComplete="off"
              className={`${inputClass} pl-8`}
              {...invalid("q")}
            />
          </div>
          {fieldError("q")}
        </div>

        <fieldset className={`col-span-2 min-w-0 sm:col-span-1 md:w-52 ${phoneHidden}`}>
          <legend className={labelClass}>
            Amount<span className="sr-only"> (in each payout&apos;s currency)</span>
          </legend>
          <div className="flex items-center gap-1.5">
            <input
              aria-label="Minimum amount"
              name="amountMin"
              type="text"
              inputMode="decimal"
              placeholder="Min"
              defaultValue={filter.amountMin ?? ""}
              className={inputClass}
              {...invalid("amountMin")}
            />
            <span aria-hidden className="text-gray-400">
              –
            </span>
            <input
              aria-label="Maximum amount"
              name="amountMax"
              type="text"
              inputMode="decimal"
              placeholder="Max"
              defaultValue={filter.amountMax ?? ""}
              className={inputClass}
              {...invalid("amountMax")}
            />
          </div>
          {fieldError("amountMin") ?? fieldError("amountMax")}
        </fieldset>

        <div className="col-span-1 md:w-44">
          <label htmlFor={fieldId("sort")} className={labelClass}>
            Sort
          </label>
          <select
            id={fieldId("sort")}
            name="sortOrder"
            defaultValue={`${filter.sort}:${filter.order}`}
            onChange={applyNow}
            className={inputClass}
          >
            {SORT_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </div>

        <div className="col-span-1 self-end md:hidden">
          <button
            type="button"
            aria-expanded={moreOpen}
            aria-controls={fieldId("more")}
            onClick={() => setMoreOpen((open) => !open)}
            className="flex w-full items-center justify-center gap-1.5 rounded-md border border-gray-300 bg-white px-2.5 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50"
          >
            {moreOpen ? "Hide filters" : "Filters"}
            {activeCount > 0 ? <span className="rounded-full bg-indigo-100 px-1.5 text-xs text-indigo-700">{activeCount}</span> : null}
          </button>
        </div>
      </div>

      <div id={fieldId("more")} className={`grid grid-cols-2 gap-3 sm:flex sm:flex-wrap sm:items-start ${phoneHidden}`}>
        <StatusPicker selected={filter.status} onChange={applyNow} />

        <div className="sm:w-28">
          <label htmlFor={fieldId("currency")} className={labelClass}>
            Currency
          </label>
          <select id={fieldId("currency")} name="currency" defaultValue={filter.currency ?? ""} onChange={applyNow} className={inputClass}>
            <option value="">All</option>
            {currencyOptions.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>

        <div className="col-span-2 sm:w-52">
          <label htmlFor={fieldId("provider")} className={labelClass}>
            Provider
          </label>
          <input
            id={fieldId("provider")}
            name="provider"
            type="text"
            defaultValue={filter.provider ?? ""}
            placeholder="Provider ID or external ID"
            autoComplete="off"
            spellCheck={false}
            className={inputClass}
            {...invalid("provider")}
            aria-describedby={errors.provider ? errorId("provider") : filter.provider ? fieldId("provider-hint") : undefined}
          />
          {fieldError("provider")}
          {filter.provider && provider !== undefined && !errors.provider ? (
            <p id={fieldId("provider-hint")} className={`mt-1 truncate text-xs ${provider ? "text-gray-500" : "text-amber-700"}`}>
              {provider ? provider.name : "No provider has this ID."}
            </p>
          ) : null}
        </div>

        <fieldset className="col-span-2 min-w-0 sm:w-[25rem] sm:max-w-full">
          <legend className={labelClass}>Date (UTC)</legend>
          <div className="grid grid-cols-2 gap-1.5 sm:grid-cols-[minmax(0,0.75fr)_minmax(0,1fr)_minmax(0,1fr)]">
            <select
              aria-label="Date to filter on"
              name="date"
              defaultValue={filter.date}
              onChange={(event) => {
                // A due-date window reads best (and pages fastest) in due-date order.
                const sort = formRef.current?.elements.namedItem("sortOrder");
                if (event.target.value === "eligible" && sort instanceof HTMLSelectElement && sort.value.startsWith("createdAt:"))
                  sort.value = "eligibleAt:asc";
                if (filter.from || filter.to) applyNow();
              }}
              className={`${inputClass} col-span-2 sm:col-span-1`}
            >
              <option value="created">Created</option>
              <option value="eligible">Due</option>
            </select>
            <input
              aria-label="From date"
              name="from"
              type="date"
              defaultValue={filter.from ?? ""}
              min="2000-01-01"
              max="2999-12-31"
              className={inputClass}
              {...invalid("from")}
            />
            <input
              aria-label="To date"
              name="to"
              type="date"
              defaultValue={filter.to ?? ""}
              min="2000-01-01"
              max="2999-12-31"
              className={inputClass}
              {...invalid("to")}
            />
          </div>
          {fieldError("from") ?? fieldError("to")}
        </fieldset>

        <div className="col-span-2 flex items-center justify-end gap-2 sm:ml-auto sm:self-end">
          {errors.form ? <p className="mr-auto text-xs text-red-700">{errors.form}</p> : null}
          {isFiltered(filter) ? (
            <button
              type="button"
              aria-label="Clear filters"
              onClick={() => onChange({ ...DEFAULT_PAYOUT_FILTER, sort: filter.sort, order: filter.order })}
              className="rounded-md px-2.5 py-1.5 text-sm font-medium text-gray-600 hover:bg-gray-100 hover:text-gray-900"
            >
              Clear
            </button>
          ) : null}
          <button
            type="submit"
            aria-label="Apply filters"
            // Disabled until hydrated: then pressing Enter cannot submit the form natively either.
            disabled={!hydrated}
            className={`rounded-md px-3 py-1.5 text-sm font-medium shadow-xs ${
              dirty ? "bg-indigo-600 text-white hover:bg-indigo-500" : "border border-gray-300 bg-white text-gray-700 hover:bg-gray-50"
            }`}
          >
            Apply
          </button>
        </div>
      </div>
    </form>
  );
}

/** Status as a checkbox menu in a disclosure (keyboard: Enter/Space opens, Escape closes). */
function StatusPicker({ selected, onChange }: { selected: TPayoutFilter["status"]; onChange: () => void }) {
  const ref = useRef<HTMLDetailsElement>(null);
  const labelId = useId();
  const summary =
    selected.length === 0
      ? "Any status"
      : selected.length <= 2
        ? selected.map((s) => PAYOUT_STATUS_LABELS[s]).join(", ")
        : `${selected.length} statuses`;

  useEffect(() => {
    function close(event: PointerEvent) {
      const details = ref.current;
      if (details?.open && event.target instanceof Node && !details.contains(event.target)) details.open = false;
    }
    document.addEventListener("pointerdown", close);
    return () => document.removeEventListener("pointerdown", close);
  }, []);

  return (
    <div className="min-w-0 sm:w-44">
      <span id={labelId} className={labelClass}>
        Status
      </span>
      <details
        ref={ref}
        className="group relative"
        onKeyDown={(event) => {
          if (event.key === "Escape" && ref.current?.open) {
            ref.current.open = false;
            ref.current.querySelector("summary")?.focus();
          }
        }}
      >
        <summary
          aria-labelledby={labelId}
          aria-describedby={`${labelId}-value`}
          className={`${inputClass} flex cursor-pointer list-none items-center justify-between gap-2 [&::-webkit-details-marker]:hidden`}
        >
          <span id={`${labelId}-value`} className={`truncate ${selected.length === 0 ? "text-gray-500" : ""}`}>
            {summary}
          </span>
          <svg
            aria-hidden
            viewBox="0 0 20 20"
            fill="currentColor"
            className="size-4 shrink-0 text-gray-400 transition-transform group-open:rotate-180"
          >
            <path d="M5.2 7.2a.75.75 0 0 1 1.06.04L10 11.2l3.74-3.96a.75.75 0 1 1 1.1 1.02l-4.3 4.55a.75.75 0 0 1-1.1 0l-4.3-4.55a.75.75 0 0 1 .06-1.06Z" />
          </svg>
        </summary>
        <fieldset className="absolute z-20 mt-1 w-56 rounded-lg border border-gray-200 bg-white p-1.5 shadow-lg">
          <legend className="sr-only">Statuses to show</legend>
          {PAYOUT_STATUSES.map((status) => (
            <label
              key={status}
              className="flex cursor-pointer items-center gap-2 rounded-md px-2 py-1.5 text-sm text-gray-800 hover:bg-gray-50"
            >
              <input
                type="checkbox"
                name="status"
                value={status}
                defaultChecked={selected.includes(status)}
                onChange={onChange}
                className="size-4 rounded border-gray-300 accent-indigo-600"
              />
              <span aria-hidden className={`size-1.5 rounded-full ${toneDotClass(PAYOUT_STATUS_TONES[status])}`} />
              {PAYOUT_STATUS_LABELS[status]}
            </label>
          ))}
        </fieldset>
      </details>
    </div>
  );
}
