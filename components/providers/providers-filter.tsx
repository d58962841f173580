import { Field, inputClass } from "@/components/shell/list/fields";
import { FilterForm } from "@/components/shell/list/filter-form";
import type { TProviderFilter } from "@/lib/providers/list-providers-filter";

export function ProvidersFilter({ filter }: { filter: TProviderFilter }) {
  return (
    <FilterForm
      key={JSON.stringify(filter)}
      action="/providers"
      label="Filter providers"
      clearHref="/providers"
      active={Boolean(filter.q) || filter.readiness !== "all"}
    >
      <Field label="Search" className="sm:col-span-1">
        {(id) => (
          <input
            id={id}
            name="q"
            type="search"
            defaultValue={filter.q ?? ""}
            placeholder="Name, acct_… or external id"
            autoComplete="off"
            className={inputClass}
          />
        )}
      </Field>
      <Field label="Stripe readiness">
        {(id) => (
          <select id={id} name="readiness" defaultValue={filter.readiness === "all" ? "" : filter.readiness} className={inputClass}>
            <option value="">Any</option>
            <option value="ready">Payouts enabled</option>
            <option value="not_ready">Not ready</option>
          </select>
        )}
      </Field>
    </FilterForm>
  );
}
