import { readFileSync, readdirSync } from "node:fs";
import type { Migration } from "./run-migrations.js";

/**
 * The migrations in a directory of `NNNN-name.sql` files, in order. A released file is never
 * edited: a change is a new file.
 */
export function loadMigrations(dir: URL): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(new URL(file, dir), "utf8"),
    }));
}
