"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";

import { overviewKeys } from "@/lib/overview/overview-query";
import {
  payoutDetailKeys,
  postApprovalDecision,
  postDebtClosing,
  postDebtClosingDecision,
  postPayoutAction,
  type TApprovalDecision,
  type TDebtClosingKind,
  type TPayoutActionRequest,
} from "@/lib/payouts/payout-detail-query";

/**
 * After any change (or a refusal, which may mean the payout moved on), refetch what it
 * affects: this payout's detail and the overview exactly, and the payout list pages.
 */
function useInvalidatePayout(payoutId: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: payoutDetailKeys.detail(payoutId), exact: true }),
      queryClient.invalidateQueries({ queryKey: overviewKeys.all, exact: true }),
      queryClient.invalidateQueries({ queryKey: payoutDetailKeys.lists() }),
    ]);
}

/** Runs a payout action (hold, release, retry, force release, cancel). */
export function usePayoutAction(payoutId: string) {
  const invalidate = useInvalidatePayout(payoutId);
  return useMutation({
    mutationFn: (body: TPayoutActionRequest) => postPayoutAction(payoutId, body),
    onSettled: invalidate,
  });
}

/** Approves or rejects (or, for the requester, withdraws) a four-eyes request on this payout. */
export function useApprovalDecision(payoutId: string) {
  const invalidate = useInvalidatePayout(payoutId);
  return useMutation({
    mutationFn: ({ approvalId, decision, reason }: { approvalId: string; decision: TApprovalDecision; reason: string }) =>
      postApprovalDecision(approvalId, decision, reason),
    onSettled: invalidate,
  });
}

/** Waives or writes off a debt this payout's refused reversal made, or decides a pending request to. */
export function useDebtClosing(payoutId: string) {
  const invalidate = useInvalidatePayout(payoutId);
  return useMutation({
    mutationFn: (
      input:
        | { kind: "close"; debtId: string; closing: TDebtClosingKind; reason: string }
        | { kind: "decide"; requestId: string; decision: TApprovalDecision; reason: string },
    ) =>
      input.kind === "close"
        ? postDebtClosing(input.debtId, input.closing, input.reason)
        : postDebtClosingDecision(input.requestId, input.decision, input.reason),
    onSettled: invalidate,
  });
}
