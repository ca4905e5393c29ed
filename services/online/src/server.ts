import type { Logger } from "@granary/telemetry";
import type { OnlineConfig } from "./config.js";
import { startOnlinePrimary } from "./cluster/primary.js";
import type { OnlineRunningService } from "./cluster/running-service.js";
import { followCatalogue, serveOnline, type OnlineFront } from "./cluster/serve-online.js";
import { openReplicaLog, startWriting } from "./cluster/write-side.js";
import { LmdbOnlineStore } from "./store/lmdb-online-store.js";
import { openAnnIndexes } from "./ann/open-ann-indexes.js";
import type { FollowingReplicaLog } from "./write/replica-log.js";

export type { OnlineRunningService } from "./cluster/running-service.js";

/**
 * Opens the LMDB store and starts following the catalogue; SERVING once the catalogue cache is
 * current. A metadata outage later does not stop serving: lookups answer from the cache, which
 * catches up when the watch reconnects. With GRANARY_ONLINE_WORKERS > 1 this process becomes the
 * cluster primary: the store's one writer, with workers serving the port (cluster/primary.ts).
 */
export async function startOnlineService(config: OnlineConfig, logger: Logger): Promise<OnlineRunningService> {
  const log = logger.child({ component: "online" });
  if (config.workers > 1) return startOnlinePrimary(config, log);
  const store = new LmdbOnlineStore(config.lmdb);
  const catalogue = followCatalogue(config, log);
  const indexes = openAnnIndexes(store, config.lmdb.path, config.ann, catalogue.onChange, catalogue.cache.ready(), log);
  let replicaLog: FollowingReplicaLog | undefined;
  let front: OnlineFront;
  try {
    replicaLog = await openReplicaLog(config, store, catalogue, log);
    front = await serveOnline({ config, log, store, catalogue, replicaLog, neighbors: indexes });
  } catch (err) {
    await replicaLog?.log.close();
    await indexes.stop();
    await store.close();
    throw err;
  }
  catalogue.cache.start();
  const writing = startWriting(config, store, catalogue, replicaLog, log, (within) => front.setReady(within));
  log.info(
    { address: front.server.address, lmdb: config.lmdb.path, metadata: config.metadataAddress },
    "online service listening; SERVING once the catalogue is loaded",
  );
  return {
    name: "online",
    address: front.server.address,
    httpAddress: front.server.httpAddress,
    ready: () => catalogue.cache.ready(),
    workerPids: () => [process.pid],
    async stop() {
      await front.stop();
      await writing.stop();
      await catalogue.cache.close();
      await indexes.stop();
      await store.close();
    },
  };
}
