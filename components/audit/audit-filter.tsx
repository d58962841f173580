import { Field, inputClass } from "@/components/shell/list/fields";
import { FilterForm } from "@/components/shell/list/filter-form";
import type { TAuditActorOption } from "@/lib/audit/list-audit-entries";
import type { TAuditFilter } from "@/lib/audit/list-audit-filter";

import { entityTypeLabel } from "./entity-labels";

export function isAuditFilterActive(filter: TAuditFilter): boolean {
  return Boolean(filter.actor || filter.action || filter.entityType || filter.entityId || filter.from || filter.to);
}

/** `users`, `actions` and `entityTypes`: what the reader may filter by (listAuditFilterOptions). */
export function AuditFilter({
  filter,
  users,
  actions,
  entityTypes,
}: {
  filter: TAuditFilter;
  users: TAuditActorOption[];
  actions: string[];
  entityTypes: readonly string[];
}) {
  // A filtered action that no entry has (yet) stays selectable.
  const actionOptions = filter.action && !actions.includes(filter.action) ? [filter.action, ...actions] : actions;
  const knownActor = !filter.actor || ["system", "webhook", "admin"].includes(filter.actor) || users.some((u) => u.value === filter.actor);
  return (
    <FilterForm
      key={JSON.stringify(filter)}
      action="/audit"
      label="Filter the audit log"
      clearHref="/audit"
      active={isAuditFilterActive(filter)}
    >
      <Field label="Actor">
        {(id) => (
          <select id={id} name="actor" defaultValue={filter.actor ?? ""} className={inputClass}>
            <option value="">Anyone</option>
            <optgroup label="Kinds">
              <option value="system">System (payout engine, jobs)</option>
              <option value="webhook">Webhooks (booking platform, Stripe)</option>
              <option value="admin">Any dashboard user</option>
            </optgroup>
            <optgroup label="Users">
              {users.map((u) => (
                <option key={u.value} value={u.value}>
                  {u.label}
                </option>
              ))}
              {knownActor ? null : <option value={filter.actor}>{filter.actor}</option>}
            </optgroup>
          </select>
        )}
      </Field>
      <Field label="Action">
        {(id) => (
          <select id={id} name="action" defaultValue={filter.action ?? ""} className={inputClass}>
            <option value="">Any action</option>
            {actionOptions.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Entity type">
        {(id) => (
          <select id={id} name="entityType" defaultValue={filter.entityType ?? ""} className={inputClass}>
            <option value="">Any entity</option>
            {[...new Set([...entityTypes, ...(filter.entityType ? [filter.entityType] : [])])].map((t) => (
              <option key={t} value={t}>
                {entityTypeLabel(t)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Entity id">
        {(id) => (
          <input
            id={id}
            name="entityId"
            defaultValue={filter.entityId ?? ""}
            placeholder="uuid or external id"
            autoComplete="off"
            spellCheck={false}
            className={`${inputClass} font-mono`}
          />
        )}
      </Field>
      <Field label="From (UTC)">
        {(id) => <input id={id} name="from" type="date" defaultValue={filter.from ?? ""} className={inputClass} />}
      </Field>
      <Field label="To (UTC, included)">
        {(id) => <input id={id} name="to" type="date" defaultValue={filter.to ?? ""} className={inputClass} />}
      </Field>
    </FilterForm>
  );
}
