// Test support, not exported from the package: a database for this library's own tests.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Pool } from "pg";
import { createPool } from "./create-pool.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres.js";

export interface TestDatabase {
  readonly url: string;
  readonly pool: Pool;
  /** A schema name no other run uses; dropped by close(). */
  newSchema(): string;
  close(): Promise<void>;
}

/**
 * The server named by `databaseUrl` (CI passes DATABASE_URL), else an embedded one in a temporary
 * directory. Every schema handed out is unique to this run, so concurrent runs share a server safely.
 */
export async function openTestDatabase(databaseUrl: string | undefined): Promise<TestDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let dir: string | undefined;
  if (databaseUrl === undefined || databaseUrl === "") {
    dir = await makeTempDir();
    embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, "pg") });
  }
  const url = embedded?.url ?? databaseUrl ?? "";
  const pool = createPool({ url, max: 6, applicationName: "granary-postgres-test" });
  const schemas: string[] = [];
  return {
    url,
    pool,
    newSchema() {
      const schema = `t_${randomBytes(6).toString("hex")}`;
      schemas.push(schema);
      return schema;
    },
    async close() {
      try {
        for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await pool.end();
        await embedded?.stop();
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * mkdtemp creates the directory 0700; as root, PostgreSQL runs as user postgres, which must be able
 * to enter it.
 */
export async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "granary-pg-"));
  await chmod(dir, 0o755);
  return dir;
}
