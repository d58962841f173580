import { Card } from "@/components/ui/card";
import { DateTime, formatRelative } from "@/components/ui/date-time";
import { HOLD_REASON_LABELS } from "@/components/ui/labels";
import { Money } from "@/components/ui/money";
import { Badge } from "@/components/ui/status-badge";
import type { TPayoutDetail } from "@/lib/payouts/payout-detail-types";

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[6.5rem_minmax(0,1fr)] gap-3 py-1.5">
      <dt className="text-xs text-gray-500">{label}</dt>
      <dd className="min-w-0 text-sm break-words text-gray-800">{children}</dd>
    </div>
  );
}

function Mono({ children }: { children: string }) {
  return <code className="font-mono text-xs break-all text-gray-700 select-all">{children}</code>;
}

const None = () => <span className="text-gray-400">—</span>;

/** Reference facts: the payout's ids and dates, the provider's Stripe account, the booking. */
export function PayoutFacts({ detail }: { detail: TPayoutDetail }) {
  const { payout, provider, booking, generatedAt } = detail;
  return (
    <>
      <Card title="Details">
        <dl className="px-4 py-2.5 sm:px-5">
          <Fact label="Payout id">
            <Mono>{payout.id}</Mono>
          </Fact>
          <Fact label="Due">
            <DateTime value={payout.eligibleAt} />
            {payout.status === "scheduled" || payout.status === "on_hold" ? (
              <span className="block text-xs text-gray-500">{formatRelative(payout.eligibleAt, generatedAt)}</span>
            ) : null}
          </Fact>
          {payout.holdReason ? <Fact label="Held for">{HOLD_REASON_LABELS[payout.holdReason]}</Fact> : null}
          <Fact label="Transfer">
            {payout.stripeTransferId ? <Mono>{payout.stripeTransferId}</Mono> : <None />}
            {payout.transferredAt ? (
              <span className="block text-xs text-gray-500">
                <DateTime value={payout.transferredAt} />
              </span>
            ) : null}
          </Fact>
          <Fact label="Attempts">{payout.attempts}</Fact>
          {detail.disputes.length > 0 ? (
            <Fact label="Disputes">
              {detail.openDisputes > 0 ? <Badge tone="warning">{detail.openDisputes} open</Badge> : null}{" "}
              <span className="text-gray-600">{detail.disputes.length} in total</span>
            </Fact>
          ) : null}
          <Fact label="Created">
            <DateTime value={payout.createdAt} />
          </Fact>
          <Fact label="Updated">
            <DateTime value={payout.updatedAt} />
          </Fact>
          <Fact label="Version">
            <span className="tabular-nums">{payout.version}</span>
            <span className="text-xs text-gray-500"> (amount v{payout.amountVersion})</span>
          </Fact>
        </dl>
      </Card>

      <Card title="Provider">
        <dl className="px-4 py-2.5 sm:px-5">
          <Fact label="Name">{provider.name}</Fact>
          <Fact label="Email">{provider.email}</Fact>
          <Fact label="Stripe account">{provider.stripeAccountId ? <Mono>{provider.stripeAccountId}</Mono> : <None />}</Fact>
          <Fact label="Payouts">
            {detail.providerReady ? (
              <Badge tone="success">Can receive payouts</Badge>
            ) : detail.providerReadinessUnknown ? (
              <Badge tone="neutral">Not heard from Stripe yet</Badge>
            ) : (
              <Badge tone="warning">Not ready</Badge>
            )}
          </Fact>
          {provider.lastBankPayout ? (
            <Fact label="Last bank payout">
              <Badge
                tone={
                  provider.lastBankPayout.status === "paid"
                    ? "success"
                    : provider.lastBankPayout.status === "failed" || provider.lastBankPayout.status === "canceled"
                      ? "danger"
                      : "info"
                }
              >
                {provider.lastBankPayout.status.replace("_", " ")}
              </Badge>{" "}
              <Money amount={provider.lastBankPayout.amount} currency={provider.lastBankPayout.currency} />
              {provider.lastBankPayout.failureCode ? (
                <span className="block text-xs text-red-700">{provider.lastBankPayout.failureCode}</span>
              ) : null}
            </Fact>
          ) : null}
          <Fact label="Platform id">
            <Mono>{provider.externalId}</Mono>
          </Fact>
        </dl>
      </Card>

      <Card title="Booking">
        <dl className="px-4 py-2.5 sm:px-5">
          <Fact label="Booking id">
            <Mono>{booking.externalId}</Mono>
          </Fact>
          <Fact label="Provider share">
            <Money amount={booking.providerShare} currency={booking.currency} />
          </Fact>
          <Fact label="Completed">{booking.completedAt ? <DateTime value={booking.completedAt} /> : <None />}</Fact>
          {booking.cancelledAt ? (
            <Fact label="Cancelled">
              <DateTime value={booking.cancelledAt} />
              {booking.cancellationReason ? <span className="block text-xs text-gray-500">{booking.cancellationReason}</span> : null}
            </Fact>
          ) : null}
          <Fact label="Charge">{booking.stripeChargeId ? <Mono>{booking.stripeChargeId}</Mono> : <None />}</Fact>
          {booking.stripePaymentIntentId ? (
            <Fact label="PaymentIntent">
              <Mono>{booking.stripePaymentIntentId}</Mono>
            </Fact>
          ) : null}
        </dl>
      </Card>
    </>
  );
}
