// Names for the statements worth preparing once per connection. With a name, `pg` parses a
// statement once per connection and PostgreSQL keeps its plan, instead of parsing and planning
// it on every call: measured in the pipeline benchmark, PostgreSQL's CPU per payout fell by
// about 40 % (docs/benchmarks.md, "Prepared statements").
//
// What is never named:
// - a text seen only once so far: a text that varies (an IN list's length, an inlined value)
//   would take a name, and a prepared statement in every connection, for nothing;
// - a text that reads whatever columns a table has (`*`, but not `count(*)`): PostgreSQL refuses
//   to run a prepared statement whose result columns a migration has changed ("cached plan must
//   not change result type", until the connection closes), so a deployment that adds a column
//   would break every server still running the old code. Statements that name their columns
//   (all of Prisma's own) keep working across such a migration;
// - a text that matches a pattern (LIKE, ILIKE, SIMILAR TO, a regular expression): PostgreSQL
//   switches a prepared statement to one generic plan after five runs when that looks no dearer,
//   and a generic plan cannot use an index for a pattern it does not see, so the dashboard's
//   searches (a provider's name prefix) read whole tables: measured at a million payouts, the
//   search API's p95 went from 9–15 to 24–53 ms before these were left out;
// - anything past `cap` names: each is a parsed statement and a plan in every pooled connection.

import { Prisma } from "@/generated/prisma/client";

const SELECTS_EVERY_COLUMN = /\*/;
const COUNT_STAR = /count\(\*\)/gi;

const MATCHES_A_PATTERN = /\b(I?LIKE|SIMILAR\s+TO)\b|!?~~\*?|!?~\*?\s*\$/i;

/** Whether a statement's result columns follow the table's definition (`SELECT *`, `RETURNING p.*`). */
export function readsEveryColumn(sql: string): boolean {
  return SELECTS_EVERY_COLUMN.test(sql.replace(COUNT_STAR, ""));
}

/** Whether a statement matches text against a pattern, whose plan depends on the pattern. */
export function matchesAPattern(sql: string): boolean {
  return MATCHES_A_PATTERN.test(sql);
}

export type TStatementNamer = (query: { sql: string }) => string | undefined;

/** In the sightings map: a text that will never be named (it reads every column or matches a pattern). */
const NEVER = -1;

/**
 * A namer for PrismaPg's `statementNameGenerator`: a text gets a name (`ps1`, `ps2`, …) the second
 * time it is seen, unless it reads every column or matches a pattern (decided once per text), up to
 * `cap` names; otherwise undefined (pg then sends the statement unnamed, parsed and planned each
 * time, as without a namer).
 */
export function statementNamer({ cap = 200, sightings = 2 }: { cap?: number; sightings?: number } = {}): TStatementNamer {
  const names = new Map<string, string>();
  /** Sightings of each text not named yet, or NEVER. Bounded: texts that never repeat would pile up here. */
  const seen = new Map<string, number>();
  const remember = (sql: string, count: number) => {
    if (seen.size >= cap * 20) seen.clear();
    seen.set(sql, count);
  };
  return ({ sql }) => {
    const name = names.get(sql);
    if (name !== undefined || names.size >= cap) return name;
    const before = seen.get(sql);
    if (before === NEVER) return undefined;
    if (before === undefined && (readsEveryColumn(sql) || matchesAPattern(sql))) {
      remember(sql, NEVER);
      return undefined;
    }
    const count = (before ?? 0) + 1;
    if (count < sightings) {
      remember(sql, count);
      return undefined;
    }
    seen.delete(sql);
    const named = `ps${names.size + 1}`;
    names.set(sql, named);
    return named;
  };
}

/**
 * Whether to prepare statements on this connection string: not when it says `pgbouncer=true`
 * (Prisma's flag for a transaction-mode pooler; PgBouncer before 1.21, or with
 * max_prepared_statements = 0, hands one connection's prepared statements to another client).
 */
export function preparesStatements(connectionString: string, wanted: boolean): boolean {
  if (!wanted) return false;
  try {
    return new URL(connectionString).searchParams.get("pgbouncer") !== "true";
  } catch {
    return false;
  }
}

/**
 * A model's columns as a select list (`Prisma.PayoutScalarFieldEnum`, say; its fields are its
 * columns, none mapped): what `SELECT *` reads today, named, so that the statement can be prepared
 * and a column added later does not change what it returns; each qualified by `alias` when given.
 */
export function columnsOf(fields: Readonly<Record<string, string>>, alias?: string): Prisma.Sql {
  return Prisma.raw(
    Object.values(fields)
      .map((field) => (alias ? `${alias}."${field}"` : `"${field}"`))
      .join(", "),
  );
}

/**
 * columnsOf for a row read beside another in one statement: each column qualified by the table's
 * alias and named `<prefix>.<field>` (rowPart reads them back), so that two models' columns of the
 * same name stay apart.
 */
export function prefixedColumnsOf(fields: Readonly<Record<string, string>>, alias: string, prefix: string): Prisma.Sql {
  return Prisma.raw(
    Object.values(fields)
      .map((field) => `${alias}."${field}" AS "${prefix}.${field}"`)
      .join(", "),
  );
}

/** The columns of a row that prefixedColumnsOf named `<prefix>.<field>`, as that model's row. */
export function rowPart<T>(row: Readonly<Record<string, unknown>>, fields: Readonly<Record<string, string>>, prefix: string): T {
  const part: Record<string, unknown> = {};
  for (const field of Object.values(fields)) part[field] = row[`${prefix}.${field}`];
  return part as T;
}
