import { loadMigrations, type Migration } from "@granary/postgres";

/** The registry's own schema in PostgreSQL, apart from the metadata service's. */
export const REGISTRY_SCHEMA = "granary_registry";

/** store/sql/NNNN-name.sql, applied in order at start under an advisory lock. */
export const REGISTRY_MIGRATIONS: readonly Migration[] = loadMigrations(
  // Beside this file in the source; from a compiled bundle in dist/ (scripts/build.mjs), the same files.
  import.meta.url.endsWith(".ts") ? new URL("./sql/", import.meta.url) : new URL("../services/registry/src/store/sql/", import.meta.url),
);
