import type { Logger } from "@granary/telemetry";
import type { OnlineConfig } from "../config.js";
import type { OnlineRunningService } from "./running-service.js";
import { LmdbOnlineStore } from "../store/lmdb-online-store.js";
import { openAnnIndexes } from "../ann/open-ann-indexes.js";
import type { FollowingReplicaLog, ReplicaStatus } from "../write/replica-log.js";
import { primaryMethods } from "./primary-methods.js";
import { followCatalogue } from "./serve-online.js";
import { WorkerPool } from "./worker-pool.js";
import { openReplicaLog, startWriting } from "./write-side.js";
import { serveWorkerMetrics } from "./worker-metrics.js";

/** How often the primary tells workers the write log's status when it changed (GetReplicaStatus, readiness). */
const STATUS_EVERY_MS = 250;

/**
 * The online service as a cluster primary (GRANARY_ONLINE_WORKERS > 1): the LMDB environment's one
 * writer (writes forwarded by workers, the write-log applier, the TTL sweeper) and the keeper of N
 * worker processes that serve gRPC on the shared port from read-only views of the same environment.
 * It serves no gRPC itself. docs/decisions/0007-online-workers.md says why.
 */
export async function startOnlinePrimary(config: OnlineConfig, log: Logger): Promise<OnlineRunningService> {
  const store = new LmdbOnlineStore(config.lmdb);
  const catalogue = followCatalogue(config, log);
  // The indexes live here, with the store's one writer; workers ask for candidates over IPC.
  const indexes = openAnnIndexes(store, config.lmdb.path, config.ann, catalogue.onChange, catalogue.cache.ready(), log);
  let replicaLog: FollowingReplicaLog | undefined;
  try {
    replicaLog = await openReplicaLog(config, store, catalogue, log);
  } catch (err) {
    await indexes.stop();
    await store.close();
    throw err;
  }
  const stopping = new AbortController();
  const stopWorkerMetrics = serveWorkerMetrics();
  const pool = new WorkerPool({ config, log, methods: primaryMethods(store, replicaLog, stopping.signal, indexes), status: () => replicaLog?.status() });
  catalogue.cache.start();
  const writing = startWriting(config, store, catalogue, replicaLog, log, () => pool.broadcastStatus());
  let sent: ReplicaStatus | undefined;
  const statusTimer = setInterval(() => {
    const status = replicaLog?.status();
    if (!status || (sent && sameStatus(sent, status))) return;
    sent = status;
    pool.broadcastStatus();
  }, STATUS_EVERY_MS);
  statusTimer.unref();
  const release = async () => {
    stopWorkerMetrics();
    clearInterval(statusTimer);
    stopping.abort();
    await writing.stop();
    await catalogue.cache.close();
    await indexes.stop();
    await store.close();
  };
  try {
    await pool.start();
  } catch (err) {
    await release();
    throw err;
  }
  // runMain adds its signal handlers once this returns; SERVING before would invite a SIGTERM
  // that ends this process without draining. The returned promise resolves right after this.
  setImmediate(() => pool.release());
  log.info(
    { address: pool.address, workers: config.workers, pids: pool.pids(), lmdb: config.lmdb.path, metadata: config.metadataAddress },
    "online service listening with workers; SERVING once each has loaded the catalogue",
  );
  return {
    name: "online",
    address: pool.address,
    ready: () => pool.ready(),
    workerPids: () => pool.pids(),
    beginShutdown: () => pool.beginShutdown(),
    async stop() {
      await pool.stop();
      await release();
    },
  };
}

function sameStatus(a: ReplicaStatus, b: ReplicaStatus): boolean {
  return a.appliedSequence === b.appliedSequence && a.logSequence === b.logSequence && a.withinBound === b.withinBound;
}
