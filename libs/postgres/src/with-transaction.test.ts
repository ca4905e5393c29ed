import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AbortedError, UnavailableError } from "@granary/errors";
import type { Pool } from "pg";
import { createPool } from "./create-pool.js";
import { openTestDatabase, type TestDatabase } from "./test-database.js";
import { translatePgError } from "./translate-pg-error.js";
import { withTransaction } from "./with-transaction.js";

let db: TestDatabase;
let table: string;
// One connection only: a client that was not released would make the next test hang.
let single: Pool;

beforeAll(async () => {
  db = await openTestDatabase(process.env["DATABASE_URL"]);
  const schema = db.newSchema();
  table = `${schema}.counters`;
  await db.pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${table} (id integer PRIMARY KEY, n integer NOT NULL)`);
  single = createPool({ url: db.url, max: 1 });
});

afterAll(async () => {
  await single?.end();
  await db?.close();
});

async function count(id: number): Promise<number | undefined> {
  const { rows } = await db.pool.query<{ n: number }>(`SELECT n FROM ${table} WHERE id = $1`, [id]);
  return rows[0]?.n;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("withTransaction", () => {
  it("commits and returns what the function returns", async () => {
    const result = await withTransaction(single, async (client) => {
      await client.query(`INSERT INTO ${table} VALUES (1, 10)`);
      return "done";
    });
    expect(result).toBe("done");
    expect(await count(1)).toBe(10);
  });

  it("rolls back and rethrows the same error when the function throws", async () => {
    const failure = new Error("changed my mind");
    const err = await caught(
      withTransaction(single, async (client) => {
        await client.query(`INSERT INTO ${table} VALUES (2, 20)`);
        await client.query(`UPDATE ${table} SET n = 11 WHERE id = 1`);
        throw failure;
      }),
    );
    expect(err).toBe(failure);
    expect(await count(2)).toBeUndefined();
    expect(await count(1)).toBe(10);
    // The only connection went back to the pool, and not in the middle of a transaction.
    const { rows } = await single.query("SELECT now() = statement_timestamp() AS outside_transaction");
    expect(rows).toEqual([{ outside_transaction: true }]);
  });

  it("uses the isolation level asked for", async () => {
    const level = await withTransaction(single, async (client) => (await client.query("SHOW transaction_isolation")).rows[0], {
      isolation: "serializable",
    });
    expect(level).toEqual({ transaction_isolation: "serializable" });
  });

  it("surfaces a lost race as a serialization failure that translates to Aborted", async () => {
    await db.pool.query(`INSERT INTO ${table} VALUES (3, 0)`);
    const err = await caught(
      withTransaction(
        db.pool,
        async (client) => {
          await client.query(`SELECT n FROM ${table} WHERE id = 3`);
          // Another connection commits a change to the row after this transaction's snapshot.
          await db.pool.query(`UPDATE ${table} SET n = n + 1 WHERE id = 3`);
          await client.query(`UPDATE ${table} SET n = n + 1 WHERE id = 3`);
        },
        { isolation: "repeatable read" },
      ),
    );
    expect(translatePgError(err)).toBeInstanceOf(AbortedError);
    expect(await count(3)).toBe(1);
  });

  it("destroys a client whose connection broke, and the pool recovers", async () => {
    const err = await caught(
      withTransaction(single, async (client) => {
        await client.query("SELECT pg_terminate_backend(pg_backend_pid())");
      }),
    );
    expect(translatePgError(err)).toBeInstanceOf(UnavailableError);
    expect(await withTransaction(single, async (client) => (await client.query("SELECT 1 AS ok")).rows)).toEqual([{ ok: 1 }]);
  });
});
