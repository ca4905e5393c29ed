import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeBlobStoreContract } from "./blob-store.contract.js";
import { createFsBlobStore } from "./fs-blob-store.js";

describeBlobStoreContract("filesystem", async () => {
  const dir = mkdtempSync(join(tmpdir(), "granary-blobs-"));
  return { store: createFsBlobStore(dir, "test-host"), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
