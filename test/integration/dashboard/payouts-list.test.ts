// The payouts list: the shared filter (URL round trip), filters and search against the real
// database, keyset pagination in every sort (forwards and back, with ties), the capped
// count, and the CSV export of exactly the filtered set.
import { randomUUID } from "node:crypto";

import { beforeAll, describe, expect, it } from "vitest";

import { Prisma, type Payout, type Provider } from "@/generated/prisma/client";
import type { PayoutStatus } from "@/generated/prisma/enums";
import { db } from "@/lib/db";
import { csvField, exportPayoutsCsv, minorToDecimal, PAYOUT_CSV_HEADER } from "@/lib/payouts/export-payouts-csv";
import { countPayouts, listPayouts, type TPayoutListItem } from "@/lib/payouts/list-payouts";
import {
  decimalToMinor,
  DEFAULT_PAYOUT_FILTER,
  parsePayoutFilter,
  parsePayoutListQuery,
  serializePayoutFilter,
  ZPayoutListQuery,
  type TPayoutFilter,
  type TPayoutFilterInput,
} from "@/lib/payouts/payout-filter";
import { payoutWhere, resolvePayoutFilter } from "@/lib/payouts/payout-where";

import { createBooking, createPayout, createProvider } from "../../support/factories";
import { parseCsv } from "../../support/parse-csv";

const DAY = 24 * 60 * 60 * 1000;
const BASE = Date.parse("2026-03-01T12:00:00.000Z");

type TRow = Payout & { provider: Provider; bookingExternalId: string };
const rows: TRow[] = [];
let zephyr: Provider;
let zeta: Provider;
let odd: Provider;

async function payout(
  provider: Provider,
  data: { status: PayoutStatus; createdAt: Date; currency?: string; providerShare?: number; stripeTransferId?: string },
) {
  const currency = data.currency ?? "USD";
  const providerShare = data.providerShare ?? 10_000;
  const booking = await createBooking({ provider, currency, providerShare });
  const p = await createPayout({
    booking,
    status: data.status,
    createdAt: data.createdAt,
    eligibleAt: new Date(data.createdAt.getTime() + 2 * DAY),
    ...(data.status === "on_hold" ? { holdReason: "admin_hold" as const } : {}),
    ...(data.stripeTransferId ? { stripeTransferId: data.stripeTransferId, transferredAt: data.createdAt } : {}),
  });
  rows.push({ ...p, provider, bookingExternalId: booking.externalId });
  return p;
}

beforeAll(async () => {
  zephyr = await createProvider({ name: "Zephyr Cleaning" });
  zeta = await createProvider({ name: "zeta Plumbing" });
  odd = await createProvider({ name: '=HYPERLINK("x"), "Quoted"\nName' });
  const statuses: PayoutStatus[] = ["scheduled", "on_hold", "transferred", "failed", "cancelled"];
  const currencies = ["USD", "EUR", "JPY", "KWD"];
  for (let i = 0; i < 30; i++) {
    const provider = [zephyr, zeta, odd][i % 3] as Provider;
    const status = statuses[i % statuses.length] as PayoutStatus;
    // Pairs of payouts share a creation time, so the id must break ties in the keyset.
    const createdAt = new Date(BASE + Math.floor(i / 2) * DAY);
    await payout(provider, {
      status,
      createdAt,
      currency: currencies[i % currencies.length],
      providerShare: 1_000 + ((i * 7919) % 20) * 250,
      ...(status === "transferred" ? { stripeTransferId: `tr_list_${i}_${randomUUID().slice(0, 8)}` } : {}),
    });
  }
});

/** What the filter should match, computed in JS from the rows the test made. */
function expected(filter: Partial<TPayoutFilter>): TRow[] {
  const f = { ...DEFAULT_PAYOUT_FILTER, ...filter };
  const dir = f.order === "asc" ? 1 : -1;
  const key = (r: TRow) => (f.sort === "amount" ? r.amount : f.sort === "eligibleAt" ? r.eligibleAt.getTime() : r.createdAt.getTime());
  return rows
    .filter((r) => f.status.length === 0 || f.status.includes(r.status))
    .filter((r) => !f.provider || r.providerId === f.provider || r.provider.externalId === f.provider)
    .filter((r) => !f.currency || r.currency === f.currency)
    .filter((r) => {
      const at = f.date === "eligible" ? r.eligibleAt : r.createdAt;
      if (f.from && at.getTime() < Date.parse(`${f.from}T00:00:00Z`)) return false;
      if (f.to && at.getTime() >= Date.parse(`${f.to}T00:00:00Z`) + DAY) return false;
      return true;
    })
    .sort((a, b) => (key(a) - key(b)) * dir || (a.id < b.id ? -dir : a.id > b.id ? dir : 0));
}

async function allPages(input: TPayoutFilterInput & { limit?: number }): Promise<{ ids: string[]; pages: TPayoutListItem[][] }> {
  const pages: TPayoutListItem[][] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await listPayouts(db, ZPayoutListQuery.parse({ ...input, ...(after ? { after } : {}) }));
    pages.push(page.items);
    if (!page.pageInfo.nextCursor) break;
    after = page.pageInfo.nextCursor;
  }
  return { ids: pages.flat().map((p) => p.id), pages };
}

describe("the filter in the URL", () => {
  it("round-trips through URL params with defaults left out and statuses in a fixed order", () => {
    const parsed = parsePayoutFilter(
      new URLSearchParams(
        "status=failed&status=on_hold&currency=eur&from=2026-03-01&to=2026-03-05&amountMin=10.5&q=%20abc%20&sort=amount&order=asc",
      ),
    );
    expect(parsed.success).toBe(true);
    const filter = parsed.data as TPayoutFilter;
    expect(filter).toMatchObject({
      status: ["on_hold", "failed"],
      currency: "EUR",
      q: "abc",
      sort: "amount",
      order: "asc",
      date: "created",
    });
    const qs = serializePayoutFilter(filter).toString();
    expect(qs).toBe("q=abc&status=on_hold&status=failed&currency=EUR&from=2026-03-01&to=2026-03-05&amountMin=10.5&sort=amount&order=asc");
    expect(parsePayoutFilter(new URLSearchParams(qs)).data).toEqual(filter);
    expect(serializePayoutFilter(DEFAULT_PAYOUT_FILTER).toString()).toBe("");
    // Comma lists and empty form fields are accepted.
    const commas = parsePayoutFilter(new URLSearchParams("status=on_hold,failed&provider=&q=")).data;
    expect(commas?.status).toEqual(["on_hold", "failed"]);
    expect([commas?.provider, commas?.q]).toEqual([undefined, undefined]);
  });

  it("rejects unknown keys, bad values and inverted ranges (strict)", () => {
    for (const qs of [
      "foo=1",
      "status=paid",
      "currency=EURO",
      "from=2026-02-30",
      "from=2026-03-05&to=2026-03-01",
      "amountMin=10&amountMax=5",
      "amountMin=1e3",
      "sort=updatedAt",
      "currency=USD&currency=EUR",
    ]) {
      expect(parsePayoutFilter(new URLSearchParams(qs)).success, qs).toBe(false);
    }
    expect(parsePayoutFilter(new URLSearchParams("after=abc")).success).toBe(false);
    expect(parsePayoutListQuery(new URLSearchParams("after=abc")).success).toBe(true);
    expect(parsePayoutListQuery(new URLSearchParams("after=abc&before=def")).success).toBe(false);
    expect(parsePayoutListQuery(new URLSearchParams("limit=1000")).success).toBe(false);
  });

  it("converts major-unit amounts to minor units exactly, rounding bounds inwards", () => {
    expect(decimalToMinor("12.34", 2, "ceil")).toBe(1234);
    expect(decimalToMinor("12.345", 2, "ceil")).toBe(1235);
    expect(decimalToMinor("12.345", 2, "floor")).toBe(1234);
    expect(decimalToMinor("12.5", 0, "ceil")).toBe(13);
    expect(decimalToMinor("12", 3, "floor")).toBe(12_000);
    expect(decimalToMinor("0.1", 2, "floor")).toBe(10);
  });
});

describe("listPayouts", () => {
  it("filters by status, provider and a date range: exactly the matching rows, newest first", async () => {
    const filter = { status: ["on_hold", "failed"], provider: zephyr.externalId, from: "2026-03-02", to: "2026-03-12" } as const;
    const page = await listPayouts(db, ZPayoutListQuery.parse(filter));
    const want = expected({ ...filter, status: ["on_hold", "failed"], provider: zephyr.externalId });
    expect(want.length).toBeGreaterThan(0);
    expect(page.items.map((p) => p.id)).toEqual(want.map((r) => r.id));
    expect(page.total).toEqual({ count: want.length, capped: false });
    expect(page.provider).toEqual({ id: zephyr.id, name: zephyr.name, externalId: zephyr.externalId });
    expect(page.items[0]).toMatchObject({ booking: { externalId: want[0]!.bookingExternalId }, provider: { name: zephyr.name } });
  });

  it.each([
    ["createdAt", "desc"],
    ["createdAt", "asc"],
    ["eligibleAt", "asc"],
    ["eligibleAt", "desc"],
    ["amount", "desc"],
    ["amount", "asc"],
  ] as const)("pages through every row once, sorted by %s %s, and back", async (sort, order) => {
    const { ids, pages } = await allPages({ sort, order, limit: 4 });
    expect(ids).toEqual(expected({ sort, order }).map((r) => r.id));
    expect(pages.length).toBe(Math.ceil(rows.length / 4));

    // From the last page, "previous" walks back through the same pages.
    const query = (extra: object) => listPayouts(db, ZPayoutListQuery.parse({ sort, order, limit: 4, ...extra }));
    let after: string | undefined;
    for (let i = 0; i < pages.length - 1; i++) after = (await query(after ? { after } : {})).pageInfo.nextCursor ?? undefined;
    let current = await query({ after });
    const back = [current.items.map((p) => p.id)];
    while (current.pageInfo.prevCursor) {
      current = await query({ before: current.pageInfo.prevCursor });
      back.unshift(current.items.map((p) => p.id));
    }
    expect(back).toEqual(pages.map((p) => p.map((x) => x.id)));
    expect(current.pageInfo.prevCursor).toBeNull();
  });

  it("filters by the due date and by currency", async () => {
    const filter = { date: "eligible", from: "2026-03-10", to: "2026-03-10", currency: "USD" } as const;
    const { ids } = await allPages(filter);
    expect(ids).toEqual(expected(filter).map((r) => r.id));
  });

  it("filters amounts in each payout's own currency (major units), or in the chosen one", async () => {
    const { ids } = await allPages({ amountMin: "20", amountMax: "3000" });
    const want = expected({}).filter((r) => {
      const major = r.currency === "JPY" ? r.amount : r.currency === "KWD" ? r.amount / 1000 : r.amount / 100;
      return major >= 20 && major <= 3000;
    });
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(rows.length);
    expect(new Set(ids)).toEqual(new Set(want.map((r) => r.id)));

    const jpy = await allPages({ currency: "JPY", amountMin: "3000" });
    expect(jpy.ids).toEqual(
      expected({ currency: "JPY" })
        .filter((r) => r.amount >= 3000)
        .map((r) => r.id),
    );
  });

  it("searches by payout id, transfer id, booking id, provider id and provider name prefix (any case)", async () => {
    const transferred = rows.find((r) => r.stripeTransferId)!;
    const one = rows[5]!;
    const search = async (q: string) => (await allPages({ q })).ids.sort();
    expect(await search(one.id)).toEqual([one.id]);
    expect(await search(one.id.toUpperCase())).toEqual([one.id]);
    expect(await search(transferred.stripeTransferId!)).toEqual([transferred.id]);
    expect(await search(one.bookingExternalId)).toEqual([one.id]);
    const ofZeta = rows
      .filter((r) => r.providerId === zeta.id)
      .map((r) => r.id)
      .sort();
    expect(await search(zeta.externalId)).toEqual(ofZeta);
    expect(await search("ZETA pl")).toEqual(ofZeta);
    const ofBoth = rows
      .filter((r) => r.providerId === zeta.id || r.providerId === zephyr.id)
      .map((r) => r.id)
      .sort();
    expect(await search("Ze")).toEqual(ofBoth);
    // A text naming several kinds finds each: a booking's external id that also starts a provider's name.
    const namesake = await createProvider({ name: `${one.bookingExternalId} Movers` });
    const ofNamesake = await payout(namesake, { status: "scheduled", createdAt: new Date(BASE) });
    expect(await search(one.bookingExternalId)).toEqual([one.id, ofNamesake.id].sort());
    expect(await search(`${one.bookingExternalId} mov`)).toEqual([ofNamesake.id]);
    // LIKE wildcards are text, not patterns.
    expect(await search("%")).toEqual([]);
    expect(await search("_eta")).toEqual([]);
    expect(await search("nothing-like-this")).toEqual([]);
  });

  it("matches nothing for an unknown provider and says so", async () => {
    const page = await listPayouts(db, ZPayoutListQuery.parse({ provider: "prov_does_not_exist" }));
    expect(page).toMatchObject({ items: [], total: { count: 0, capped: false }, provider: null });
    const byId = await listPayouts(db, ZPayoutListQuery.parse({ provider: zeta.id }));
    expect(byId.items.length).toBe(rows.filter((r) => r.providerId === zeta.id).length);
  });

  it("counts with a cap, and only on the first page", async () => {
    const where = payoutWhere(await resolvePayoutFilter(db, DEFAULT_PAYOUT_FILTER));
    // Past the cap: "more than 10", with the planner's estimate only when it says more.
    const capped = await countPayouts(db, where, 10);
    expect(capped).toMatchObject({ count: 10, capped: true });
    if (capped.estimate !== undefined) expect(capped.estimate).toBeGreaterThan(10);
    expect(await countPayouts(db, where, rows.length)).toEqual({ count: rows.length, capped: false });
    expect(await countPayouts(db, where, 1000)).toEqual({ count: rows.length, capped: false });
    // Counting never reads past the cap: each row here sleeps 20 ms, and counting to 2 reads 3 rows.
    const slow = Prisma.sql`${where!} AND pg_sleep(0.02)::text = ''`;
    const started = performance.now();
    expect(await countPayouts(db, slow, 2)).toMatchObject({ count: 2, capped: true });
    expect(performance.now() - started).toBeLessThan(rows.length * 20);
    const first = await listPayouts(db, ZPayoutListQuery.parse({ limit: 5 }));
    expect(first.total).toEqual({ count: rows.length, capped: false });
    const second = await listPayouts(db, ZPayoutListQuery.parse({ limit: 5, after: first.pageInfo.nextCursor }));
    expect(second.total).toBeNull();
  });

  it("refuses a forged cursor or one from another sort", async () => {
    const first = await listPayouts(db, ZPayoutListQuery.parse({ limit: 5 }));
    await expect(listPayouts(db, ZPayoutListQuery.parse({ after: "bm90LWpzb24" }))).rejects.toMatchObject({ status: 400 });
    await expect(listPayouts(db, ZPayoutListQuery.parse({ sort: "amount", after: first.pageInfo.nextCursor }))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/another sort/),
    });
  });
});

describe("CSV export", () => {
  it("escapes fields and neutralises spreadsheet formulas", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("=SUM(A1)")).toBe("'=SUM(A1)");
    // A separator of ";"-locales cannot start a new cell holding a formula.
    expect(csvField("Acme;=HYPERLINK(1)")).toBe('"Acme;=HYPERLINK(1)"');
    expect(csvField("tab\there")).toBe('"tab\there"');
    expect(csvField(null)).toBe("");
    expect(csvField(1234)).toBe("1234");
    expect([minorToDecimal(1234, "USD"), minorToDecimal(5, "EUR"), minorToDecimal(5000, "JPY"), minorToDecimal(1234, "KWD")]).toEqual([
      "12.34",
      "0.05",
      "5000",
      "1.234",
    ]);
  });

  it("streams exactly the filtered set, across batches, in the view's order", async () => {
    const filter = parsePayoutFilter(new URLSearchParams(`status=on_hold&status=transferred&status=failed&sort=amount&order=asc`))
      .data as TPayoutFilter;
    const text = await new Response(await exportPayoutsCsv(db, filter, { batchSize: 2 })).text();
    expect(text.startsWith(PAYOUT_CSV_HEADER)).toBe(true);
    const [header, ...body] = parseCsv(text);
    expect(header).toEqual(PAYOUT_CSV_HEADER.trimEnd().split(","));
    const want = expected(filter);
    expect(body.map((r) => r[0])).toEqual(want.map((r) => r.id));

    const col = (name: string) => header!.indexOf(name);
    for (const [i, r] of want.entries()) {
      const line = body[i]!;
      expect(line[col("amount_minor")]).toBe(String(r.amount));
      expect(line[col("amount")]).toBe(minorToDecimal(r.amount, r.currency));
      expect(line[col("currency")]).toBe(r.currency);
      expect(line[col("booking_external_id")]).toBe(r.bookingExternalId);
      expect(line[col("created_at")]).toBe(r.createdAt.toISOString());
    }
    const oddRow = body.find((line) => line[col("provider_id")] === odd.id);
    expect(oddRow?.[col("provider_name")]).toBe(`'${odd.name}`);
  });

  it("exports only the header when nothing matches", async () => {
    const filter = parsePayoutFilter(new URLSearchParams("q=nothing-matches")).data as TPayoutFilter;
    expect(await new Response(await exportPayoutsCsv(db, filter)).text()).toBe(PAYOUT_CSV_HEADER);
  });
});
