import { describe, expect, it } from "vitest";

import { matchesAPattern, preparesStatements, readsEveryColumn, statementNamer } from "./statement-names";

describe("statementNamer", () => {
  it("names a text the second time it is seen, and gives it the same name ever after", () => {
    const name = statementNamer();
    const sql = 'SELECT "id" FROM "Payout" WHERE id = $1';
    expect(name({ sql })).toBeUndefined();
    const given = name({ sql });
    expect(given).toMatch(/^ps\d+$/);
    expect(name({ sql })).toBe(given);
    expect(name({ sql: 'SELECT "id" FROM "Tip" WHERE id = $1' })).toBeUndefined();
  });

  it("gives different texts different names", () => {
    const name = statementNamer({ sightings: 1 });
    const names = ["SELECT 1", "SELECT 2", "SELECT 3"].map((sql) => name({ sql }));
    expect(new Set(names).size).toBe(3);
  });

  it("never names a text that reads every column of a table, however often it comes", () => {
    const name = statementNamer({ sightings: 1 });
    for (const sql of [
      'SELECT * FROM "Payout" WHERE id = $1 FOR UPDATE',
      'UPDATE "Tip" SET "payoutId" = $1 RETURNING *',
      'SELECT p.* FROM "Provider" p WHERE p.id = $1',
    ]) {
      for (let i = 0; i < 5; i++) expect(name({ sql })).toBeUndefined();
    }
    expect(name({ sql: 'SELECT count(*) FROM "Payout"' })).toMatch(/^ps/);
    expect(name({ sql: 'SELECT COUNT(*) AS "_count$_all" FROM "Tip"' })).toMatch(/^ps/);
  });

  it("stops naming at the cap, keeping the names it gave", () => {
    const name = statementNamer({ cap: 2, sightings: 1 });
    const a = name({ sql: "SELECT 1" });
    const b = name({ sql: "SELECT 2" });
    expect(name({ sql: "SELECT 3" })).toBeUndefined();
    expect([name({ sql: "SELECT 1" }), name({ sql: "SELECT 2" })]).toEqual([a, b]);
  });
});

describe("readsEveryColumn", () => {
  it("tells a star that selects columns from count(*)", () => {
    expect(readsEveryColumn("SELECT * FROM t")).toBe(true);
    expect(readsEveryColumn("SELECT count(*), t.* FROM t")).toBe(true);
    expect(readsEveryColumn("SELECT count(*) FROM t")).toBe(false);
    expect(readsEveryColumn('SELECT "a", "b" FROM t')).toBe(false);
  });
});

describe("matchesAPattern", () => {
  it("tells a statement whose plan depends on a pattern parameter", () => {
    for (const sql of [
      'SELECT 1 FROM "Provider" WHERE name ILIKE $1',
      'SELECT 1 FROM "Provider" WHERE name like $1',
      "SELECT 1 FROM t WHERE a NOT LIKE $1 ESCAPE '!'",
      "SELECT 1 FROM t WHERE a SIMILAR TO $1",
      "SELECT 1 FROM t WHERE a ~~* $1",
      "SELECT 1 FROM t WHERE a ~ $1",
      "SELECT 1 FROM t WHERE a !~* $2",
    ]) {
      expect(matchesAPattern(sql), sql).toBe(true);
    }
    for (const sql of [
      'SELECT "id" FROM "Payout" WHERE id = $1',
      "SELECT CASE WHEN t ~ '^[=+@]' THEN 1 END FROM x",
      'SELECT "likes" FROM t WHERE "unlike" = $1',
    ]) {
      expect(matchesAPattern(sql), sql).toBe(false);
    }
  });

  it("keeps such a statement unnamed however often it comes", () => {
    const name = statementNamer({ sightings: 1 });
    for (let i = 0; i < 5; i++) expect(name({ sql: 'SELECT 1 FROM "Provider" WHERE name ILIKE $1' })).toBeUndefined();
  });
});

describe("preparesStatements", () => {
  it("follows the setting, and never behind pgbouncer=true", () => {
    expect(preparesStatements("postgresql://u@h:5432/db", true)).toBe(true);
    expect(preparesStatements("postgresql://u@h:5432/db", false)).toBe(false);
    expect(preparesStatements("postgresql://u@h:6543/db?pgbouncer=true&sslmode=require", true)).toBe(false);
    expect(preparesStatements("postgresql://u@h:6543/db?pgbouncer=false", true)).toBe(true);
  });
});
