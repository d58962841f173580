// Client-side access to the payout detail: typed query keys, the fetcher for
// GET /api/admin/payouts/:id and the mutations (actions, four-eyes decisions).
import type { PayoutStatus } from "@/generated/prisma/enums";
import { getJson, sendJson } from "@/lib/http/client";

import type { TPayoutAction } from "./payout-actions";
import type { TPayoutDetail } from "./payout-detail-types";
import { payoutKeys } from "./payout-query-keys";

export type { TPayoutDetail };

/**
 * The detail lives in the payouts key family (lib/payouts/payout-query-keys.ts):
 * ["payouts", "detail", id]. A change made here refetches this detail exactly and every
 * list page (their keys carry the filter, so the list family is invalidated as a prefix).
 */
export const payoutDetailKeys = {
  detail: (payoutId: string) => payoutKeys.detail(payoutId),
  lists: () => payoutKeys.lists(),
};

/** Refresh interval while a transfer is in flight. */
export const PROCESSING_REFRESH_MS = 2_000;

export function fetchPayoutDetail(payoutId: string, signal?: AbortSignal): Promise<TPayoutDetail> {
  return getJson<TPayoutDetail>(`/api/admin/payouts/${encodeURIComponent(payoutId)}`, signal);
}

export type TPayoutActionRequest = { action: TPayoutAction; reason: string; expectedVersion: number };

type TPayoutSummary = { id: string; status: PayoutStatus; amount: number; currency: string; version: number };

export type TPayoutActionResponse =
  | { outcome: "applied"; payout: TPayoutSummary; transferRequested: boolean }
  | { outcome: "approval_requested"; payout: TPayoutSummary; approval: { id: string; status: string } };

export function postPayoutAction(payoutId: string, body: TPayoutActionRequest): Promise<TPayoutActionResponse> {
  return sendJson<TPayoutActionResponse>(`/api/admin/payouts/${encodeURIComponent(payoutId)}/actions`, body);
}

export type TApprovalDecision = "approve" | "reject";

export type TApprovalDecisionResponse =
  | { approval: { id: string; status: string }; payout: TPayoutSummary; transferRequested: boolean }
  | { outcome: "rejected" | "withdrawn"; approval: { id: string; status: string; payoutId: string } };

export function postApprovalDecision(approvalId: string, decision: TApprovalDecision, reason: string): Promise<TApprovalDecisionResponse> {
  return sendJson<TApprovalDecisionResponse>(`/api/admin/approvals/${encodeURIComponent(approvalId)}/${decision}`, { reason });
}

export type TDebtClosingKind = "waive" | "write_off";

/** An admin waives or writes off what is left of a debt (at or above the threshold: a request for a second admin). */
export function postDebtClosing(
  debtId: string,
  closing: TDebtClosingKind,
  reason: string,
): Promise<{ outcome: "closed" | "approval_requested" }> {
  return sendJson<{ outcome: "closed" | "approval_requested" }>(`/api/admin/debts/${encodeURIComponent(debtId)}/close`, {
    closing,
    reason,
  });
}

/** A second admin approves or rejects a pending waive / write-off. */
export function postDebtClosingDecision(requestId: string, decision: TApprovalDecision, reason: string): Promise<unknown> {
  return sendJson<unknown>(`/api/admin/debt-closings/${encodeURIComponent(requestId)}/${decision}`, { reason });
}
