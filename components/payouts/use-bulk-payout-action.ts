"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";

import { overviewKeys } from "@/lib/overview/overview-query";
import type { TBulkPayoutActionInput } from "@/lib/payouts/bulk-payout-action";
import { payoutKeys, postBulkPayoutAction } from "@/lib/payouts/payout-query-keys";

/**
 * Bulk hold / release. Afterwards every payouts list (all filters and pages: the changed
 * rows may sit anywhere), the changed payouts' detail entries and the overview's figures
 * are refetched.
 */
export function useBulkPayoutAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: TBulkPayoutActionInput) => postBulkPayoutAction(input),
    onSettled: async (_data, _error, input) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: payoutKeys.lists() }),
        queryClient.invalidateQueries({ queryKey: overviewKeys.all, exact: true }),
        ...input.payoutIds.map((id) => queryClient.invalidateQueries({ queryKey: payoutKeys.detail(id), exact: true })),
      ]);
    },
  });
}
