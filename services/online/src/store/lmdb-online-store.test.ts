import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LmdbOnlineStore } from "./lmdb-online-store.js";
import { describeOnlineStoreContract } from "./online-store.contract.js";

describeOnlineStoreContract("LMDB", async () => {
  const dir = mkdtempSync(join(tmpdir(), "granary-lmdb-"));
  return {
    store: new LmdbOnlineStore({ path: dir, mapSizeBytes: 64 * 1024 * 1024 }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
