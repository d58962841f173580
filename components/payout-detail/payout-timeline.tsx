import Link from "next/link";

import { Card } from "@/components/ui/card";
import { DateTime } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { ACTOR_TYPE_LABELS, DISPUTE_OUTCOME_LABELS, DISPUTE_SCOPE_LABELS, PAYOUT_STATUS_LABELS } from "@/components/ui/labels";
import { Money } from "@/components/ui/money";
import { toneDotClass } from "@/components/ui/status-badge";
import type { TPayoutDetailActor, TTimelineItem } from "@/lib/payouts/payout-detail-types";

import { auditTitle, timelineTone } from "./timeline-text";

/** A Stripe (or other external) id: monospaced, selectable in one click. */
export function ExternalId({ label, value }: { label: string; value: string }) {
  return (
    <span className="inline-flex max-w-full items-baseline gap-1 text-xs">
      <span className="shrink-0 whitespace-nowrap text-gray-500">{label}</span>
      <code className="truncate rounded bg-gray-100 px-1 py-0.5 font-mono text-[11px] text-gray-700 select-all">{value}</code>
    </span>
  );
}

function Actor({ actor }: { actor: TPayoutDetailActor }) {
  return (
    <span>
      <span className="font-medium text-gray-700">{actor.label}</span>
      {actor.type !== "admin" ? <span className="text-gray-400"> ({ACTOR_TYPE_LABELS[actor.type].toLowerCase()})</span> : null}
    </span>
  );
}

function Reason({ text }: { text: string }) {
  return (
    <p className="mt-1.5 rounded-md bg-gray-50 px-2.5 py-1.5 text-sm break-words text-gray-700">
      <span className="sr-only">Reason: </span>
      {text}
    </p>
  );
}

function Title({ children }: { children: React.ReactNode }) {
  return <p className="text-sm font-medium text-gray-900">{children}</p>;
}

function Meta({ at, children }: { at: string; children?: React.ReactNode }) {
  return (
    <p className="mt-0.5 flex flex-wrap items-center gap-x-1.5 text-xs text-gray-500">
      {children ? (
        <>
          {children}
          <span aria-hidden>·</span>
        </>
      ) : null}
      <DateTime value={at} />
    </p>
  );
}

function Ids({ children }: { children: React.ReactNode }) {
  return <div className="mt-1.5 flex flex-wrap gap-x-3 gap-y-1">{children}</div>;
}

function ItemBody({ item, currency }: { item: TTimelineItem; currency: string }) {
  switch (item.kind) {
    case "audit":
      return (
        <>
          <Title>
            {auditTitle(item.action)}
            {item.statusFrom || item.statusTo ? (
              <span className="ml-2 text-xs font-normal text-gray-500">
                {item.statusFrom ? `${PAYOUT_STATUS_LABELS[item.statusFrom]} → ` : ""}
                {item.statusTo ? PAYOUT_STATUS_LABELS[item.statusTo] : ""}
              </span>
            ) : null}
          </Title>
          <Meta at={item.at}>
            <Actor actor={item.actor} />
          </Meta>
          {item.amountFrom !== null && item.amountTo !== null ? (
            <p className="mt-1 text-xs text-gray-600">
              Amount <Money amount={item.amountFrom} currency={currency} /> →{" "}
              <Money amount={item.amountTo} currency={currency} className="font-medium" />
            </p>
          ) : null}
          {item.reason ? <Reason text={item.reason} /> : null}
          {item.stripeTransferId || item.stripeReversalId ? (
            <Ids>
              {item.stripeTransferId ? <ExternalId label="Transfer" value={item.stripeTransferId} /> : null}
              {item.stripeReversalId ? <ExternalId label="Reversal" value={item.stripeReversalId} /> : null}
            </Ids>
          ) : null}
        </>
      );
    case "tip": {
      const { tip } = item;
      return (
        <>
          <Title>
            {tip.status === "accepted" ? "Tip received" : "Tip rejected"}{" "}
            <Money amount={tip.amount} currency={tip.currency} className="text-gray-700" />
            {tip.status === "accepted" && !tip.joined ? (
              <span className="ml-2 text-xs font-normal text-gray-500">not in this payout</span>
            ) : null}
          </Title>
          <Meta at={item.at}>{item.recordedBy ? <Actor actor={item.recordedBy} /> : null}</Meta>
          {tip.rejectionReason ? <Reason text={tip.rejectionReason} /> : null}
          <Ids>
            <ExternalId label="Tip" value={tip.externalId} />
            {tip.stripeChargeId ? <ExternalId label="Charge" value={tip.stripeChargeId} /> : null}
            <span className="text-xs text-gray-500">
              tipped <DateTime value={tip.tippedAt} />
            </span>
          </Ids>
        </>
      );
    }
    case "dispute_opened":
    case "dispute_resolved": {
      const { dispute } = item;
      const opened = item.kind === "dispute_opened";
      return (
        <>
          <Title>
            {opened ? "Dispute opened" : "Dispute resolved"}
            <span className="ml-2 text-xs font-normal text-gray-500">
              {opened
                ? `${DISPUTE_SCOPE_LABELS[dispute.scope]}${dispute.openedAfterTransfer ? ", after the transfer" : ""}`
                : dispute.outcome
                  ? DISPUTE_OUTCOME_LABELS[dispute.outcome]
                  : null}
            </span>
          </Title>
          <Meta at={item.at}>{item.recordedBy ? <Actor actor={item.recordedBy} /> : null}</Meta>
          {opened && dispute.reason ? <Reason text={dispute.reason} /> : null}
          {!opened && dispute.refundedAmount > 0 ? (
            <p className="mt-1 text-xs text-gray-600">
              Refunded <Money amount={dispute.refundedAmount} currency={dispute.currency} className="font-medium" />
              {dispute.refundCountedAfterTransfer
                ? " (counted after the transfer, nothing reversed for it: see the audit log)"
                : dispute.refundAppliedAt
                  ? " (taken off this payout)"
                  : dispute.openedAfterTransfer
                    ? " (recovered by a transfer reversal)"
                    : ""}
            </p>
          ) : null}
          <Ids>
            {dispute.stripeDisputeId ? <ExternalId label="Dispute" value={dispute.stripeDisputeId} /> : null}
            {dispute.externalId ? <ExternalId label="Platform id" value={dispute.externalId} /> : null}
          </Ids>
        </>
      );
    }
    case "transfer_attempt": {
      const { attempt } = item;
      const outcome = attempt.status === "succeeded" ? "succeeded" : attempt.status === "failed" ? "failed" : "in flight";
      return (
        <>
          <Title>
            Transfer attempt {attempt.attemptNumber} {outcome}{" "}
            <Money amount={attempt.amount} currency={attempt.currency} className="font-normal text-gray-600" />
          </Title>
          <Meta at={item.at}>
            {attempt.finishedAt ? (
              <span>
                finished <DateTime value={attempt.finishedAt} />
              </span>
            ) : null}
          </Meta>
          {attempt.status === "failed" ? (
            <p className="mt-1.5 rounded-md bg-red-50 px-2.5 py-1.5 text-sm break-words text-red-900">
              {[attempt.errorType, attempt.errorCode].filter(Boolean).join(" · ")}
              {attempt.errorMessage ? `: ${attempt.errorMessage}` : ""}
              {attempt.retryable !== null ? <span className="text-red-700"> ({attempt.retryable ? "retryable" : "permanent"})</span> : null}
            </p>
          ) : null}
          <Ids>
            {attempt.stripeTransferId ? <ExternalId label="Transfer" value={attempt.stripeTransferId} /> : null}
            {attempt.stripeRequestId ? <ExternalId label="Request" value={attempt.stripeRequestId} /> : null}
            <ExternalId label="Idempotency key" value={attempt.idempotencyKey} />
          </Ids>
        </>
      );
    }
    case "reversal": {
      const { reversal } = item;
      return (
        <>
          <Title>
            Transfer reversal {reversal.status === "succeeded" ? "succeeded" : reversal.status === "failed" ? "failed" : "pending"}{" "}
            <Money amount={reversal.amount} currency={reversal.currency} className="font-normal text-gray-600" />
          </Title>
          <Meta at={item.at}>{reversal.initiatedBy === "stripe" ? <span>initiated in Stripe</span> : null}</Meta>
          {reversal.failureReason ? <Reason text={reversal.failureReason} /> : null}
          {reversal.stripeReversalId ? (
            <Ids>
              <ExternalId label="Reversal" value={reversal.stripeReversalId} />
            </Ids>
          ) : null}
        </>
      );
    }
  }
}

/** Everything that happened to the payout, newest first: audit entries, tips, disputes, attempts, reversals. */
export function PayoutTimeline({
  payoutId,
  items,
  currency,
  truncated,
}: {
  payoutId: string;
  items: TTimelineItem[];
  currency: string;
  truncated: boolean;
}) {
  return (
    <Card
      title="Timeline"
      description="Newest first. Every change, who made it and why, with Stripe ids."
      actions={
        <Link
          href={`/audit?entityType=payout&entityId=${payoutId}`}
          className="rounded text-xs font-medium whitespace-nowrap text-indigo-700 hover:text-indigo-900 hover:underline"
        >
          Open in audit log
        </Link>
      }
      aria-label="Timeline"
      data-testid="payout-timeline"
    >
      {items.length === 0 ? (
        <EmptyState title="Nothing recorded yet" description="Changes to this payout will appear here." />
      ) : (
        <ol className="px-4 py-4 sm:px-5">
          {items.map((item, index) => (
            <li
              key={item.key}
              className="relative flex gap-3 pb-5 last:pb-0"
              data-testid="timeline-item"
              data-kind={item.kind}
              data-action={item.kind === "audit" ? item.action : undefined}
            >
              {index < items.length - 1 ? <span aria-hidden className="absolute top-4 bottom-0 left-[5px] w-px bg-gray-200" /> : null}
              <span
                aria-hidden
                className={`relative mt-1.5 size-[11px] shrink-0 rounded-full ring-4 ring-white ${toneDotClass(timelineTone(item))}`}
              />
              <div className="min-w-0 flex-1">
                <ItemBody item={item} currency={currency} />
              </div>
            </li>
          ))}
        </ol>
      )}
      {truncated ? (
        <p className="border-t border-gray-100 px-4 py-2 text-xs text-gray-500 sm:px-5">Older entries are in the audit log.</p>
      ) : null}
    </Card>
  );
}
