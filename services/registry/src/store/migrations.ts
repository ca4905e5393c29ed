import { loadMigrations, type Migration } from "@granary/postgres";

/** The registry's own schema in PostgreSQL, apart from the metadata service's. */
export const REGISTRY_SCHEMA = "granary_registry";

/** store/sql/NNNN-name.sql, applied in order at start under an advisory lock. */
export const REGISTRY_MIGRATIONS: readonly Migration[] = loadMigrations(new URL("./sql/", import.meta.url));
