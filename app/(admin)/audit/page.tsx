import type { Metadata } from "next";

import { AuditChainPanel } from "@/components/audit/audit-chain-panel";
import { AuditFilter, isAuditFilterActive } from "@/components/audit/audit-filter";
import { AuditLogTable } from "@/components/audit/audit-log-table";
import { pathWithSearch } from "@/components/auth/login-helpers";
import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { FilterResetNotice } from "@/components/shell/list/page-states";
import { CursorPager } from "@/components/shell/list/pager";
import { parseListSearchParams } from "@/components/shell/list/search-params";
import { PageHeader } from "@/components/ui/page-header";
import { listAuditEntries, listAuditFilterOptions } from "@/lib/audit/list-audit-entries";
import {
  AUDIT_ENTITY_TYPES,
  AUDIT_FILTER_KEYS,
  AUDIT_PAGE_SIZE,
  auditFilterSearch,
  canReadAuditEntityType,
  ZAuditFilter,
  type TAuditFilter,
} from "@/lib/audit/list-audit-filter";
import { readAuditChainStatus } from "@/lib/audit-chain/audit-chain-status";
import { sealAuditLog } from "@/lib/audit-chain/seal-audit-log";
import { hasRole } from "@/lib/auth/roles";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

export default async function AuditPage({ searchParams }: PageProps<"/audit">) {
  const user = await requirePageUserAt(pathWithSearch("/audit", await searchParams));
  const { filter, problems } = parseListSearchParams(ZAuditFilter, AUDIT_FILTER_KEYS, await searchParams, {} as TAuditFilter);
  // Seals what waits (one batch; nothing when a sealer is at work), so entries get sealed even
  // where no Inngest runs the sealer (npm start).
  await sealAuditLog(db, { key: getEnv().AUDIT_CHAIN_KEY, maxBatches: 1 }).catch((error: unknown) =>
    console.error("audit: could not seal the audit log; the next seal run will", error),
  );
  const [list, options, chain] = await Promise.all([
    listAuditEntries(db, filter, AUDIT_PAGE_SIZE, user.role),
    listAuditFilterOptions(db, user.role),
    readAuditChainStatus(db),
  ]);
  const entityTypes = AUDIT_ENTITY_TYPES.filter((type) => canReadAuditEntityType(user.role, type));
  const { after: _after, before: _before, ...criteria } = filter;
  const pagedAway = Boolean(filter.after || filter.before);
  return (
    <div className="space-y-5">
      <PageHeader
        title="Audit log"
        description="Every change, by people, webhooks and the payout engine, newest first. Append-only, sealed in a tamper-evident chain."
      />
      <AuditChainPanel status={chain} canVerify={hasRole(user.role, "admin")} />
      <FilterResetNotice problems={problems} />
      <AuditFilter filter={criteria} users={options.users} actions={options.actions} entityTypes={entityTypes} />
      <AuditLogTable entries={list.items} filtered={isAuditFilterActive(filter)} />
      <CursorPager
        summary={
          list.items.length === 0
            ? "No entries"
            : `${list.items.length.toLocaleString("en-US")} ${list.items.length === 1 ? "entry" : "entries"} on this page (up to ${AUDIT_PAGE_SIZE})`
        }
        prevHref={list.prevCursor ? `/audit${auditFilterSearch({ ...criteria, before: list.prevCursor })}` : null}
        nextHref={list.nextCursor ? `/audit${auditFilterSearch({ ...criteria, after: list.nextCursor })}` : null}
        firstHref={pagedAway ? `/audit${auditFilterSearch(criteria)}` : null}
      />
    </div>
  );
}
