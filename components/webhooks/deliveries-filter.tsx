import { Field, inputClass } from "@/components/shell/list/fields";
import { FilterForm } from "@/components/shell/list/filter-form";
import { WebhookEventStatus, WebhookSource } from "@/generated/prisma/enums";
import type { TDeliveryFilter } from "@/lib/webhooks/list-deliveries-filter";

import { DELIVERY_SOURCE_LABELS, DELIVERY_STATUS_LABELS } from "./labels";

export function isDeliveryFilterActive(filter: TDeliveryFilter): boolean {
  return Boolean(filter.status || filter.source || filter.type);
}

export function DeliveriesFilter({
  filter,
  types,
  counts,
}: {
  filter: TDeliveryFilter;
  types: string[];
  counts: Partial<Record<WebhookEventStatus, number>>;
}) {
  return (
    <FilterForm
      key={JSON.stringify(filter)}
      action="/webhooks"
      label="Filter webhook deliveries"
      clearHref="/webhooks"
      active={isDeliveryFilterActive(filter)}
    >
      <Field label="Status">
        {(id) => (
          <select id={id} name="status" defaultValue={filter.status ?? ""} className={inputClass}>
            <option value="">Any status</option>
            {Object.values(WebhookEventStatus).map((s) => (
              <option key={s} value={s}>
                {DELIVERY_STATUS_LABELS[s]} ({(counts[s] ?? 0).toLocaleString("en-US")})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Source">
        {(id) => (
          <select id={id} name="source" defaultValue={filter.source ?? ""} className={inputClass}>
            <option value="">Any source</option>
            {Object.values(WebhookSource).map((s) => (
              <option key={s} value={s}>
                {DELIVERY_SOURCE_LABELS[s]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Type">
        {(id) => (
          <>
            <input
              id={id}
              name="type"
              list={`${id}-types`}
              defaultValue={filter.type ?? ""}
              placeholder="e.g. booking.completed"
              autoComplete="off"
              spellCheck={false}
              className={`${inputClass} font-mono`}
            />
            <datalist id={`${id}-types`}>
              {types.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </>
        )}
      </Field>
    </FilterForm>
  );
}
