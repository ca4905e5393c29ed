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
      if (current) server.setServing(true);
      log.info({ current }, current ? "catalogue is current" : "catalogue watch interrupted; serving from the cache");
    },
  });
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
        }),
      ),
    ],
  });
  try {
    await server.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  catalogue.start();
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
      await sweeper.stop();
      await catalogue.close();
      await remote.close();
      await store.close();
    },
  };
}
