"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { toast } from "sonner";

import { formatDateTimeUtc } from "@/components/ui/date-time";
import type { TAuditChainStatus } from "@/lib/audit-chain/audit-chain-status";
import type { TVerifyNowResult } from "@/lib/audit-chain/verify-audit-chain-now";
import { sendJson } from "@/lib/http/client";

/** Who checked, for the other triggers (an admin is named). */
const TRIGGER_LABELS: Record<string, string> = {
  script: "npm run audit:verify",
  schedule: "the daily check",
  seed: "the demo seed",
};

const plural = (count: number, one: string, many: string) => `${count.toLocaleString("en-US")} ${count === 1 ? one : many}`;

/**
 * The audit chain at a glance: when it was last verified and what was found (the first broken
 * link when it failed), the newest seal and what waits for the next one; admins can verify now.
 */
export function AuditChainPanel({ status, canVerify }: { status: TAuditChainStatus; canVerify: boolean }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const { lastVerification: last, lastSeal } = status;

  async function verifyNow() {
    setPending(true);
    try {
      const result = await sendJson<TVerifyNowResult>("/api/admin/audit/verify", {});
      if (result.ok) toast.success(`Audit chain intact: ${plural(result.entriesChecked, "entry", "entries")} checked.`);
      else toast.error(`Audit chain broken: ${result.firstProblem ?? "see the details"}`);
      router.refresh();
    } catch (error) {
      toast.error(error instanceof Error ? error.message : "Verification failed.");
    } finally {
      setPending(false);
    }
  }

  const tone = !last ? "border-gray-200 bg-white" : last.ok ? "border-emerald-200 bg-emerald-50" : "border-red-300 bg-red-50";
  return (
    <section aria-label="Audit chain" data-testid="audit-chain" className={`rounded-xl border px-4 py-3 text-sm sm:px-5 ${tone}`}>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0 space-y-1">
          <p className="font-medium text-gray-900">
            {!last ? (
              "Tamper-evident chain: not verified yet."
            ) : last.ok ? (
              <>
                Chain verified {formatDateTimeUtc(last.finishedAt)}: intact ({plural(last.entriesChecked, "entry", "entries")} in{" "}
                {plural(last.sealsChecked, "seal", "seals")}).
              </>
            ) : (
              <>
                Chain verified {formatDateTimeUtc(last.finishedAt)}: <span className="text-red-700">broken</span> (
                {plural(last.problemCount, "problem", "problems")}).
              </>
            )}
          </p>
          {last && !last.ok && last.detail ? (
            <p className="text-red-800">
              First broken link: {last.detail}
              {last.brokenPosition ? ` (position ${last.brokenPosition})` : ""}
            </p>
          ) : null}
          <p className="text-xs text-gray-600">
            {last ? `Checked by ${last.trigger === "admin" ? last.actorLabel : (TRIGGER_LABELS[last.trigger] ?? last.trigger)}. ` : ""}
            {lastSeal
              ? `Newest seal: #${lastSeal.sequence}, ${formatDateTimeUtc(lastSeal.sealedAt)}, hash ${lastSeal.hash.slice(0, 16)}…. `
              : "No seal yet. "}
            {status.unsealedEntries > 0
              ? `${plural(status.unsealedEntries, "entry waits", "entries wait")} for the next seal (every 5 minutes).`
              : "Every entry is sealed."}
          </p>
        </div>
        {canVerify ? (
          <button
            type="button"
            onClick={verifyNow}
            disabled={pending}
            className="rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50 disabled:opacity-60"
          >
            {pending ? "Verifying…" : "Verify now"}
          </button>
        ) : null}
      </div>
    </section>
  );
}
