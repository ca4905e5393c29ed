import type { Pool } from "pg";
import type { Logger } from "@granary/telemetry";
import type { BlobStore } from "../store/blob-store.js";

/** What moving artifact content needs. */
export interface ArtifactDeps {
  readonly pool: Pool;
  readonly blobs: BlobStore;
  readonly maxArtifactBytes: number;
  readonly logger: Logger;
}
