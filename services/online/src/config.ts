import { EnvReader, readCommonConfig, readServerConfig, readServiceAddress, type CommonConfig, type Env, type ServerConfig } from "@granary/config";
import { hostname } from "node:os";
import { join } from "node:path";
import { readAnnConfig, type AnnConfig } from "./ann/ann-config.js";

export interface OnlineConfig {
  readonly server: ServerConfig;
  readonly common: CommonConfig;
  readonly lmdb: {
    /** Directory of the LMDB environment. */
    readonly path: string;
    /** Largest size the store may grow to; LMDB reserves it as address space, not memory. */
    readonly mapSizeBytes: number;
  };
  /**
   * GRANARY_ONLINE_WORKERS: processes serving gRPC on the shared port. 1 runs everything in this
   * process, as before; N > 1 makes it a cluster primary that owns the only LMDB writer and forks N
   * workers reading the same environment (docs/decisions/0007-online-workers.md).
   */
  readonly workers: number;
  /** Most rows (entities) in one request; more get RESOURCE_EXHAUSTED. */
  readonly maxRows: number;
  /** How often rows older than their group's TTL are purged. */
  readonly sweepIntervalMs: number;
  readonly metadataAddress: string;
  /** Where GetModelFeatureVectors resolves models and aliases. */
  readonly registryAddress: string;
  /** Where the service's own feature logging sends the vectors it served (LogFeatures). */
  readonly offlineAddress: string;
  /** The service's own feature logging (views with FeatureLogging.online_enabled). */
  readonly featureLog: {
    /** Most vectors waiting to be logged (GRANARY_ONLINE_FEATURE_LOG_QUEUE); more are dropped and counted. */
    readonly capacity: number;
    /** How often waiting vectors are sent to the offline service (GRANARY_ONLINE_FEATURE_LOG_INTERVAL_MS). */
    readonly intervalMs: number;
  };
  /** The nearest-neighbour indexes of embedding columns (FindNeighbors). */
  readonly ann: AnnConfig;
  /** The write log this replica follows (GRANARY_NATS_URL set); without it writes go to the store directly. */
  readonly writeLog: {
    /** This replica's name in status and logs (GRANARY_ONLINE_REPLICA; the host name by default, the pod's in Kubernetes). */
    readonly replica: string;
    /** Readiness is NOT_SERVING while this replica is more than this many log messages behind (GRANARY_ONLINE_MAX_LAG). */
    readonly maxLag: number;
    /** How long WriteRows waits for this replica to apply its own batch before answering (GRANARY_ONLINE_APPLY_WAIT_MS). */
    readonly applyWaitMs: number;
    /** How long a read with min_log_sequence waits for this replica to catch up before UNAVAILABLE (GRANARY_ONLINE_READ_WAIT_MS). */
    readonly readWaitMs: number;
  };
}

export interface OnlineConfigDefaults {
  /**
   * Workers when GRANARY_ONLINE_WORKERS is unset: 1 for the library (tests, benches and the
   * one-process suite keep one process); main.ts, which containers run, passes the core count.
   */
  readonly workers?: number;
}

/** Most workers one online process forks; past this the primary's single writer is the limit anyway. */
export const MAX_ONLINE_WORKERS = 64;

export function loadOnlineConfig(env: Env = process.env, defaults: OnlineConfigDefaults = {}): Readonly<OnlineConfig> {
  const r = new EnvReader(env);
  const common = readCommonConfig(r, "granary-online");
  const config: OnlineConfig = {
    server: readServerConfig(r, "online"),
    common,
    lmdb: {
      path: r.string("GRANARY_ONLINE_LMDB_PATH", join(common.dataDir, "online")),
      mapSizeBytes: r.int("GRANARY_ONLINE_MAP_SIZE_MB", 64 * 1024, { min: 16, max: 64 * 1024 * 1024 }) * 1024 * 1024,
    },
    workers: r.int("GRANARY_ONLINE_WORKERS", Math.min(Math.max(defaults.workers ?? 1, 1), MAX_ONLINE_WORKERS), { min: 1, max: MAX_ONLINE_WORKERS }),
    maxRows: r.int("GRANARY_ONLINE_MAX_ROWS", 10_000, { min: 1, max: 1_000_000 }),
    sweepIntervalMs: r.int("GRANARY_ONLINE_SWEEP_INTERVAL_S", 300, { min: 1, max: 86_400 }) * 1000,
    metadataAddress: readServiceAddress(r, "metadata"),
    registryAddress: readServiceAddress(r, "registry"),
    offlineAddress: readServiceAddress(r, "offline"),
    featureLog: {
      capacity: r.int("GRANARY_ONLINE_FEATURE_LOG_QUEUE", 10_000, { min: 1, max: 10_000_000 }),
      intervalMs: r.int("GRANARY_ONLINE_FEATURE_LOG_INTERVAL_MS", 1000, { min: 10, max: 600_000 }),
    },
    ann: readAnnConfig(r),
    writeLog: {
      replica: r.string("GRANARY_ONLINE_REPLICA", hostname()),
      maxLag: r.int("GRANARY_ONLINE_MAX_LAG", 1000, { min: 0, max: 1_000_000_000 }),
      applyWaitMs: r.int("GRANARY_ONLINE_APPLY_WAIT_MS", 5000, { min: 0, max: 600_000 }),
      readWaitMs: r.int("GRANARY_ONLINE_READ_WAIT_MS", 500, { min: 0, max: 60_000 }),
    },
  };
  r.finish();
  return Object.freeze(config);
}
