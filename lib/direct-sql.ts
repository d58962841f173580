// Raw statements sent to `pg` directly, on the connection Prisma would have used, without the
// Prisma client's per-statement runtime (its request pipeline, parameter serialisation through JSON,
// the query interpreter, the result's mapping back): measured in the pipeline benchmark, a raw
// one-row statement cost the process 175–211 µs of CPU through `tx.$queryRaw` and 62–101 µs through
// `pg` alone (docs/benchmarks.md, "What one statement costs"). For the engine's hot statements only;
// everything else keeps Prisma.
//
// How a transaction's connection is known: `transaction(db, work)` opens Prisma's interactive
// transaction inside an AsyncLocalStorage slot; the adapter (directAdapter) hands the connection it
// opens the transaction on to the slot (only the first it opens there: Prisma opens exactly one per
// transaction, in the async chain of `$transaction`), and the slot's connection is tied to the
// transaction's client (`tx`) before `work` sees it. A statement given a `tx` that is not tied (a
// transaction opened with `db.$transaction`, a nested one, a stand-in) goes through Prisma, as
// before. The connection stops taking statements the moment Prisma sends COMMIT or ROLLBACK, so a
// statement sent late fails as it would through Prisma instead of running on a pooled connection
// that another transaction may have taken.
//
// Statements that find their rows by key (`{ genericPlan: true }`) are planned once per connection,
// not for each call's values. PostgreSQL plans a prepared statement for its values until a plan
// without them looks no dearer, and it never does for a list parameter (`= ANY($1)`, `unnest($1)`:
// estimated at 10 elements, so 5 times the cost of a call with 2), though the plan is the same
// index lookups: measured in the pipeline benchmark, PostgreSQL's CPU per payout fell by a tenth
// once such statements were not planned again on every call (docs/benchmarks.md, "Lookups by key
// planned once").
// Outside a transaction such a statement is sent on a few connections of its own that plan with
// `plan_cache_mode = force_generic_plan` (DATABASE_GENERIC_PLAN_CONNECTIONS, 0 behind a
// transaction-mode pooler, which would pass that session setting on to other clients);
// everything else (the dashboard's searches and ranges among it) keeps PostgreSQL's own choice.
// Inside a transaction it is sent on the transaction's connection, as any statement.
//
// What comes back matches `$queryRaw`'s types: bigint for int8, Prisma's Decimal for numeric, Date
// for timestamps and dates (a timestamp without a zone read as UTC), parsed JSON; a failed
// statement throws PrismaClientKnownRequestError P2010 ("Raw query failed"), as `$queryRaw` does.
import { AsyncLocalStorage } from "node:async_hooks";

import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import type { TStatementNamer } from "@/lib/statement-names";

type TAdapterOptions = ConstructorParameters<typeof PrismaPg>[1];

/** A transaction's connection, usable until Prisma commits or rolls it back. */
type TTxConnection = { client: pg.PoolClient; open: boolean; namer: TStatementNamer | undefined };
type TSlot = { claimed: boolean; connection?: TTxConnection };
type TDirect = {
  pool: pg.Pool;
  namer: TStatementNamer | undefined;
  connectionString: string;
  /** Connections for statements found by key outside transactions (0: none; none either when statements are not prepared). */
  keyConnections: number;
  /** Their pool, made on first use (keyPoolOf). */
  keyed?: pg.Pool;
};

const opening = new AsyncLocalStorage<TSlot>();
const byTransaction = new WeakMap<object, TTxConnection>();
const byClient = new WeakMap<object, TDirect>();

/**
 * PrismaPg on a pool of our own (`max` connections), whose transactions' connections
 * `transaction()` can hand to direct statements. `namer` is the adapter's statement namer, shared:
 * one text has one name on a connection whichever path sends it. Up to `genericPlanConnections`
 * more for lookups by key outside transactions (none when statements are not prepared).
 */
export function directAdapter(
  connectionString: string,
  { max, namer, genericPlanConnections }: { max: number; namer: TStatementNamer | undefined; genericPlanConnections: number },
): { adapter: PrismaPg; direct: TDirect } {
  const pool = new pg.Pool({ connectionString, max });
  // Prisma's adapter listens for an idle connection's error once it connects; a direct statement
  // may come first (unhandled, the error of a connection the server ended would end the process).
  pool.on("error", () => undefined);
  const options: TAdapterOptions = { disposeExternalPool: true };
  // pg sends a statement unnamed when the generator gives no name (the type asks for a string).
  if (namer) options.statementNameGenerator = namer as (query: { sql: string }) => string;
  // Without names nothing is prepared, and a generic plan would only lose what the values tell.
  const keyConnections = namer ? genericPlanConnections : 0;
  return { adapter: new HandingAdapter(pool, options, namer), direct: { pool, namer, connectionString, keyConnections } };
}

/**
 * The pool whose connections plan prepared statements once, whatever the values (see the top of
 * this file), made on first use; undefined when there are none.
 */
function keyPoolOf(direct: TDirect): pg.Pool | undefined {
  if (direct.keyConnections === 0) return undefined;
  direct.keyed ??= genericPlanPool(direct.connectionString, direct.keyConnections);
  return direct.keyed;
}

function genericPlanPool(connectionString: string, max: number): pg.Pool {
  // Its idle connections never keep the process alive (it is ended with the client, registerDirect).
  const pool = new pg.Pool({
    connectionString,
    max,
    allowExitOnIdle: true,
    // Awaited before the pool hands the connection out; if it fails, the connection is closed and
    // the statement that asked for it fails with its error.
    onConnect: async (client) => {
      await client.query("SET plan_cache_mode = force_generic_plan");
    },
  });
  // An idle connection that breaks (the server restarted or ended it) leaves the pool, and the next
  // statement opens another.
  pool.on("error", () => undefined);
  return pool;
}

/**
 * Ties a Prisma client made on directAdapter to its pools, for direct statements outside
 * transactions. Its `$disconnect` ends the key pool, and the client's own pool also when Prisma
 * never connected (it disposes only an adapter it connected), so that direct statements alone
 * leave no connection open.
 */
export function registerDirect(client: PrismaClient, direct: TDirect): void {
  byClient.set(client, direct);
  const disconnect = client.$disconnect.bind(client);
  client.$disconnect = async () => {
    await disconnect();
    await Promise.all([endOnce(direct.pool), endOnce(direct.keyed)]);
  };
}

/** pool.end(), unless it was ended already (a second end is an error). */
async function endOnce(pool: pg.Pool | undefined): Promise<void> {
  if (pool && !pool.ending) await pool.end();
}

class HandingAdapter extends PrismaPg {
  constructor(
    pool: pg.Pool,
    options: TAdapterOptions,
    private readonly namer: TStatementNamer | undefined,
  ) {
    super(pool, options);
  }

  override async connect(): ReturnType<PrismaPg["connect"]> {
    const adapter = await super.connect();
    const start = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => {
      const slot = opening.getStore();
      const mine = slot !== undefined && !slot.claimed;
      if (mine) slot.claimed = true;
      const transaction = await start(isolationLevel);
      if (mine) slot.connection = handOver(transaction, this.namer);
      return transaction;
    };
    return adapter;
  }
}

type TAdapterTransaction = Awaited<ReturnType<Awaited<ReturnType<PrismaPg["connect"]>>["startTransaction"]>>;

/** The transaction's pg connection, closed for direct statements from the moment Prisma ends it. */
function handOver(transaction: TAdapterTransaction, namer: TStatementNamer | undefined): TTxConnection | undefined {
  const client = (transaction as unknown as { client?: pg.PoolClient }).client;
  if (!client || typeof client.query !== "function") return undefined;
  const connection: TTxConnection = { client, open: true, namer };
  const executeRaw = transaction.executeRaw.bind(transaction);
  transaction.executeRaw = (query) => {
    // The transaction's end, not a nested one's (ROLLBACK TO SAVEPOINT, RELEASE SAVEPOINT).
    if (/^\s*(COMMIT|ROLLBACK)\s*;?\s*$/i.test(query.sql)) connection.open = false;
    return executeRaw(query);
  };
  for (const end of ["commit", "rollback"] as const) {
    const original = transaction[end].bind(transaction);
    transaction[end] = () => {
      connection.open = false;
      return original();
    };
  }
  return connection;
}

/**
 * `db.$transaction(work, options)`, with the transaction's connection tied to `tx` for direct
 * statements (sqlRows, sqlExecute). Any client works: one not made on directAdapter gives a `tx`
 * whose statements go through Prisma.
 */
export function transaction<T>(
  db: PrismaClient,
  work: (tx: Tx) => Promise<T>,
  options?: { maxWait?: number; timeout?: number; isolationLevel?: Prisma.TransactionIsolationLevel },
): Promise<T> {
  const slot: TSlot = { claimed: false };
  return opening.run(slot, () =>
    db.$transaction(async (tx) => {
      if (slot.connection) byTransaction.set(tx, slot.connection);
      return work(tx);
    }, options),
  );
}

/**
 * How a statement is sent. `genericPlan`: every row it touches is found by key (a primary key, a
 * unique or foreign key, a list of them), so that one plan, made without its values, serves every
 * call: outside a transaction it goes to connections that plan so (see the top of this file). Never
 * for a statement whose best plan depends on its values (a pattern, a range, a status that few rows
 * have).
 */
export type TSendOptions = { genericPlan?: boolean };

/** `client.$queryRaw<T>(query)` (T: the rows' type, as there), sent directly when the client's connection is known. */
export async function sqlRows<T = unknown[]>(client: PrismaClient | Tx, query: Prisma.Sql, options?: TSendOptions): Promise<T> {
  const result = await send(client, query, options);
  return result ? (result.rows as T) : client.$queryRaw<T>(query);
}

/** `client.$executeRaw(query)` (the rows it changed), sent directly when the client's connection is known. */
export async function sqlExecute(client: PrismaClient | Tx, query: Prisma.Sql, options?: TSendOptions): Promise<number> {
  const result = await send(client, query, options);
  return result ? (result.rowCount ?? 0) : client.$executeRaw(query);
}

/** The pools of a client made on directAdapter, the key pool's if it was made (for diagnostics: scripts/bench-pipeline.ts). */
export function directPools(client: PrismaClient): pg.Pool[] {
  const direct = byClient.get(client);
  return direct ? [direct.pool, direct.keyed].filter((pool) => pool !== undefined) : [];
}

/** Whether sqlRows and sqlExecute send this client's statements directly (not through Prisma). */
export function sendsDirectly(client: PrismaClient | Tx): boolean {
  return byTransaction.has(client) || byClient.has(client);
}

/** The result, or undefined when this client's connection is not known (the caller asks Prisma). */
async function send(client: PrismaClient | Tx, query: Prisma.Sql, options?: TSendOptions): Promise<pg.QueryResult | undefined> {
  const connection = byTransaction.get(client);
  const direct = connection ? undefined : byClient.get(client);
  if (!connection && !direct) return undefined;
  if (connection && !connection.open) {
    throw new Prisma.PrismaClientKnownRequestError("Transaction already closed: a statement was sent after it ended.", {
      code: "P2028",
      clientVersion: Prisma.prismaVersion.client,
    });
  }
  const text = query.text;
  const config: pg.QueryConfig = { text, values: query.values.map(toParameter), types: TYPES };
  // The namer of the client's adapter: the transaction's connection is one of that pool's.
  const namer = direct?.namer ?? connection?.namer;
  const name = namer?.({ sql: text });
  if (name) config.name = name;
  try {
    if (connection) return await connection.client.query(config);
    const pool = (options?.genericPlan && keyPoolOf(direct!)) || direct!.pool;
    return await pool.query(config);
  } catch (error) {
    throw rawQueryFailed(error);
  }
}

/** What `$queryRaw` sends for a value: instants as ISO text (not pg's local time), bigint and Decimal as text. */
function toParameter(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (Prisma.Decimal.isDecimal(value)) return (value as Prisma.Decimal).toString();
  if (Array.isArray(value)) return value.map(toParameter);
  return value;
}

const INT8 = 20;
const INT8_ARRAY = 1016;
const NUMERIC = 1700;
const NUMERIC_ARRAY = 1231;
const DATE = 1082;
const TIMESTAMP = 1114;
const TIME = 1083;
const BYTEA = 17;

const parseTextArray = (oid: number) => pg.types.getTypeParser(oid, "text") as (text: string) => (string | null)[];
const int8Items = parseTextArray(INT8_ARRAY);
const numericItems = parseTextArray(NUMERIC_ARRAY);
const byteaBuffer = pg.types.getTypeParser(BYTEA, "text") as (text: string) => Buffer;

/** $queryRaw's types where pg's differ (int8 and numeric as text, dates and timestamps in local time, bytea as a Buffer). */
const PARSERS: Partial<Record<number, (text: string) => unknown>> = {
  [INT8]: (text) => BigInt(text),
  [INT8_ARRAY]: (text) => int8Items(text).map((item) => (item === null ? null : BigInt(item))),
  [NUMERIC]: (text) => new Prisma.Decimal(text),
  [NUMERIC_ARRAY]: (text) => numericItems(text).map((item) => (item === null ? null : new Prisma.Decimal(item))),
  [DATE]: (text) => new Date(text),
  [TIMESTAMP]: (text) => new Date(`${text.replace(" ", "T")}Z`),
  [TIME]: (text) => new Date(`1970-01-01T${text}Z`),
  [BYTEA]: (text) => new Uint8Array(byteaBuffer(text)),
};

const TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    (format ?? "text") === "text" && PARSERS[oid]
      ? PARSERS[oid]
      : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/** A database error as `$queryRaw` reports it (P2010, with PostgreSQL's code and message); anything else as it is. */
function rawQueryFailed(error: unknown): unknown {
  if (!(error instanceof pg.DatabaseError)) return error;
  return new Prisma.PrismaClientKnownRequestError(`Raw query failed. Code: \`${error.code ?? "N/A"}\`. Message: \`${error.message}\``, {
    code: "P2010",
    clientVersion: Prisma.prismaVersion.client,
    meta: { code: error.code, message: error.message },
  });
}
