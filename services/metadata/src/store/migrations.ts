import { loadMigrations, type Migration } from "@granary/postgres";

/** The metadata service's own schema in PostgreSQL. */
export const METADATA_SCHEMA = "granary_metadata";

/** store/sql/NNNN-name.sql, applied in order at start under an advisory lock. */
export const METADATA_MIGRATIONS: readonly Migration[] = loadMigrations(
  // Beside this file in the source; from a compiled bundle in dist/ (scripts/build.mjs), the same files.
  import.meta.url.endsWith(".ts") ? new URL("./sql/", import.meta.url) : new URL("../services/metadata/src/store/sql/", import.meta.url),
);
