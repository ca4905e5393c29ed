// Plain ESM: jest loads global setup outside its module system (no moduleNameMapper, CommonJS
// loader), so the TypeScript sources are loaded through tsx instead.
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tsImport } from "tsx/esm/api";
import { ensureBuilt } from "../scripts/build.mjs";

// With DATABASE_URL unset, one embedded PostgreSQL serves the whole run; workers inherit its URL
// through the environment and create a database per test file on it.
export default async function globalSetup() {
  // Tests that start services as processes, or the CLI, run the compiled bundles: fresh ones.
  await ensureBuilt({ quiet: true });
  if (process.env.DATABASE_URL) return;
  const { startEmbeddedPostgres } = await tsImport("../libs/postgres/src/index.ts", import.meta.url);
  const dataDir = mkdtempSync(join(tmpdir(), "granary-test-pg-"));
  // mkdtemp makes it 0700; run as root, PostgreSQL drops to the postgres user, who must enter it.
  chmodSync(dataDir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: join(dataDir, "postgres") });
  process.env.GRANARY_TEST_DATABASE_URL = server.url;
  globalThis.granaryTestPostgres = { server, dataDir };
}
