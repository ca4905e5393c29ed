import type { Client } from "@connectrpc/connect";
import { CatalogueCache } from "@granary/catalogue-cache";
import { serviceClientTls } from "@granary/config";
import { MetadataService, type Change } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { OfflineService } from "@granary/proto/offline";
import { RegistryService } from "@granary/proto/registry";
import { createRemoteAccess, createServer, defineService, serviceKeyOf, type GranaryServer } from "@granary/server";
import { createServiceClient } from "@granary/service-clients";
import type { Logger } from "@granary/telemetry";
import type { OnlineConfig } from "../config.js";
import { FeatureLogger } from "../logging/feature-logger.js";
import { createOnlineHandlers } from "../online-service.js";
import type { OnlineStore } from "../store/online-store.js";
import { ModelResolver } from "../upstream/model-resolver.js";
import { PlanCache } from "../vectors/plan-cache.js";
import type { ReplicaLog } from "../write/replica-log.js";
import type { NeighborSource } from "../ann/neighbor-search.js";

/** The catalogue cache of one process, with listeners added by the parts that depend on it. */
export interface FollowedCatalogue {
  readonly cache: CatalogueCache;
  readonly metadata: Client<typeof MetadataService>;
  onChange(listener: (change: Change) => void): void;
  onCurrent(listener: (current: boolean) => void): void;
}

/** A catalogue cache following the metadata service; start it with `cache.start()` once its listeners are in place. */
export function followCatalogue(config: OnlineConfig, log: Logger): FollowedCatalogue {
  const changeListeners: ((change: Change) => void)[] = [];
  const currentListeners: ((current: boolean) => void)[] = [];
  const metadata = createServiceClient(MetadataService, config.metadataAddress, {
    apiKey: serviceKeyOf(config.common.auth),
    tls: serviceClientTls(config.server),
  });
  const cache = new CatalogueCache(metadata, {
    logger: log,
    onChange: (change) => changeListeners.forEach((listener) => listener(change)),
    onCurrent: (current) => {
      currentListeners.forEach((listener) => listener(current));
      log.info({ current }, current ? "catalogue is current" : "catalogue watch interrupted; serving from the cache");
    },
  });
  return {
    cache,
    metadata,
    onChange: (listener) => changeListeners.push(listener),
    onCurrent: (listener) => currentListeners.push(listener),
  };
}

export interface OnlineFront {
  readonly server: GranaryServer;
  /**
   * What readiness needs besides a current catalogue: the write log's lag within
   * GRANARY_ONLINE_MAX_LAG (always true without a log) and, in a worker, the primary's go.
   */
  setReady(ready: boolean): void;
  /** Resolves once health has reported SERVING. */
  ready(): Promise<void>;
  /** Drains and stops the gRPC server; the catalogue and store are the caller's. */
  stop(): Promise<void>;
}

export interface OnlineFrontOptions {
  readonly config: OnlineConfig;
  readonly log: Logger;
  readonly store: OnlineStore;
  readonly catalogue: FollowedCatalogue;
  readonly replicaLog: ReplicaLog | undefined;
  /** Where FindNeighbors gets candidates: this process's indexes, or the primary's (a worker). */
  readonly neighbors?: NeighborSource | undefined;
  /** Hears every change of this process's health (a worker tells its primary). */
  readonly onServing?: (serving: boolean) => void;
}

/**
 * The gRPC side of the online service, the same in the one process and in each worker: handlers
 * over the given store, remote access control and plans on this process's catalogue, and health
 * SERVING once the catalogue is current and the log's lag within bound. The port is bound on return.
 */
export async function serveOnline({ config, log, store, catalogue, replicaLog, neighbors, onServing }: OnlineFrontOptions): Promise<OnlineFront> {
  const serviceKey = serviceKeyOf(config.common.auth);
  const remote = createRemoteAccess({
    auth: config.common.auth,
    serviceKey,
    service: "online",
    metadata: catalogue.metadata,
    lookups: catalogue.cache,
    logger: log,
  });
  const plans = new PlanCache(catalogue.cache);
  // Each process (the one process, or each worker) logs what it serves through its own queue.
  const featureLog = new FeatureLogger({
    offline: createServiceClient(OfflineService, config.offlineAddress, { apiKey: serviceKey, tls: serviceClientTls(config.server) }),
    logger: log,
    capacity: config.featureLog.capacity,
    intervalMs: config.featureLog.intervalMs,
  });
  // Readiness: the catalogue loaded and the rest (setReady) true.
  const ready = { catalogue: false, rest: true, serving: false };
  let reportReady: () => void = () => {};
  const readyOnce = new Promise<void>((resolve) => (reportReady = resolve));
  const updateServing = () => {
    const serving = ready.catalogue && ready.rest;
    server.setServing(serving);
    if (serving) reportReady();
    if (serving !== ready.serving) onServing?.(serving);
    ready.serving = serving;
  };
  // Commits arrive with every insert; only definitions change what a plan compiles to.
  catalogue.onChange((change) => {
    remote.onChange(change);
    if (change.resource.case !== "commit") plans.invalidate();
  });
  catalogue.onCurrent((current) => {
    if (!current) return;
    ready.catalogue = true;
    updateServing();
  });
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
          catalogue: catalogue.cache,
          plans,
          models: new ModelResolver(createServiceClient(RegistryService, config.registryAddress, { apiKey: serviceKey, tls: serviceClientTls(config.server) })),
          maxRows: config.maxRows,
          maxFutureEventTimeS: config.common.maxFutureEventTimeS,
          replicaLog,
          featureLog,
          neighbors,
        }),
      ),
    ],
  });
  try {
    await server.start();
  } catch (err) {
    await featureLog.stop();
    await remote.close();
    throw err;
  }
  return {
    server,
    setReady(rest) {
      ready.rest = rest;
      updateServing();
    },
    ready: () => readyOnce,
    async stop() {
      await server.shutdown();
      await featureLog.stop();
      await remote.close();
    },
  };
}
