import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

/**
 * The PostgreSQL tests run against: DATABASE_URL when set (CI's real server), else the embedded
 * server jest's global setup started for this run (GRANARY_TEST_DATABASE_URL).
 */
export function testServerUrl(): string {
  const url = process.env.DATABASE_URL || process.env.GRANARY_TEST_DATABASE_URL;
  if (!url) throw new Error("no test PostgreSQL: set DATABASE_URL, or run through jest so global setup starts one");
  recordPostgresUser();
  return url;
}

/**
 * With GRANARY_TEST_POSTGRES_USERS set to a folder, notes there that the running test file uses
 * PostgreSQL: CI's second pass, on the embedded server, runs the files that do (and those that
 * start PostgreSQL themselves), not again those that never touch it.
 */
function recordPostgresUser(): void {
  const dir = process.env.GRANARY_TEST_POSTGRES_USERS;
  const testPath = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.().testPath;
  if (!dir || !testPath) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, createHash("sha256").update(testPath).digest("hex").slice(0, 16)), testPath);
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the test server, so test files never see each other's rows. */
export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await withAdminClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withAdminClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
