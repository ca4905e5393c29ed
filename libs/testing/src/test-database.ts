import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The PostgreSQL tests run against: DATABASE_URL when set (CI's real server), else the embedded
 * server jest's global setup started for this run (GRANARY_TEST_DATABASE_URL).
 */
export function testServerUrl(): string {
  const url = process.env.DATABASE_URL || process.env.GRANARY_TEST_DATABASE_URL;
  if (!url) throw new Error("no test PostgreSQL: set DATABASE_URL, or run through jest so global setup starts one");
  return url;
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
