import { EnvReader, readCommonConfig, readServerConfig, readServiceAddress, type CommonConfig, type Env, type ServerConfig } from "@granary/config";
import { join } from "node:path";

/** Where a test may make the service die, to check that a restart converges (never set in production). */
export type CrashPoint = "after-files" | "after-commit";

export interface OfflineConfig {
  readonly server: ServerConfig;
  readonly common: CommonConfig;
  /** Root of the Parquet history: <root>/<project>/<group>/v<version>/<commit sequence>/part-*.parquet */
  readonly dataRoot: string;
  readonly duckdb: {
    readonly threads: number;
    /** DuckDB's memory limit, such as "1GB"; it spills to disk beyond it. */
    readonly memoryLimit: string;
    /** Queries running at once; more wait their turn, so one large query cannot starve the rest. */
    readonly maxQueries: number;
  };
  /**
   * Offline streams (Read, ReadChanges, GetTrainingData, GetBatchData, ReadTrainingDataset,
   * CreateTrainingDataset) one project may have open at once; more are refused with
   * RESOURCE_EXHAUSTED. A stream holds a DuckDB connection while it runs, so this only keeps other
   * projects served while it is below `duckdb.maxQueries` (defaults: 4 of 8).
   */
  readonly maxStreamsPerProject: number;
  readonly metadataAddress: string;
  readonly onlineAddress: string;
  /** How long Insert waits for the online push of its commit before answering anyway. */
  readonly onlinePushWaitMs: number;
  /**
   * Attempts of one commit's online push before it is parked (ONLINE_SYNC_STATE_PARKED, visible in
   * ListCommits); a poison entry must never be retried forever.
   */
  readonly onlinePushMaxAttempts: number;
  /** Target size of one Arrow message (reads) and of one online WriteRows request. */
  readonly messageBytes: number;
  /**
   * How long the start waits for the catalogue and the data-root check (see startOfflineService):
   * a refusal within it rejects the start; after it the check goes on in the background.
   */
  readonly startWaitMs: number;
  /**
   * With GRANARY_NATS_URL: rows pushed to the write log are committed to history in micro-batches
   * of at most `maxRows` rows (GRANARY_OFFLINE_STREAM_MAX_ROWS) gathered for at most `maxMs`
   * (GRANARY_OFFLINE_STREAM_MAX_MS), one commit per group per micro-batch.
   */
  readonly stream: { readonly maxRows: number; readonly maxMs: number };
  /** Background compaction (see docs/offline.md, Lifecycle). */
  readonly compaction: {
    /** How often groups are checked (GRANARY_OFFLINE_COMPACTION_INTERVAL_S, 300; 0: never in the background). */
    readonly intervalMs: number;
    /** A group is compacted once this many files were written since its last compaction (GRANARY_OFFLINE_COMPACTION_MIN_FILES, 16). */
    readonly minFiles: number;
    /** Size of the files a compaction writes (GRANARY_OFFLINE_COMPACTION_FILE_MB, 256). */
    readonly fileBytes: number;
    /** How long replaced files stay for reads that started before (GRANARY_OFFLINE_COMPACTION_GRACE_S, 300); an erase waits 1 s. */
    readonly graceMs: number;
  };
  /** Testing only (GRANARY_OFFLINE_CRASH_AT): kill the process at this step of every insert. */
  readonly crashAt: CrashPoint | undefined;
}

export function loadOfflineConfig(env: Env = process.env): Readonly<OfflineConfig> {
  const r = new EnvReader(env);
  const common = readCommonConfig(r, "granary-offline");
  const memoryLimit = r.string("GRANARY_OFFLINE_DUCKDB_MEMORY", "1GB");
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(memoryLimit)) {
    r.problem(`GRANARY_OFFLINE_DUCKDB_MEMORY must be a size such as 1GB, got "${memoryLimit}"`);
  }
  const crash = r.string("GRANARY_OFFLINE_CRASH_AT", "");
  if (crash !== "" && crash !== "after-files" && crash !== "after-commit") {
    r.problem(`GRANARY_OFFLINE_CRASH_AT must be after-files or after-commit, got "${crash}"`);
  }
  const config: OfflineConfig = {
    server: readServerConfig(r, "offline"),
    common,
    dataRoot: r.string("GRANARY_OFFLINE_DATA_ROOT", join(common.dataDir, "offline")),
    duckdb: {
      threads: r.int("GRANARY_OFFLINE_DUCKDB_THREADS", 2, { min: 1, max: 256 }),
      memoryLimit,
      maxQueries: r.int("GRANARY_OFFLINE_MAX_QUERIES", 8, { min: 1, max: 64 }),
    },
    maxStreamsPerProject: r.int("GRANARY_OFFLINE_MAX_STREAMS_PER_PROJECT", 4, { min: 1, max: 1024 }),
    metadataAddress: readServiceAddress(r, "metadata"),
    onlineAddress: readServiceAddress(r, "online"),
    onlinePushWaitMs: r.int("GRANARY_OFFLINE_ONLINE_PUSH_WAIT_MS", 15_000, { min: 0, max: 600_000 }),
    onlinePushMaxAttempts: r.int("GRANARY_OFFLINE_ONLINE_PUSH_MAX_ATTEMPTS", 10, { min: 1, max: 1000 }),
    messageBytes: r.int("GRANARY_OFFLINE_MESSAGE_BYTES", 1024 * 1024, { min: 4096, max: 3 * 1024 * 1024 }),
    startWaitMs: r.int("GRANARY_OFFLINE_START_WAIT_MS", 5_000, { min: 0, max: 600_000 }),
    stream: {
      maxRows: r.int("GRANARY_OFFLINE_STREAM_MAX_ROWS", 50_000, { min: 1, max: 10_000_000 }),
      maxMs: r.int("GRANARY_OFFLINE_STREAM_MAX_MS", 1000, { min: 0, max: 600_000 }),
    },
    compaction: {
      intervalMs: r.int("GRANARY_OFFLINE_COMPACTION_INTERVAL_S", 300, { min: 0, max: 86_400 }) * 1000,
      minFiles: r.int("GRANARY_OFFLINE_COMPACTION_MIN_FILES", 16, { min: 2, max: 100_000 }),
      fileBytes: r.int("GRANARY_OFFLINE_COMPACTION_FILE_MB", 256, { min: 1, max: 16_384 }) * 1024 * 1024,
      graceMs: r.int("GRANARY_OFFLINE_COMPACTION_GRACE_S", 300, { min: 0, max: 86_400 }) * 1000,
    },
    crashAt: crash === "" ? undefined : (crash as CrashPoint),
  };
  r.finish();
  return Object.freeze(config);
}
