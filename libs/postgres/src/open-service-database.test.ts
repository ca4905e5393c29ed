import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { openServiceDatabase } from "./open-service-database.js";
import { openTestDatabase, type TestDatabase } from "./test-database.js";

let db: TestDatabase;

beforeAll(async () => {
  db = await openTestDatabase(process.env["DATABASE_URL"]);
});

afterAll(async () => {
  await db?.close();
});

const silent = { info: () => {}, warn: () => {}, error: () => {} };

describe("openServiceDatabase", () => {
  it("migrates the service's schema and hands out a pool; close is idempotent", async () => {
    const schema = db.newSchema();
    const migrations = [{ version: 1, name: "things", sql: "CREATE TABLE things (id integer)" }];
    const database = await openServiceDatabase({
      databaseUrl: db.url,
      embeddedDataDir: "/nonexistent/not-used-with-a-url",
      schema,
      migrations,
      logger: silent,
    });
    expect(database.embedded).toBeUndefined();
    expect((await database.pool.query(`SELECT count(*)::int AS n FROM ${schema}.things`)).rows).toEqual([{ n: 0 }]);
    await Promise.all([database.close(), database.close()]);
  });

  it("closes what it opened when a migration fails", async () => {
    const schema = db.newSchema();
    const migrations = [{ version: 1, name: "broken", sql: "CREATE TABLE" }];
    await expect(openServiceDatabase({ databaseUrl: db.url, embeddedDataDir: "/unused", schema, migrations, logger: silent })).rejects.toThrow(
      /migration 1 \(broken\)/,
    );
  });
});
