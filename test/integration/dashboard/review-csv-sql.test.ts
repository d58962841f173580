// Review of the SQL-formatted CSV export (commit 493ad0b): inputs and situations where the SQL rules
// could part from the JavaScript ones (csvField, minorToDecimal, toISOString), or where the keyset
// walk in batches could lose, repeat or misorder rows. Each test asserts the correct behaviour.
import { randomUUID } from "node:crypto";

import { parse } from "csv-parse/sync";
import { beforeAll, describe, expect, it } from "vitest";

import { Prisma, type Provider } from "@/generated/prisma/client";
import type { PayoutStatus } from "@/generated/prisma/enums";
import { createPrismaClient, db } from "@/lib/db";
import {
  csvField,
  csvLine,
  csvTextSql,
  exportPayoutsCsv,
  PAYOUT_CSV_HEADER,
  PAYOUT_CSV_LINE_SQL,
  PAYOUT_CSV_UNWRITABLE_SQL,
} from "@/lib/payouts/export-payouts-csv";
import { listPayouts, payoutExportBatches } from "@/lib/payouts/list-payouts";
import {
  parsePayoutFilter,
  ZPayoutFilter,
  ZPayoutListQuery,
  type TPayoutFilter,
  type TPayoutFilterInput,
} from "@/lib/payouts/payout-filter";

import { createBooking, createPayout, createProvider } from "../../support/factories";
import { amountsDifferingFromJs, payoutCsvValues } from "../../support/payout-csv-reference";

const DAY = 86_400_000;
const EXPORT_SQL = { line: PAYOUT_CSV_LINE_SQL, unwritable: PAYOUT_CSV_UNWRITABLE_SQL };

const filterOf = (input: TPayoutFilterInput): TPayoutFilter => ZPayoutFilter.parse(input);

async function exportText(filter: TPayoutFilter, batchSize?: number): Promise<string> {
  return new Response(await exportPayoutsCsv(db, filter, batchSize === undefined ? {} : { batchSize })).text();
}

function records(text: string): string[][] {
  return parse(text, { record_delimiter: "\r\n", relax_column_count: false }) as string[][];
}

/** The exported payout ids in order (header dropped). */
async function exportIds(filter: TPayoutFilter, batchSize?: number): Promise<string[]> {
  return records(await exportText(filter, batchSize))
    .slice(1)
    .map((r) => r[0] as string);
}

/**
 * The batches of payoutExportBatches, stopped after `cap` batches so that a walk that never ends
 * shows as too many rows instead of hanging the test.
 */
async function walkBatches(filter: TPayoutFilter, batchSize: number, cap = 50): Promise<{ ids: string[]; batches: number }> {
  const ids: string[] = [];
  let batches = 0;
  for await (const batch of payoutExportBatches(db, filter, EXPORT_SQL, batchSize)) {
    ids.push(
      ...records(PAYOUT_CSV_HEADER + batch)
        .slice(1)
        .map((r) => r[0] as string),
    );
    if (++batches >= cap) break;
  }
  return { ids, batches };
}

/** Every payout of these providers as the JavaScript rules write it, in the filter's order. */
async function jsExport(providerIds: string[], filter: Pick<TPayoutFilter, "sort" | "order">): Promise<string> {
  return PAYOUT_CSV_HEADER + (await payoutCsvValues(providerIds, filter)).map(csvLine).join("");
}

const SORTS = ["createdAt", "eligibleAt", "amount"] as const;
const ORDERS = ["asc", "desc"] as const;

// ─────────────────────────────── Field formatting ───────────────────────────────

describe("fields: SQL against the JavaScript rules", () => {
  it("formats the amount as minorToDecimal does for every [A-Z]{3} code the currency CHECK allows", async () => {
    const codes: string[] = [];
    for (let a = 65; a <= 90; a++) for (let b = 65; b <= 90; b++) for (let c = 65; c <= 90; c++) codes.push(String.fromCharCode(a, b, c));
    const amounts = [0, 7, 1234, 2_147_483_647];
    const pairs = codes.flatMap((currency) => amounts.map((amount) => ({ currency, amount })));
    const { written, differing } = await amountsDifferingFromJs(pairs);
    expect(differing.slice(0, 10)).toEqual([]);
    expect(written).toHaveLength(pairs.length);
  });

  describe("whole lines byte for byte, hostile text in every text column", () => {
    const texts = [
      " ",
      "\u2028",
      "a\r\nb",
      "=1+1",
      "\t",
      "-",
      "'",
      '"',
      "x\u00a0",
      "\ufeff=x",
      "@@",
      "\u000bvt",
      "\u0085nel",
      "nel\u0085",
      "\u200b",
      "end\n",
      "+\u3000",
      "ǅ ß İ ı",
      "a;b",
      "🧾\u205f",
      "\r",
      "-\u00a0-",
      "x".repeat(150) + " ",
    ];
    const providers: Provider[] = [];

    beforeAll(async () => {
      for (const [i, name] of texts.entries()) {
        const provider = await createProvider({ name, externalId: `${texts[(i + 5) % texts.length]}#${i}` });
        providers.push(provider);
        const booking = await createBooking({
          provider,
          currency: ["USD", "JPY", "KWD", "CLF", "ISK", "XXX"][i % 6],
          providerShare: [0, 1, 99, 100, 1001, 2_147_483_647][i % 6],
          externalId: `${texts[(i + 11) % texts.length]}~${i}`,
        });
        const createdAt = new Date(Date.UTC(2026, 4, 1, 0, 0, 0, i % 4));
        await createPayout({
          booking,
          createdAt,
          eligibleAt: new Date(createdAt.getTime() + (i % 3) * DAY),
          ...(i % 2
            ? {
                status: "transferred" as PayoutStatus,
                stripeTransferId: `${texts[(i + 3) % texts.length]}|${i}|${randomUUID()}`,
                transferredAt: createdAt,
              }
            : { status: "on_hold" as PayoutStatus, holdReason: "admin_hold" as const }),
        });
      }
    });

    for (const sort of SORTS)
      for (const order of ORDERS)
        it(`equals the JavaScript rules exactly (${sort} ${order}, batches of 4)`, async () => {
          const filter = filterOf({ sort, order });
          // The whole export in batches of 4, restricted to these providers' rows afterwards.
          const text = await exportText(filter, 4);
          const ours = new Set(providers.map((p) => p.id));
          const header = text.slice(0, PAYOUT_CSV_HEADER.length);
          const lines = records(text)
            .slice(1)
            .filter((r) => ours.has(r[11] as string));
          expect(header).toBe(PAYOUT_CSV_HEADER);
          const expected = records(await jsExport([...ours], filter)).slice(1);
          expect(lines).toEqual(expected);
          expect(lines).toHaveLength(texts.length);
        });

    it("writes each payout's line with the exact bytes csvLine writes (one provider per export)", async () => {
      for (const provider of providers) {
        const text = await exportText(filterOf({ provider: provider.id }), 1);
        expect(text).toBe(await jsExport([provider.id], { sort: "createdAt", order: "desc" }));
      }
    });
  });

  describe("instants", () => {
    let provider: Provider;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      provider = await createProvider({ name: "Instants Review" });
      for (const name of ["y10000", "y9999", "y5", "preEpoch", "subMs", "roundsUp"]) {
        ids[name] = (await createPayout({ provider, createdAt: new Date("2026-06-01T00:00:00.000Z") })).id;
      }
      // Written by raw SQL, as a migration or a repair script would.
      await db.$executeRaw`UPDATE "Payout" SET "eligibleAt" = '9999-12-31 23:59:59.999+00' WHERE id = ${ids.y9999}::uuid`;
      await db.$executeRaw`UPDATE "Payout" SET "createdAt" = '0005-03-01 00:00:00+00' WHERE id = ${ids.y5}::uuid`;
      await db.$executeRaw`UPDATE "Payout" SET "createdAt" = '1969-12-31 23:59:59.999+00' WHERE id = ${ids.preEpoch}::uuid`;
      await db.$executeRaw`UPDATE "Payout" SET "createdAt" = '2026-03-01 10:00:00.1234567+00' WHERE id = ${ids.subMs}::uuid`;
      await db.$executeRaw`UPDATE "Payout" SET "createdAt" = '2026-12-31 23:59:59.9996+00' WHERE id = ${ids.roundsUp}::uuid`;
    });

    async function fieldsById(): Promise<Map<string, string[]>> {
      const rows = records(await exportText(filterOf({ provider: provider.id, sort: "createdAt", order: "asc" }), 2)).slice(1);
      return new Map(rows.map((r) => [r[0] as string, r]));
    }

    const at = (year: number, iso: string) => {
      const d = new Date(iso);
      d.setUTCFullYear(year);
      return d.toISOString();
    };

    it("writes instants in years 5, 1969, 9999 and sub-millisecond raw writes as toISOString does", async () => {
      const byId = await fieldsById();
      expect(byId.get(ids.y9999 as string)?.[17]).toBe(new Date("9999-12-31T23:59:59.999Z").toISOString());
      expect(byId.get(ids.y5 as string)?.[16]).toBe(at(5, "2000-03-01T00:00:00.000Z"));
      expect(byId.get(ids.preEpoch as string)?.[16]).toBe("1969-12-31T23:59:59.999Z");
      expect(byId.get(ids.subMs as string)?.[16]).toBe("2026-03-01T10:00:00.123Z");
      expect(byId.get(ids.roundsUp as string)?.[16]).toBe("2027-01-01T00:00:00.000Z");
      expect(byId.size).toBe(6);
    });

    // toISOString writes "+010000-…" and Prisma reads such a row as Invalid Date (the JavaScript
    // export threw on it). The export refuses it loudly, naming the payout, whatever the sort.
    it("refuses a payout with an instant past year 9999, naming it, in every sort and order", async () => {
      await db.$executeRaw`UPDATE "Payout" SET "eligibleAt" = '10000-01-02 00:00:00+00' WHERE id = ${ids.y10000}::uuid`;
      for (const sort of SORTS) {
        for (const order of ORDERS) {
          const filter = filterOf({ provider: provider.id, sort, order });
          const walk = walkBatches(filter, 1);
          await expect(walk).rejects.toMatchObject({ payoutId: ids.y10000, message: expect.stringMatching(/years 1 to 9999/) });
        }
      }
      await expect(exportPayoutsCsv(db, filterOf({ provider: provider.id, sort: "eligibleAt", order: "desc" }))).rejects.toThrow(
        /years 1 to 9999/,
      );
    });

    it("walks eligibleAt up to the last instant of year 9999 without losing or repeating a row (batch size 1, both orders)", async () => {
      await db.$executeRaw`UPDATE "Payout" SET "eligibleAt" = '9999-12-31 23:59:59.999+00' WHERE id = ${ids.y10000}::uuid`;
      for (const order of ORDERS) {
        const filter = filterOf({ provider: provider.id, sort: "eligibleAt", order });
        const all = await exportIds(filter);
        expect(await exportIds(filter, 1)).toEqual(all);
        expect(new Set(all).size).toBe(6);
      }
    });
  });

  it("formats text fields the same under ICU collations (tr, en) as under the database default, every BMP code point", async () => {
    const texts: string[] = [];
    for (let c = 1; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ch = String.fromCharCode(c);
      texts.push(ch, `${ch}x`, `x${ch}`);
    }
    for (const collation of ["tr-x-icu", "en-x-icu"]) {
      const rows = await db.$queryRaw<{ out: string }[]>`
        SELECT ${Prisma.raw(csvTextSql(`(x.t COLLATE "${collation}")`))} AS out
        FROM jsonb_array_elements_text(${JSON.stringify(texts)}::jsonb) WITH ORDINALITY AS x(t, i) ORDER BY i`;
      const differing = texts.map((t, i) => ({ t, sql: rows[i]?.out, js: csvField(t) })).filter((d) => d.sql !== d.js);
      expect({ collation, differing: differing.slice(0, 5) }).toEqual({ collation, differing: [] });
    }
  });

  it("exports under another session time zone and DateStyle with the same text", async () => {
    const provider = await createProvider({ name: "Zone Review" });
    for (let i = 0; i < 5; i++)
      await createPayout({
        provider,
        createdAt: new Date(Date.UTC(2026, 2, 29, 0, 30, 0, i)),
        eligibleAt: new Date(Date.UTC(2026, 9, 25, 1, 0, 0, i)),
      });
    const url = new URL(process.env.DATABASE_URL as string);
    url.searchParams.set("options", "-c TimeZone=Pacific/Chatham -c DateStyle=SQL,DMY -c lc_time=C");
    const other = createPrismaClient(url.toString());
    try {
      for (const sort of SORTS) {
        const filter = filterOf({ provider: provider.id, sort, order: "asc" });
        const here = await exportText(filter, 2);
        const there = await new Response(await exportPayoutsCsv(other, filter, { batchSize: 2 })).text();
        expect(there).toBe(here);
        expect(here).toBe(await jsExport([provider.id], filter));
      }
    } finally {
      await other.$disconnect();
    }
  });
});

// ─────────────────────────────── The keyset walk ───────────────────────────────

describe("batches: no row lost, repeated or misordered", () => {
  let provider: Provider;
  const made: { id: string; createdAt: number; eligibleAt: number; amount: number }[] = [];

  beforeAll(async () => {
    provider = await createProvider({ name: "Ties Review" });
    const created = Date.parse("2026-07-01T08:00:00.000Z");
    for (let i = 0; i < 25; i++) {
      // createdAt: all but three tie; eligibleAt: groups of five; amount: groups of seven, one at int4's maximum.
      const createdAt = new Date(i < 22 ? created : created + i);
      const eligibleAt = new Date(created + 2 * DAY + Math.floor(i / 5));
      const providerShare = i === 24 ? 2_147_483_647 : ([500, 0, 500, 1_000][Math.floor(i / 7)] as number);
      const p = await createPayout({ provider, createdAt, eligibleAt, providerShare });
      made.push({ id: p.id, createdAt: p.createdAt.getTime(), eligibleAt: p.eligibleAt.getTime(), amount: p.amount });
    }
  });

  const expectedIds = (sort: (typeof SORTS)[number], order: "asc" | "desc") => {
    const dir = order === "asc" ? 1 : -1;
    return [...made].sort((a, b) => dir * (a[sort] - b[sort] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))).map((r) => r.id);
  };

  for (const sort of SORTS)
    for (const order of ORDERS)
      it(`walks ties across batch boundaries (${sort} ${order}; batch sizes 1, 2, 3, 7, 24, 25, 26)`, async () => {
        const filter = filterOf({ provider: provider.externalId, sort, order });
        const expected = expectedIds(sort, order);
        for (const batchSize of [1, 2, 3, 7, 24, 25, 26]) {
          const { ids, batches } = await walkBatches(filter, batchSize, 60);
          expect({ batchSize, ids }).toEqual({ batchSize, ids: expected });
          expect(batches).toBe(Math.ceil(25 / batchSize));
        }
      });

  it("writes only the header for an empty result (no match, a provider that does not exist, a search that finds nothing)", async () => {
    for (const input of [
      { provider: provider.id, status: ["failed"] },
      { provider: "no-such-provider" },
      { q: "nothing-is-called-this" },
      { provider: provider.id, from: "2999-01-01" },
    ] as TPayoutFilterInput[]) {
      expect(await exportText(filterOf(input), 1)).toBe(PAYOUT_CSV_HEADER);
    }
  });

  it("reads a row changed between batches as it is when its batch is read, losing and repeating nothing else", async () => {
    const own = await createProvider({ name: "Changes Review" });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await createPayout({ provider: own, createdAt: new Date(Date.UTC(2026, 7, 1, 0, 0, i)) })).id);
    const filter = filterOf({ provider: own.id, sort: "createdAt", order: "asc" });
    const seen: string[][] = [];
    let n = 0;
    for await (const batch of payoutExportBatches(db, filter, EXPORT_SQL, 2)) {
      seen.push(...records(PAYOUT_CSV_HEADER + batch).slice(1));
      if (n++ === 0) await db.provider.update({ where: { id: own.id }, data: { name: "=Renamed, mid-export" } });
    }
    expect(seen.map((r) => r[0])).toEqual(ids);
    expect(seen.map((r) => r[13])).toEqual([
      "Changes Review",
      "Changes Review",
      ...Array.from({ length: 4 }, () => "'=Renamed, mid-export"),
    ]);
    expect(csvField("=Renamed, mid-export")).toBe(`"'=Renamed, mid-export"`);
  });
});

// ───────────────────── The export against the list, filter by filter ─────────────────────

describe("the export holds the same rows in the same order as the list's pages", () => {
  const tag = `Rv${randomUUID().slice(0, 6)}`;
  const providers: Provider[] = [];
  let transferId = "";
  let bookingExternalId = "";

  beforeAll(async () => {
    for (const name of [`${tag} Alpha`, `${tag.toLowerCase()} beta`, `=${tag} gamma`]) providers.push(await createProvider({ name }));
    const statuses: PayoutStatus[] = ["scheduled", "on_hold", "transferred", "failed", "cancelled"];
    const currencies = ["USD", "JPY", "KWD", "EUR"];
    for (let i = 0; i < 24; i++) {
      const provider = providers[i % 3] as Provider;
      const status = statuses[i % 5] as PayoutStatus;
      const booking = await createBooking({ provider, currency: currencies[i % 4], providerShare: [1_000, 1_000, 2_500, 99_999][i % 4] });
      const createdAt = new Date(Date.UTC(2026, 8, 1 + Math.floor(i / 3)));
      const p = await createPayout({
        booking,
        status,
        createdAt,
        eligibleAt: new Date(createdAt.getTime() + (i % 2) * DAY),
        ...(status === "on_hold" ? { holdReason: "admin_hold" as const } : {}),
        ...(status === "transferred" ? { stripeTransferId: `tr_rv_${tag}_${i}`, transferredAt: createdAt } : {}),
      });
      if (status === "transferred" && !transferId) transferId = p.stripeTransferId as string;
      if (i === 7) bookingExternalId = booking.externalId;
    }
  });

  async function listIds(input: TPayoutFilterInput): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    for (let guard = 0; guard < 500; guard++) {
      const page = await listPayouts(db, ZPayoutListQuery.parse({ ...input, limit: 3, ...(after ? { after } : {}) }));
      ids.push(...page.items.map((p) => p.id));
      if (!page.pageInfo.nextCursor) break;
      after = page.pageInfo.nextCursor;
    }
    return ids;
  }

  const filters = (): TPayoutFilterInput[] => [
    { status: ["on_hold"] },
    { status: ["scheduled", "failed"], q: tag },
    { provider: providers[1]?.externalId },
    { provider: providers[2]?.id },
    { q: tag.toLowerCase() },
    { q: `=${tag}` },
    { q: transferId },
    { q: bookingExternalId },
    { q: tag, currency: "jpy" },
    { q: tag, amountMin: "10", amountMax: "25" },
    { q: tag, currency: "KWD", amountMin: "99.999" },
    { q: tag, from: "2026-09-02", to: "2026-09-05" },
    { q: tag, date: "eligible", from: "2026-09-03", to: "2026-09-03" },
  ];

  it("for each filter, sort and order (export in batches of 2)", async () => {
    let nonEmpty = 0;
    for (const input of filters())
      for (const sort of SORTS)
        for (const order of ORDERS) {
          const full = { ...input, sort, order };
          const fromList = await listIds(full);
          const parsed = parsePayoutFilter(
            new URLSearchParams(Object.entries(full).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, String(v)]]))),
          );
          expect(parsed.success).toBe(true);
          expect({ full, ids: await exportIds(parsed.data as TPayoutFilter, 2) }).toEqual({ full, ids: fromList });
          if (fromList.length > 0) nonEmpty++;
        }
    expect(nonEmpty).toBeGreaterThan(60);
  });
});

// ─────────────────────────── Values JavaScript cannot hold ───────────────────────────

// These instants cannot come from the app (PostgreSQL rejects what toISOString writes for them, and
// Prisma reads them as Invalid Date, so the JavaScript export failed on them): only raw SQL writes
// them. The SQL export turns them into a NULL or a wrong cursor value (to_char gives NULL for
// infinity and drops the era), and the walk then stops, skips or repeats rows without an error.
describe("instants the cursor cannot carry", () => {
  it("never silently drops rows when eligibleAt is 'infinity' (asc, the infinite rows across a batch boundary)", async () => {
    const provider = await createProvider({ name: "Infinity Review" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createPayout({ provider, eligibleAt: new Date(Date.UTC(2026, 9, 1 + i)) })).id);
    await db.$executeRaw`UPDATE "Payout" SET "eligibleAt" = 'infinity' WHERE id = ANY(${ids.slice(3)}::uuid[])`;
    const filter = filterOf({ provider: provider.id, sort: "eligibleAt", order: "asc" });
    const outcome = await walkBatches(filter, 2).then(
      ({ ids: got }) => (got.length === 5 && new Set(got).size === 5 ? "complete" : `silently incomplete: ${got.length} of 5 rows`),
      () => "failed loudly",
    );
    expect(outcome).toBe("failed loudly");
  });

  it("never loses or repeats rows created before the common era (createdAt, batch size 1, both orders)", async () => {
    const provider = await createProvider({ name: "Era Review" });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createPayout({ provider, createdAt: new Date(Date.UTC(2026, 0, 1 + i)) })).id);
    await db.$executeRaw`UPDATE "Payout" SET "createdAt" = '0002-06-01 00:00:00+00 BC' WHERE id = ${ids[0]}::uuid`;
    await db.$executeRaw`UPDATE "Payout" SET "createdAt" = '0001-06-01 00:00:00+00 BC' WHERE id = ${ids[1]}::uuid`;
    const outcomes: Record<string, string> = {};
    for (const order of ORDERS) {
      const filter = filterOf({ provider: provider.id, sort: "createdAt", order });
      outcomes[order] = await walkBatches(filter, 1, 20).then(
        ({ ids: got }) =>
          got.join() === (order === "asc" ? ids : [...ids].reverse()).join()
            ? "complete"
            : `wrong rows: ${got.length} (${got.map((g) => ids.indexOf(g)).join(",")})`,
        () => "failed loudly",
      );
    }
    expect(outcomes).toEqual({ asc: "failed loudly", desc: "failed loudly" });
  });
});
