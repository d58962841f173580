"use client";

import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";

import { ExpandableTable, type TColumnMeta } from "@/components/shell/list/expandable-table";
import { JsonView } from "@/components/shell/list/json-view";
import { DateTime, formatDateTimeUtc } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { ACTOR_TYPE_LABELS } from "@/components/ui/labels";
import type { TAuditListItem } from "@/lib/audit/list-audit-entries";
import { auditFilterSearch } from "@/lib/audit/list-audit-filter";

import { entityTypeLabel } from "./entity-labels";

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** Where an entity can be seen in the dashboard, if anywhere. */
function entityHref(entry: TAuditListItem): string | null {
  if (entry.entityType === "payout") return `/payouts/${entry.entityId}`;
  if (entry.entityType === "alert") return "/alerts";
  if (entry.entityType === "platform_webhook") return "/platform-webhooks";
  return null;
}

const columns: ColumnDef<TAuditListItem>[] = [
  { id: "time", header: "Time", cell: ({ row }) => <DateTime value={row.original.createdAt} className="text-gray-900" /> },
  {
    id: "actor",
    header: "Actor",
    meta: { className: "min-w-40" } satisfies TColumnMeta,
    cell: ({ row }) => {
      // Admin labels read "Name <email>": the name on top, the email below it.
      const match = /^(.*) <([^>]+)>$/.exec(row.original.actorLabel);
      return (
        <div className="max-w-56">
          <span className="text-gray-900">{match ? match[1] : row.original.actorLabel}</span>
          <div className="truncate text-xs text-gray-500" title={match ? match[2] : undefined}>
            {ACTOR_TYPE_LABELS[row.original.actorType]}
            {match ? ` · ${match[2]}` : ""}
          </div>
        </div>
      );
    },
  },
  {
    id: "action",
    header: "Action",
    cell: ({ row }) => <span className="font-mono text-xs whitespace-nowrap text-gray-900">{row.original.action}</span>,
  },
  {
    id: "entity",
    header: "Entity",
    cell: ({ row }) => {
      const e = row.original;
      return (
        <div className="whitespace-nowrap">
          <span className="text-gray-900">{entityTypeLabel(e.entityType)}</span>{" "}
          <Link
            href={`/audit${auditFilterSearch({ entityType: e.entityType, entityId: e.entityId })}`}
            title={`Everything about ${e.entityType} ${e.entityId}`}
            className="rounded font-mono text-xs text-indigo-700 hover:underline"
          >
            {shortId(e.entityId)}
          </Link>
        </div>
      );
    },
  },
  {
    id: "reason",
    header: "Reason",
    meta: { className: "min-w-48 max-w-md" } satisfies TColumnMeta,
    cell: ({ row }) =>
      row.original.reason ? <span className="line-clamp-2">{row.original.reason}</span> : <span className="text-gray-400">—</span>,
  },
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? "—";
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** The top-level fields whose value differs between before and after (when both are objects). */
function changedFields(before: unknown, after: unknown): { key: string; from: unknown; to: unknown }[] {
  const from = isRecord(before) ? before : {};
  const to = isRecord(after) ? after : {};
  if (!isRecord(before) && !isRecord(after)) return [];
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
  return keys.filter((key) => JSON.stringify(from[key]) !== JSON.stringify(to[key])).map((key) => ({ key, from: from[key], to: to[key] }));
}

function Detail({ entry }: { entry: TAuditListItem }) {
  const href = entityHref(entry);
  const changes = changedFields(entry.before, entry.after);
  return (
    <div className="space-y-3">
      <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-xs sm:grid-cols-[auto_minmax(0,1fr)]">
        <dt className="text-gray-500">Entity</dt>
        <dd className="font-mono break-all text-gray-800">
          {entry.entityType} {entry.entityId}
          {href ? (
            <>
              {" · "}
              <Link href={href} className="font-sans text-indigo-700 hover:underline">
                Open
              </Link>
            </>
          ) : null}
        </dd>
        <dt className="text-gray-500">Actor id</dt>
        <dd className="font-mono break-all text-gray-800">{entry.actorId ?? "—"}</dd>
        {entry.reason ? (
          <>
            <dt className="text-gray-500">Reason</dt>
            <dd className="whitespace-pre-wrap text-gray-800">{entry.reason}</dd>
          </>
        ) : null}
        {entry.runId ? (
          <>
            <dt className="text-gray-500">Run</dt>
            <dd className="font-mono break-all text-gray-800">{entry.runId}</dd>
          </>
        ) : null}
        {entry.requestId ? (
          <>
            <dt className="text-gray-500">Request</dt>
            <dd className="font-mono break-all text-gray-800">{entry.requestId}</dd>
          </>
        ) : null}
        <dt className="text-gray-500">Entry</dt>
        <dd className="font-mono break-all text-gray-800">{entry.id}</dd>
        {changes.length > 0 ? (
          <>
            <dt className="text-gray-500">Changed</dt>
            <dd>
              <ul className="flex flex-wrap gap-1.5">
                {changes.map((c) => (
                  <li
                    key={c.key}
                    className="rounded border border-amber-200 bg-amber-50 px-1.5 py-0.5 font-mono text-[11px] text-amber-900"
                  >
                    {c.key}: {short(c.from)} → {short(c.to)}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
      </dl>
      <div className="grid grid-cols-1 gap-3 lg:grid-cols-2">
        <div className="min-w-0 space-y-1">
          <p className="text-xs font-medium text-gray-600">Before</p>
          <JsonView value={entry.before} label={`State before ${entry.action}`} />
        </div>
        <div className="min-w-0 space-y-1">
          <p className="text-xs font-medium text-gray-600">After</p>
          <JsonView value={entry.after} label={`State after ${entry.action}`} />
        </div>
      </div>
    </div>
  );
}

export function AuditLogTable({ entries, filtered }: { entries: TAuditListItem[]; filtered: boolean }) {
  return (
    <ExpandableTable
      caption="Audit log, newest first"
      columns={columns}
      rows={entries}
      rowId={(e) => e.id}
      rowTestId="audit-row"
      toggleLabel={(e) => `Details of ${e.action} on ${e.entityType} ${shortId(e.entityId)} at ${formatDateTimeUtc(e.createdAt)}`}
      renderDetail={(e) => <Detail entry={e} />}
      empty={
        filtered ? (
          <EmptyState title="No entries match these filters" description="Widen the date range or clear a filter." />
        ) : (
          <EmptyState title="No audit entries yet" description="Every change to a payout, by people or the system, is recorded here." />
        )
      }
    />
  );
}
