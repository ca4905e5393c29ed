import { createHash } from "node:crypto";
import type { Pool, PoolClient } from "pg";

export interface Migration {
  /** Positive integer; a list's versions strictly increase. Never renumber an applied migration. */
  version: number;
  name: string;
  /**
   * One or more statements, run in a transaction with `search_path` set to the schema (then
   * `public`), so unqualified names land in the schema. No COMMIT and nothing that cannot run in a
   * transaction, such as CREATE INDEX CONCURRENTLY.
   */
  sql: string;
}

export interface RunMigrationsOptions {
  /** The schema the migrations own, such as `metadata`; a lowercase SQL identifier. */
  schema: string;
  migrations: readonly Migration[];
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Brings `schema` up to date: creates it and its `schema_migrations` table if missing, then applies
 * each migration not recorded there, in version order, each in its own transaction together with
 * its record. Everything happens under a session advisory lock keyed by the schema name, so replicas
 * starting together take turns: the second waits, then finds nothing left to do. Returns the
 * versions applied by this call. A failing migration is rolled back and rethrown; the ones before
 * it stay applied.
 */
export async function runMigrations(pool: Pool, options: RunMigrationsOptions): Promise<number[]> {
  const { schema, migrations } = options;
  checkSchema(schema);
  checkMigrations(migrations);
  // Quoted although the name is checked, so reserved words such as `user` work too.
  const ident = `"${schema}"`;
  const table = `${ident}.schema_migrations`;

  const client = await pool.connect();
  // Checked-out clients have no 'error' listener; a dropped connection would crash the process.
  // The pending query rejects anyway, which is what reports the failure.
  client.on("error", () => undefined);
  try {
    // Waiting for the lock and running a migration may both outlast the pool's statement_timeout.
    await client.query("SET statement_timeout = 0");
    await client.query("SELECT pg_advisory_lock($1::bigint)", [lockKey(schema)]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${table}`);
    const applied = new Set(rows.map((row) => row.version));
    const appliedNow: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await apply(client, schema, migration);
      appliedNow.push(migration.version);
    }
    return appliedNow;
  } finally {
    // Destroying the connection releases the advisory lock even if an unlock could not be sent,
    // and keeps the session settings above out of the pool.
    client.release(true);
  }
}

async function apply(client: PoolClient, schema: string, migration: Migration): Promise<void> {
  try {
    await client.query("BEGIN");
    await client.query(`SET LOCAL search_path TO "${schema}", public`);
    await client.query(migration.sql);
    await client.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`migration ${migration.version} (${migration.name}) of schema ${schema} failed: ${reason}`, {
      cause: err,
    });
  }
}

/**
 * A stable signed 64-bit key for pg_advisory_lock. Hashing the schema name keeps services that own
 * different schemas in one database from waiting for each other; the prefix keeps the key apart
 * from advisory locks taken for other purposes.
 */
function lockKey(schema: string): string {
  return createHash("sha256").update(`granary.migrations:${schema}`).digest().readBigInt64BE(0).toString();
}

function checkSchema(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}: use lowercase letters, digits and _`);
  }
}

function checkMigrations(migrations: readonly Migration[]): void {
  let previous: Migration | undefined;
  for (const migration of migrations) {
    if (!Number.isSafeInteger(migration.version) || migration.version < 1 || migration.version > 2_147_483_647) {
      throw new Error(`migration ${JSON.stringify(migration.name)}: version ${migration.version} is not a positive integer`);
    }
    if (previous !== undefined && migration.version === previous.version) {
      throw new Error(`duplicate migration version ${migration.version}: ${JSON.stringify(previous.name)} and ${JSON.stringify(migration.name)}`);
    }
    if (previous !== undefined && migration.version < previous.version) {
      throw new Error(
        `migration versions must increase: ${migration.version} (${JSON.stringify(migration.name)}) ` +
          `comes after ${previous.version} (${JSON.stringify(previous.name)})`,
      );
    }
    previous = migration;
  }
}
