import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createPool } from "./create-pool.js";
import { runMigrations, type Migration } from "./run-migrations.js";
import { openTestDatabase, type TestDatabase } from "./test-database.js";

const CREATE_ITEMS: Migration = {
  version: 1,
  name: "create items",
  sql: "CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)",
};
const SEED_ITEMS: Migration = {
  version: 2,
  name: "seed items",
  sql: "INSERT INTO items VALUES (1, 'one'); INSERT INTO items VALUES (2, 'two')",
};
const MIGRATIONS: readonly Migration[] = [CREATE_ITEMS, SEED_ITEMS];

let db: TestDatabase;

beforeAll(async () => {
  db = await openTestDatabase(process.env["DATABASE_URL"]);
});

afterAll(async () => {
  await db?.close();
});

async function recorded(schema: string): Promise<Array<{ version: number; name: string }>> {
  const { rows } = await db.pool.query<{ version: number; name: string }>(`SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`);
  return rows;
}

describe("runMigrations", () => {
  it("applies each migration once, inside the schema", async () => {
    const schema = db.newSchema();
    expect(await runMigrations(db.pool, { schema, migrations: MIGRATIONS })).toEqual([1, 2]);
    expect(await runMigrations(db.pool, { schema, migrations: MIGRATIONS })).toEqual([]);

    const { rows } = await db.pool.query(`SELECT id FROM ${schema}.items ORDER BY id`);
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await recorded(schema)).toEqual([
      { version: 1, name: "create items" },
      { version: 2, name: "seed items" },
    ]);

    const added = [...MIGRATIONS, { version: 3, name: "add tag", sql: "ALTER TABLE items ADD COLUMN tag text" }];
    expect(await runMigrations(db.pool, { schema, migrations: added })).toEqual([3]);
  });

  it("lets concurrent replicas take turns: every migration applied exactly once", async () => {
    const schema = db.newSchema();
    // The sleep keeps the first runner inside the lock while the second arrives.
    const slow: Migration[] = [{ ...CREATE_ITEMS, sql: `${CREATE_ITEMS.sql}; SELECT pg_sleep(0.5)` }, SEED_ITEMS];
    // Two pools stand for two replicas, each with its own connections.
    const replicas = [createPool({ url: db.url, max: 2 }), createPool({ url: db.url, max: 2 })];
    try {
      const results = await Promise.all(replicas.map((pool) => runMigrations(pool, { schema, migrations: slow })));
      expect(results.flat().sort()).toEqual([1, 2]);
      expect(results).toContainEqual([]);
    } finally {
      await Promise.all(replicas.map((pool) => pool.end()));
    }
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${schema}.items`);
    expect(rows).toEqual([{ n: 2 }]);
    expect((await recorded(schema)).map((row) => row.version)).toEqual([1, 2]);
  });

  it("rejects duplicate and decreasing versions before touching the database", async () => {
    const schema = db.newSchema();
    const duplicate = [...MIGRATIONS, { version: 2, name: "again", sql: "SELECT 1" }];
    await expect(runMigrations(db.pool, { schema, migrations: duplicate })).rejects.toThrow(/duplicate migration version 2/);
    const decreasing = [...MIGRATIONS].reverse();
    await expect(runMigrations(db.pool, { schema, migrations: decreasing })).rejects.toThrow(/must increase/);
    await expect(runMigrations(db.pool, { schema, migrations: [{ version: 0, name: "zero", sql: "SELECT 1" }] })).rejects.toThrow(/not a positive integer/);
    await expect(runMigrations(db.pool, { schema: "Bad-Name", migrations: MIGRATIONS })).rejects.toThrow(/invalid schema name/);
    const { rows } = await db.pool.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    expect(rows).toHaveLength(0);
  });

  it("rolls a failing migration back and keeps the ones before it", async () => {
    const schema = db.newSchema();
    const failing: Migration[] = [CREATE_ITEMS, { version: 2, name: "half done", sql: "CREATE TABLE other (id integer); SELECT 1 / 0" }];
    await expect(runMigrations(db.pool, { schema, migrations: failing })).rejects.toThrow(/migration 2 \(half done\) of schema t_\w+ failed: division by zero/);
    expect(await recorded(schema)).toEqual([{ version: 1, name: "create items" }]);
    const { rows } = await db.pool.query("SELECT to_regclass($1) AS other", [`${schema}.other`]);
    expect(rows).toEqual([{ other: null }]);

    // Fixed, it applies on the next start.
    expect(await runMigrations(db.pool, { schema, migrations: MIGRATIONS })).toEqual([2]);
  });
});
