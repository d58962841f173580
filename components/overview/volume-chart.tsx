"use client";

import { useId, useState } from "react";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis, type TooltipContentProps } from "recharts";

import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { currencyMinorDigits, formatMoney } from "@/lib/money/format-money";
import { VOLUME_OUTCOMES, type TOverview, type TVolumeDay, type TVolumeOutcome } from "@/lib/overview/types";

import { niceTicks } from "./nice-ticks";

const OUTCOME_LABELS: Record<TVolumeOutcome, string> = {
  transferred: "Transferred",
  reversed: "Reversed",
  failed: "Failed",
  cancelled: "Cancelled",
};

const OUTCOME_COLORS: Record<TVolumeOutcome, string> = {
  transferred: "#6366f1",
  reversed: "#f59e0b",
  failed: "#ef4444",
  cancelled: "#9ca3af",
};

type TMetric = "amount" | "count";

/** A chart row: values in major units (display only; exact figures come from `raw`). */
type TChartRow = { label: string; raw: TVolumeDay } & Record<TVolumeOutcome, number>;

const DAY_LABEL = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short", day: "numeric" });

function dayLabel(day: string): string {
  return DAY_LABEL.format(new Date(`${day}T00:00:00.000Z`));
}

/** Minor units to a major-unit number, for plotting only (never summed or stored). */
function toMajor(amountMinor: number, currency: string): number {
  return amountMinor / 10 ** currencyMinorDigits(currency);
}

function compactMoney(value: number, currency: string): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency, notation: "compact", maximumFractionDigits: 1 }).format(value);
}

function ChartTooltip({ active, payload, currency, metric }: TooltipContentProps & { currency: string; metric: TMetric }) {
  const row = payload?.[0]?.payload as TChartRow | undefined;
  if (!active || !row) return null;
  return (
    <div className="rounded-lg border border-gray-200 bg-white px-3 py-2 text-xs shadow-lg">
      <p className="mb-1 font-medium text-gray-900">{dayLabel(row.raw.day)}</p>
      <ul className="space-y-0.5">
        {VOLUME_OUTCOMES.map((o) => (
          <li key={o} className="flex items-center justify-between gap-4">
            <span className="flex items-center gap-1.5 text-gray-600">
              <span aria-hidden className="size-2 rounded-sm" style={{ background: OUTCOME_COLORS[o] }} />
              {OUTCOME_LABELS[o]}
            </span>
            <span className="text-gray-900 tabular-nums">
              {metric === "amount" ? formatMoney(row.raw[o].amount, currency) : row.raw[o].count.toLocaleString("en-US")}
              {metric === "amount" ? <span className="ml-1 text-gray-500">×{row.raw[o].count}</span> : null}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Segmented<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: { value: T; label: string }[];
  onChange: (v: T) => void;
}) {
  const name = useId();
  return (
    <fieldset className="flex items-center gap-2">
      <legend className="sr-only">{label}</legend>
      <div className="inline-flex rounded-md border border-gray-200 bg-gray-50 p-0.5">
        {options.map((o) => (
          <label
            key={o.value}
            className={`cursor-pointer rounded px-2 py-0.5 text-xs font-medium has-focus-visible:outline-2 has-focus-visible:outline-indigo-600 ${
              value === o.value ? "bg-white text-gray-900 shadow-xs" : "text-gray-500 hover:text-gray-800"
            }`}
          >
            <input
              type="radio"
              name={name}
              value={o.value}
              checked={value === o.value}
              onChange={() => onChange(o.value)}
              className="sr-only"
            />
            {o.label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/**
 * Payout volume per day over the last 30 days, stacked by outcome, for one currency at a
 * time (amounts in different currencies are never added up). Amount or count.
 */
export function VolumeChart({ volume }: { volume: TOverview["volume"] }) {
  const busiest = [...volume.series].sort((a, b) => b.totals.transferred.count - a.totals.transferred.count)[0];
  const [selected, setSelected] = useState<string | null>(null);
  const [metric, setMetric] = useState<TMetric>("amount");
  const series = volume.series.find((s) => s.currency === selected) ?? busiest;
  const first = volume.days[0];
  const last = volume.days.at(-1);
  const range = first && last ? `${dayLabel(first)} – ${dayLabel(last)} (UTC days)` : "";

  if (!series) {
    return (
      <Card title="Payout volume, last 30 days" description={range} data-testid="volume-chart">
        <EmptyState
          title="No payout activity in the last 30 days"
          description="Transfers, failures, cancellations and reversals will be charted here."
        />
      </Card>
    );
  }

  const currency = series.currency;
  const rows: TChartRow[] = series.days.map((d) => ({
    label: dayLabel(d.day),
    raw: d,
    transferred: metric === "amount" ? toMajor(d.transferred.amount, currency) : d.transferred.count,
    reversed: metric === "amount" ? toMajor(d.reversed.amount, currency) : d.reversed.count,
    failed: metric === "amount" ? toMajor(d.failed.amount, currency) : d.failed.count,
    cancelled: metric === "amount" ? toMajor(d.cancelled.amount, currency) : d.cancelled.count,
  }));

  // Round ticks ($1K / $2K / $3K) up to the busiest day's stacked total.
  const busiestDay = Math.max(0, ...rows.map((r) => VOLUME_OUTCOMES.reduce((sum, o) => sum + r[o], 0)));
  const ticks = niceTicks(busiestDay, { integers: metric === "count" });

  return (
    <Card
      title="Payout volume, last 30 days"
      description={`By outcome, per day. ${range}`}
      data-testid="volume-chart"
      data-currency={currency}
      actions={
        <div className="flex flex-wrap items-center gap-2">
          {volume.series.length > 1 ? (
            <Segmented
              label="Currency"
              value={currency}
              options={volume.series.map((s) => ({ value: s.currency, label: s.currency }))}
              onChange={setSelected}
            />
          ) : (
            <span className="rounded bg-gray-100 px-1.5 py-0.5 text-xs font-medium text-gray-600">{currency}</span>
          )}
          <Segmented
            label="Measure"
            value={metric}
            options={[
              { value: "amount", label: "Amount" },
              { value: "count", label: "Count" },
            ]}
            onChange={setMetric}
          />
        </div>
      }
    >
      <dl className="grid grid-cols-2 gap-px border-b border-gray-100 bg-gray-100 sm:grid-cols-4">
        {VOLUME_OUTCOMES.map((o) => (
          <div key={o} className="bg-white px-4 py-2.5 sm:px-5" data-testid={`volume-total-${o}`}>
            <dt className="flex items-center gap-1.5 text-xs text-gray-500">
              <span aria-hidden className="size-2 rounded-sm" style={{ background: OUTCOME_COLORS[o] }} />
              {OUTCOME_LABELS[o]}
            </dt>
            <dd className="mt-0.5 text-sm font-semibold text-gray-900 tabular-nums">
              {formatMoney(series.totals[o].amount, currency)}
              <span className="ml-1.5 text-xs font-normal text-gray-500">×{series.totals[o].count.toLocaleString("en-US")}</span>
            </dd>
          </div>
        ))}
      </dl>
      <div className="px-2 pt-4 pb-2 sm:px-4">
        <BarChart
          responsive
          data={rows}
          style={{ width: "100%", height: 240 }}
          margin={{ top: 4, right: 8, bottom: 0, left: 4 }}
          title={`Payout volume in ${currency} per day over the last 30 days, by outcome`}
          desc="Stacked bars per day: transferred, reversed, failed and cancelled. The table below has the same figures."
        >
          <CartesianGrid vertical={false} stroke="#f3f4f6" />
          <XAxis
            dataKey="label"
            tickLine={false}
            axisLine={{ stroke: "#e5e7eb" }}
            tick={{ fontSize: 11, fill: "#6b7280" }}
            interval="preserveStartEnd"
            minTickGap={16}
          />
          <YAxis
            tickLine={false}
            axisLine={false}
            width={56}
            tick={{ fontSize: 11, fill: "#6b7280" }}
            allowDecimals={metric === "amount"}
            domain={[0, ticks.at(-1) ?? 1]}
            ticks={ticks}
            interval={0}
            tickFormatter={(v: number) => (metric === "amount" ? compactMoney(v, currency) : v.toLocaleString("en-US"))}
          />
          <Tooltip
            cursor={{ fill: "#eef2ff", opacity: 0.6 }}
            content={(props) => <ChartTooltip {...props} currency={currency} metric={metric} />}
          />
          {VOLUME_OUTCOMES.map((o, i) => (
            <Bar
              key={o}
              dataKey={o}
              name={OUTCOME_LABELS[o]}
              stackId="volume"
              fill={OUTCOME_COLORS[o]}
              maxBarSize={18}
              radius={i === VOLUME_OUTCOMES.length - 1 ? [3, 3, 0, 0] : 0}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </div>
      <p className="px-4 pb-2 text-xs text-gray-500 sm:px-5">
        Transferred counts every transfer on the day it was made, including payouts reversed later; reversed is what settled reversals took
        back that day; failed and cancelled are payouts in that state now, on the day of their last change.
      </p>
      <details className="border-t border-gray-100 px-4 py-2.5 text-sm sm:px-5">
        <summary className="cursor-pointer rounded text-xs font-medium text-indigo-700">Show the figures as a table</summary>
        <div className="mt-2 max-h-72 overflow-auto">
          <table className="min-w-full text-xs">
            <caption className="sr-only">Payout volume in {currency} per day, by outcome</caption>
            <thead>
              <tr className="text-left text-gray-500">
                <th scope="col" className="py-1 pr-3 font-medium">
                  Day
                </th>
                {VOLUME_OUTCOMES.map((o) => (
                  <th key={o} scope="col" className="py-1 pr-3 text-right font-medium">
                    {OUTCOME_LABELS[o]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-gray-100">
              {series.days.map((d) => (
                <tr key={d.day}>
                  <th scope="row" className="py-1 pr-3 text-left font-normal whitespace-nowrap text-gray-700">
                    {dayLabel(d.day)}
                  </th>
                  {VOLUME_OUTCOMES.map((o) => (
                    <td
                      key={o}
                      className={`py-1 pr-3 text-right whitespace-nowrap tabular-nums ${d[o].count ? "text-gray-900" : "text-gray-400"}`}
                    >
                      {formatMoney(d[o].amount, currency)} <span className="text-gray-500">×{d[o].count}</span>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </Card>
  );
}
