import type { CatalogueCache } from "@granary/catalogue-cache";
import type { Logger } from "@granary/telemetry";
import type { DuckEngine } from "../duck/index.js";
import type { CommitLayout } from "../store/commit-layout.js";
import type { CommitLog } from "../store/commit-log.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";

/** What the training and batch data RPCs work with. */
export interface TrainingDeps {
  readonly catalogue: CatalogueCache;
  readonly commits: CommitLog;
  readonly engine: DuckEngine;
  readonly layout: CommitLayout;
  readonly metadata: MetadataWriter;
  readonly messageBytes: number;
  readonly logger: Logger;
}
