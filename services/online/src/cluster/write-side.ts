import { createWriteLog } from "@granary/write-log";
import type { Logger } from "@granary/telemetry";
import type { OnlineConfig } from "../config.js";
import type { OnlineStore } from "../store/online-store.js";
import { groupsWithTtl, startTtlSweeper } from "../store/ttl-sweeper.js";
import { FollowingReplicaLog } from "../write/replica-log.js";
import type { FollowedCatalogue } from "./serve-online.js";

/** The write log this process follows into its store (GRANARY_NATS_URL set), not started yet. */
export async function openReplicaLog(
  config: OnlineConfig,
  store: OnlineStore,
  catalogue: FollowedCatalogue,
  log: Logger,
): Promise<FollowingReplicaLog | undefined> {
  if (!config.common.natsUrl) return undefined;
  const { stream, subjectPrefix, replicas, maxAgeMs } = config.common.writeLog;
  const writeLog = await createWriteLog({
    kind: "jetstream",
    url: config.common.natsUrl,
    stream,
    deadStream: `${stream}_DEAD`,
    subjectPrefix,
    deadSubjectPrefix: `${subjectPrefix}-dead`,
    replicas,
    maxAgeMs,
    clientName: `granary-online-${config.writeLog.replica}`,
  });
  return new FollowingReplicaLog(
    { log: writeLog, store, catalogue: catalogue.cache, logger: log.child({ component: "write-log" }) },
    { ...config.writeLog, maxFutureEventTimeS: config.common.maxFutureEventTimeS },
  );
}

/**
 * What only the store's writer does: follow the write log into the store (the lag heard through
 * `onBound`) and purge expired rows. One process of a replica runs it: the only one, or the primary.
 */
export function startWriting(
  config: OnlineConfig,
  store: OnlineStore,
  catalogue: FollowedCatalogue,
  replicaLog: FollowingReplicaLog | undefined,
  log: Logger,
  onBound: (within: boolean) => void,
): { stop(): Promise<void> } {
  replicaLog?.start((within) => {
    log.info({ within, ...replicaLog.status() }, within ? "write-log lag within bound" : "write-log lag above GRANARY_ONLINE_MAX_LAG: NOT_SERVING");
    onBound(within);
  });
  const sweeper = startTtlSweeper(store, groupsWithTtl(catalogue.cache), config.sweepIntervalMs, log);
  return {
    async stop() {
      await replicaLog?.stop();
      await replicaLog?.log.close();
      await sweeper.stop();
    },
  };
}
