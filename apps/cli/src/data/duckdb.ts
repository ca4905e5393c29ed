import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";

/** An in-memory DuckDB that spills to its own temporary directory, removed on close. */
export interface Duck {
  readonly connection: DuckDBConnection;
  close(): Promise<void>;
}

export async function openDuck(): Promise<Duck> {
  const spill = await mkdtemp(join(tmpdir(), "granary-cli-"));
  const instance = await DuckDBInstance.create(":memory:", { temp_directory: spill });
  const connection = await instance.connect();
  // Timestamps with a zone are written and cast in UTC whatever the machine's zone.
  await connection.run("SET TimeZone = 'UTC'").catch(() => undefined);
  return {
    connection,
    async close() {
      connection.closeSync();
      instance.closeSync();
      await rm(spill, { recursive: true, force: true });
    },
  };
}

/** A string literal for SQL (file paths in read_parquet and COPY). */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** DuckDB's message without its "Conversion Error: " style prefix lines beyond the first. */
export function duckMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0]!.trim();
}
