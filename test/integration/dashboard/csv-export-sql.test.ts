// The CSV export is formatted by PostgreSQL (lib/payouts/export-payouts-csv.ts), its rules written
// a second time in SQL beside the JavaScript ones (csvField, minorToDecimal, toISOString). These
// tests hold the two to the same output: the whitespace class over every code point, fields over
// hand-picked and generated hostile text, amounts in every currency Intl knows, instants at the
// edges; then whole exports read back by csv-parse (a CSV parser we did not write, strict about
// quotes) against the rows as Prisma reads them, formatted by the JavaScript rules.
import { parse } from "csv-parse/sync";
import { beforeAll, describe, expect, it } from "vitest";

import { Prisma, type Provider } from "@/generated/prisma/client";
import type { PayoutStatus } from "@/generated/prisma/enums";
import { db } from "@/lib/db";
import { csvField, csvTextSql, exportPayoutsCsv, JS_TRIMMED_CHARACTERS_SQL, PAYOUT_CSV_HEADER } from "@/lib/payouts/export-payouts-csv";
import { parsePayoutFilter, type TPayoutFilter } from "@/lib/payouts/payout-filter";

import { createBooking, createPayout, createProvider } from "../../support/factories";
import { amountsDifferingFromJs, payoutCsvValues } from "../../support/payout-csv-reference";

const SURROGATES = [0xd800, 0xdfff] as const;

/** Every code point PostgreSQL text can hold (no NUL, no surrogate halves). */
function* storableCodePoints(): Generator<number> {
  for (let c = 1; c <= 0x10ffff; c++) if (c < SURROGATES[0] || c > SURROGATES[1]) yield c;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each text formatted by the SQL of `expression` (over the column `t`), in order. */
async function formatInSql(texts: readonly string[], expression: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ out: string }[]>`
    SELECT ${Prisma.raw(expression)} AS out
    FROM jsonb_array_elements_text(${JSON.stringify(texts)}::jsonb) WITH ORDINALITY AS x(t, i) ORDER BY i`;
  return rows.map((r) => r.out);
}

describe("the SQL rules equal the JavaScript ones", () => {
  it("trims the same characters as String.prototype.trim, over every code point", async () => {
    const inJs = [...storableCodePoints()].filter((c) => String.fromCodePoint(c).trim() === "");
    const inSql = await db.$queryRaw<{ c: number }[]>`
      SELECT c FROM generate_series(1, 1114111) c
      WHERE c NOT BETWEEN ${SURROGATES[0]} AND ${SURROGATES[1]} AND chr(c) ~ ${`^[${JS_TRIMMED_CHARACTERS_SQL}]$`}
      ORDER BY c`;
    expect(inSql.map((r) => r.c)).toEqual(inJs);
    expect(inJs.length).toBeGreaterThan(20);
  });

  it("formats a text field as csvField does: guards, quoting, whitespace at either end, every code point alone", async () => {
    const picked = [
      "",
      "plain",
      "a,b",
      'say "hi"',
      '"',
      '""',
      "two\nlines",
      "cr\rhere",
      "crlf\r\n",
      "tab\there",
      "semi;colon",
      "=SUM(A1)",
      "+1",
      "-1",
      "@cmd",
      "\t=leading tab",
      "\rleading cr",
      "'already quoted",
      " leading space",
      "trailing space ",
      "\u00a0nbsp",
      "nbsp\u00a0",
      "\u3000ideographic",
      "\ufeffbom",
      "\u200bzero width (not trimmed)",
      "\u180emongolian vowel separator (not trimmed)",
      "=\u00a0",
      "-\n",
      "Zoë Ångström 🧹",
      "x".repeat(5000),
    ];
    // Every code point as a whole field, at the start and at the end of one.
    const single = [...storableCodePoints()].flatMap((c) => {
      const ch = String.fromCodePoint(c);
      return [ch, `${ch}x`, `x${ch}`];
    });
    const alphabet = ['"', ",", ";", "\t", "\r", "\n", " ", "=", "+", "-", "@", "'", "\u00a0", "\u2028", "a", "Z", "é", "🧾"];
    const next = random(13);
    const generated = Array.from({ length: 5000 }, () =>
      Array.from({ length: Math.floor(next() * 8) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(""),
    );
    const texts = [...picked, ...single, ...generated];
    const out = await formatInSql(texts, csvTextSql("t"));
    const differing = texts.map((t, i) => ({ t, sql: out[i], js: csvField(t) })).filter((d) => d.sql !== d.js);
    expect(differing.slice(0, 5)).toEqual([]);
    expect(out).toHaveLength(texts.length);
  });

  it("writes NULL as an empty field", async () => {
    const [row] = await db.$queryRaw<{ out: string }[]>`SELECT ${Prisma.raw(csvTextSql("NULL::text"))} AS out`;
    expect(row?.out).toBe(csvField(null));
  });

  it("writes amounts as minorToDecimal does, in every currency Intl knows and one it does not", async () => {
    const amounts = [0, 1, 5, 9, 10, 99, 100, 101, 999, 1000, 1001, 1234, 123456789, 2_147_483_647, -1, -5, -100, -1234, -2_147_483_648];
    const currencies = [...Intl.supportedValuesOf("currency"), "XQQ"];
    const pairs = currencies.flatMap((currency) => amounts.map((amount) => ({ currency, amount })));
    const { written, differing } = await amountsDifferingFromJs(pairs);
    expect(differing.slice(0, 5)).toEqual([]);
    // The lists are not empty: a zero-decimal and a three-decimal currency come out their own way.
    expect(written[amounts.indexOf(1234) + currencies.indexOf("JPY") * amounts.length]).toBe("1234");
    expect(written[amounts.indexOf(1234) + currencies.indexOf("KWD") * amounts.length]).toBe("1.234");
  });
});

describe("whole exports, read by csv-parse", () => {
  const hostile = [
    '=HYPERLINK("http://x"),"Quoted"\nName',
    " padded ",
    "\u00a0Nbsp\u2028Sep",
    "Semi;colon\tTab",
    "-minus",
    "Zoë 🧹 Ångström",
  ];
  let providers: Provider[] = [];

  beforeAll(async () => {
    providers = [];
    for (const [i, name] of hostile.entries())
      providers.push(await createProvider({ name, externalId: i % 2 ? `@prov-${i}` : `prov,${i}` }));
    const statuses: PayoutStatus[] = ["scheduled", "on_hold", "transferred", "failed", "cancelled"];
    const currencies = ["USD", "JPY", "KWD", "EUR", "ISK", "CLF"];
    for (let i = 0; i < 37; i++) {
      const provider = providers[i % providers.length] as Provider;
      const status = statuses[i % statuses.length] as PayoutStatus;
      const currency = currencies[i % currencies.length] as string;
      const booking = await createBooking({
        provider,
        currency,
        providerShare: 1 + i * 997,
        externalId: i % 4 === 0 ? `+bk"${i}"` : `bk-${i}`,
      });
      const createdAt = new Date(Date.UTC(2026, 0, 1 + (i % 9), 12, 0, 0, i * 27));
      await createPayout({
        booking,
        status,
        createdAt,
        eligibleAt: new Date(createdAt.getTime() + 2 * 86_400_000 + (i % 3)),
        ...(status === "on_hold" ? { holdReason: "admin_hold" as const } : {}),
        ...(status === "transferred" ? { stripeTransferId: `tr_sql_${i}`, transferredAt: new Date(createdAt.getTime() + 999) } : {}),
      });
    }
  });

  /** The rows as Prisma reads them, each formatted by the JavaScript rules, in the export's order. */
  async function expectedFields(filter: TPayoutFilter): Promise<string[][]> {
    const rows = await payoutCsvValues(
      providers.map((p) => p.id),
      filter,
    );
    // What csvField wrote, as a parser gives it back: the guard's apostrophe stays.
    return rows.map((values) =>
      values.map((v) => {
        const field = csvField(v);
        return field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field;
      }),
    );
  }

  for (const query of ["sort=createdAt&order=desc", "sort=amount&order=asc", "sort=eligibleAt&order=asc"]) {
    it(`exports every row field for field (${query}, batches of 4)`, async () => {
      const filter = parsePayoutFilter(new URLSearchParams(query)).data as TPayoutFilter;
      const text = await new Response(await exportPayoutsCsv(db, filter, { batchSize: 4 })).text();
      expect(text.startsWith(PAYOUT_CSV_HEADER)).toBe(true);
      expect(text.endsWith("\r\n")).toBe(true);
      const [header, ...records] = parse(text, { record_delimiter: "\r\n", relax_column_count: false }) as string[][];
      expect(header).toEqual(PAYOUT_CSV_HEADER.trimEnd().split(","));
      const ours = new Set(providers.map((p) => p.id));
      const exported = records.filter((r) => ours.has(r[11] as string));
      expect(exported).toEqual(await expectedFields(filter));
      expect(exported).toHaveLength(37);
    });
  }

  it("ends a batch exactly at the batch size without losing or repeating a row", async () => {
    const filter = parsePayoutFilter(new URLSearchParams("sort=createdAt&order=asc")).data as TPayoutFilter;
    const all = parse(await new Response(await exportPayoutsCsv(db, filter)).text(), { record_delimiter: "\r\n" }) as string[][];
    const count = all.length - 1;
    for (const batchSize of [1, count, count - 1, count + 1]) {
      const text = await new Response(await exportPayoutsCsv(db, filter, { batchSize })).text();
      expect(parse(text, { record_delimiter: "\r\n" })).toEqual(all);
    }
  });
});
