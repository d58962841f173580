// The hand-written migrations and prisma/schema.prisma must describe the same database.
// This reads the schema through Prisma's own parser (the wasm build, the same code
// `prisma generate` uses) and compares it with what the migrated database reports:
// tables, columns, types, nullability, defaults, enums, primary keys, unique
// constraints, indexes and foreign keys.
import { readFileSync } from "node:fs";

import { get_dmmf } from "@prisma/prisma-schema-wasm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type TDmmfField = {
  name: string;
  kind: "scalar" | "object" | "enum" | "unsupported";
  type: string;
  dbName?: string | null;
  isRequired: boolean;
  isList: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
};
type TDmmfModel = { name: string; dbName: string | null; fields: TDmmfField[] };
type TDmmfIndex = { model: string; type: "id" | "unique" | "normal" | "fulltext"; dbName?: string | null; fields: { name: string }[] };
type TDmmf = {
  datamodel: {
    models: TDmmfModel[];
    enums: { name: string; dbName?: string | null; values: { name: string }[] }[];
    indexes: TDmmfIndex[];
  };
};

const schema = readFileSync("prisma/schema.prisma", "utf8");
const dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: [["schema.prisma", schema]] }))) as TDmmf;
const models = dmmf.datamodel.models;

/** The Postgres type Prisma's migrate would create for a field (format_type spelling). */
function expectedType(field: TDmmfField): string {
  if (field.kind === "enum") return `"${field.type}"`.replace(/^"([a-z_][a-z0-9_]*)"$/, "$1");
  const [native, args = []] = field.nativeType ?? [];
  if (native) {
    switch (native) {
      case "Uuid":
        return "uuid";
      case "VarChar":
        return `character varying(${args[0]})`;
      case "Char":
        return `character(${args[0]})`;
      case "Timestamptz":
        return `timestamp(${args[0] ?? 3}) with time zone`;
      case "Timestamp":
        return `timestamp(${args[0] ?? 3}) without time zone`;
      case "Text":
        return "text";
      default:
        throw new Error(`Native type @db.${native} is not handled by the drift test yet: add it.`);
    }
  }
  const scalar: Record<string, string> = {
    String: "text",
    Int: "integer",
    BigInt: "bigint",
    Boolean: "boolean",
    DateTime: "timestamp(3) without time zone",
    Json: "jsonb",
    Float: "double precision",
    Decimal: "numeric(65,30)",
    Bytes: "bytea",
  };
  const type = scalar[field.type];
  if (!type) throw new Error(`Scalar ${field.type} is not handled by the drift test yet: add it.`);
  return type;
}

/** The column default Prisma's migrate would create (pg_get_expr spelling), or null. */
function expectedDefault(field: TDmmfField): string | null {
  if (!field.hasDefaultValue) return null;
  const value = field.default;
  if (typeof value === "object" && value !== null && "name" in value) {
    const fn = value as { name: string; args: unknown[] };
    if (fn.name === "now") return "CURRENT_TIMESTAMP";
    if (fn.name === "dbgenerated") return String(fn.args[0]);
    if (fn.name === "autoincrement") return "nextval";
    // uuid(), cuid() and the like are filled in by the client: no database default.
    return null;
  }
  if (field.kind === "enum") return `'${String(value)}'::"${field.type}"`.replace(/::"([a-z_][a-z0-9_]*)"$/, "::$1");
  if (typeof value === "string") return `'${value}'::text`;
  return String(value);
}

const columnName = (field: TDmmfField) => field.dbName ?? field.name;
const tableName = (model: TDmmfModel) => model.dbName ?? model.name;
const scalarFields = (model: TDmmfModel) => model.fields.filter((f) => f.kind === "scalar" || f.kind === "enum");

type TColumn = { table: string; column: string; type: string; notNull: boolean; default: string | null };
type TIndex = { table: string; name: string; unique: boolean; primary: boolean; partial: boolean; columns: string[] };

/**
 * Partial indexes (a WHERE clause) that schema.prisma cannot express: written in the
 * migrations only, compared here by name and columns instead of against the schema.
 */
const PARTIAL_INDEXES = [
  { table: "AdminAccessRequest", name: "AdminAccessRequest_one_pending_per_email", unique: true, columns: ["email"] },
  { table: "AdminAccessRequest", name: "AdminAccessRequest_one_pending_per_user", unique: true, columns: ["userId"] },
  { table: "DebtClosingRequest", name: "DebtClosingRequest_one_pending", unique: true, columns: ["debtId"] },
  { table: "PlatformWebhookEndpoint", name: "PlatformWebhookEndpoint_one_config", unique: true, columns: ["source"] },
  { table: "WebhookEvent", name: "WebhookEvent_account_lane_idx", unique: false, columns: ["account", "receivedAt", "id"] },
];
type TForeignKey = {
  table: string;
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
};

let client: pg.Client;
let columns: TColumn[];
let enums: Map<string, string[]>;
let indexes: TIndex[];
let foreignKeys: TForeignKey[];
let tables: string[];

beforeAll(async () => {
  client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  tables = (
    await client.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> '_prisma_migrations' ORDER BY 1`,
    )
  ).rows.map((r) => r.table);
  columns = (
    await client.query<TColumn>(
      `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS "notNull", pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
    )
  ).rows;
  const enumRows = (
    await client.query<{ name: string; values: string[] }>(
      `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
       JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' GROUP BY t.typname`,
    )
  ).rows;
  enums = new Map(enumRows.map((r) => [r.name, r.values]));
  indexes = (
    await client.query<TIndex>(
      `SELECT t.relname AS table, i.relname AS name, ix.indisunique AS unique, ix.indisprimary AS primary,
              ix.indpred IS NOT NULL AS partial, array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index ix
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'
       GROUP BY t.relname, i.relname, ix.indisunique, ix.indisprimary, ix.indpred IS NOT NULL`,
    )
  ).rows;
  foreignKeys = (
    await client.query<TForeignKey>(
      `SELECT c.conrelid::regclass::text AS table, c.conname AS name,
              (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
              c.confrelid::regclass::text AS "refTable",
              (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS "refColumns",
              c.confdeltype AS "onDelete", c.confupdtype AS "onUpdate"
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
       WHERE c.contype = 'f' AND n.nspname = 'public'`,
    )
  ).rows.map((fk) => ({ ...fk, table: fk.table.replaceAll('"', ""), refTable: fk.refTable.replaceAll('"', "") }));
});

afterAll(async () => {
  await client.end();
});

describe("migrated database matches prisma/schema.prisma", () => {
  it("has exactly the schema's tables", () => {
    expect(tables).toEqual(models.map(tableName).sort());
  });

  it("has exactly the partial indexes the migrations write beside the schema", () => {
    const actual = indexes
      .filter((i) => i.partial)
      .map(({ table, name, unique, columns: cols }) => ({ table, name, unique, columns: cols }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(actual).toEqual(PARTIAL_INDEXES);
  });

  it("has exactly the schema's enums with the same values in the same order", () => {
    const expected = new Map(dmmf.datamodel.enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.name)]));
    expect(Object.fromEntries(enums)).toEqual(Object.fromEntries(expected));
  });

  describe.each(models.map((m) => [m.name, m] as const))("%s", (_name, model) => {
    const table = tableName(model);

    it("has exactly the schema's columns", () => {
      const actual = columns
        .filter((c) => c.table === table)
        .map((c) => c.column)
        .sort();
      expect(actual).toEqual(scalarFields(model).map(columnName).sort());
    });

    it.each(scalarFields(model).map((f) => [f.name, f] as const))("column %s: type, nullability, default", (_f, field) => {
      const column = columns.find((c) => c.table === table && c.column === columnName(field));
      expect(column, `column ${table}.${columnName(field)}`).toBeDefined();
      const actualDefault = column?.default?.startsWith("nextval(") ? "nextval" : (column?.default ?? null);
      expect({ type: column?.type, notNull: column?.notNull, default: actualDefault }).toEqual({
        type: expectedType(field),
        notNull: field.isRequired,
        default: expectedDefault(field),
      });
    });

    it("has the schema's primary key, unique constraints and indexes, named as Prisma names them", () => {
      const expected = dmmf.datamodel.indexes
        .filter((i) => i.model === model.name)
        .map((i) => {
          const cols = i.fields.map((f) => columnName(model.fields.find((x) => x.name === f.name) ?? ({ name: f.name } as TDmmfField)));
          const suffix = i.type === "id" ? "pkey" : i.type === "unique" ? "key" : "idx";
          const name = i.dbName ?? (i.type === "id" ? `${table}_pkey` : `${table}_${cols.join("_")}_${suffix}`);
          return { name, unique: i.type !== "normal", primary: i.type === "id", columns: cols };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
      const actual = indexes
        .filter((i) => i.table === table && !i.partial)
        .map(({ name, unique, primary, columns: cols }) => ({ name, unique, primary, columns: cols }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(actual).toEqual(expected);
    });

    it("has the schema's foreign keys with their referential actions", () => {
      const action: Record<string, string> = { Cascade: "c", Restrict: "r", NoAction: "a", SetNull: "n", SetDefault: "d" };
      const expected = model.fields
        .filter((f) => f.kind === "object" && (f.relationFromFields?.length ?? 0) > 0)
        .map((f) => {
          const target = models.find((m) => m.name === f.type);
          if (!target) throw new Error(`unknown relation target ${f.type}`);
          const cols = (f.relationFromFields ?? []).map((n) => columnName(model.fields.find((x) => x.name === n)!));
          return {
            name: `${table}_${cols.join("_")}_fkey`,
            columns: cols,
            refTable: tableName(target),
            refColumns: (f.relationToFields ?? []).map((n) => columnName(target.fields.find((x) => x.name === n)!)),
            onDelete: action[f.relationOnDelete ?? (f.isRequired ? "Restrict" : "SetNull")],
            onUpdate: "c",
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
      const actual = foreignKeys
        .filter((fk) => fk.table === table)
        .map(({ name, columns: cols, refTable, refColumns, onDelete, onUpdate }) => ({
          name,
          columns: cols,
          refTable,
          refColumns,
          onDelete,
          onUpdate,
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(actual).toEqual(expected);
    });
  });
});

describe("migration bookkeeping is what `prisma migrate deploy` expects", () => {
  it("records every migration folder as finished with its SHA-256 checksum", async () => {
    const { loadMigrations } = await import("@/lib/migrations/run-migrations");
    const files = await loadMigrations("prisma/migrations");
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished: boolean; applied_steps_count: number }>(
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count
       FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows).toEqual(files.map((f) => ({ migration_name: f.name, checksum: f.checksum, finished: true, applied_steps_count: 1 })));
  });
});
