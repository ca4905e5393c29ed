import { CatalogueCache } from "@granary/catalogue-cache";
import { createServiceClient } from "@granary/service-clients";
import { serviceClientTls } from "@granary/config";
import { MetadataService } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { createRemoteAccess, createServer, defineService, serviceKeyOf, type RunningService } from "@granary/server";
import type { Logger } from "@granary/telemetry";
import type { OnlineConfig } from "./config.js";
import { createOnlineHandlers } from "./online-service.js";
import { LmdbOnlineStore } from "./store/lmdb-online-store.js";
import { groupsWithTtl, startTtlSweeper } from "./store/ttl-sweeper.js";
import { ModelResolver } from "./upstream/model-resolver.js";
import { ReplicaLog } from "./write/replica-log.js";
import { createWriteLog } from "@granary/write-log";
import { PlanCache } from "./vectors/plan-cache.js";

/**
 * Opens the LMDB store and starts following the catalogue; SERVING once the catalogue cache is
 * current. A metadata outage later does not stop serving: lookups answer from the cache, which
 * catches up when the watch reconnects.
 */
export async function startOnlineService(config: OnlineConfig, logger: Logger): Promise<RunningService> {
  const log = logger.child({ component: "online" });
  const store = new LmdbOnlineStore(config.lmdb);
  let plans: PlanCache | undefined;
  // Readiness: the catalogue loaded and, with a write log, this replica within GRANARY_ONLINE_MAX_LAG of it.
  const ready = { catalogue: false, lag: true };
  const updateServing = () => server.setServing(ready.catalogue && ready.lag);
  const serviceKey = serviceKeyOf(config.common.auth);
  const metadata = createServiceClient(MetadataService, config.metadataAddress, { apiKey: serviceKey, tls: serviceClientTls(config.server) });
  const catalogue: CatalogueCache = new CatalogueCache(metadata, {
    logger: log,
    // Commits arrive with every insert; only definitions change what a plan compiles to.
    onChange: (change) => {
      remote.onChange(change);
      if (change.resource.case !== "commit") plans?.invalidate();
    },
    onCurrent: (current) => {
      if (current) {
        ready.catalogue = true;
        updateServing();
      }
      log.info({ current }, current ? "catalogue is current" : "catalogue watch interrupted; serving from the cache");
    },
  });
  let replicaLog: ReplicaLog | undefined;
  if (config.common.natsUrl) {
    try {
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
      replicaLog = new ReplicaLog(
        { log: writeLog, store, catalogue, logger: log.child({ component: "write-log" }) },
        { ...config.writeLog, maxFutureEventTimeS: config.common.maxFutureEventTimeS },
      );
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  const remote = createRemoteAccess({ auth: config.common.auth, serviceKey, service: "online", metadata, lookups: catalogue, logger: log });
  plans = new PlanCache(catalogue);
  const server = createServer({
    name: "online",
    config: config.server,
    logger: log,
    access: remote.access,
    services: [
      defineService(
        OnlineService,
        createOnlineHandlers({
          store,
          catalogue,
          plans,
          models: new ModelResolver(createServiceClient(RegistryService, config.registryAddress, { apiKey: serviceKey, tls: serviceClientTls(config.server) })),
          maxRows: config.maxRows,
          maxFutureEventTimeS: config.common.maxFutureEventTimeS,
          replicaLog,
        }),
      ),
    ],
  });
  try {
    await server.start();
  } catch (err) {
    await replicaLog?.log.close();
    await store.close();
    throw err;
  }
  catalogue.start();
  replicaLog?.start((within) => {
    if (ready.lag !== within)
      log.info({ within, ...replicaLog?.status() }, within ? "write-log lag within bound" : "write-log lag above GRANARY_ONLINE_MAX_LAG: NOT_SERVING");
    ready.lag = within;
    updateServing();
  });
  const sweeper = startTtlSweeper(store, groupsWithTtl(catalogue), config.sweepIntervalMs, log);
  log.info(
    { address: server.address, lmdb: config.lmdb.path, metadata: config.metadataAddress },
    "online service listening; SERVING once the catalogue is loaded",
  );
  return {
    name: "online",
    address: server.address,
    ready: () => catalogue.ready(),
    async stop() {
      await server.shutdown();
      await replicaLog?.stop();
      await replicaLog?.log.close();
      await sweeper.stop();
      await catalogue.close();
      await remote.close();
      await store.close();
    },
  };
}
