import { CatalogueCache } from "@granary/catalogue-cache";
import { createServiceClient } from "@granary/clients";
import { serviceClientTls } from "@granary/config";
import { ChangeKind, MetadataService, type Change } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import { createRemoteAccess, createServer, defineService, serviceKeyOf, type RunningService } from "@granary/server";
import type { Logger } from "@granary/telemetry";
import type { OfflineConfig } from "./config.js";
import { DuckEngine } from "./engine/duckdb-engine.js";
import { createOfflineHandlers } from "./offline-service.js";
import { ProjectStreams } from "./project-streams.js";
import { CommitLayout, recordedDirs } from "./store/commit-layout.js";
import { CommitLog } from "./store/commit-log.js";
import { metadataWriter } from "./store/metadata-writer.js";
import { createTrainingHandlers } from "./training/training-handlers.js";
import { CommitSequencer } from "./write/commit-sequencer.js";
import { OnlinePusher } from "./write/online-pusher.js";
import { onlineWriter } from "./write/online-writer.js";

/**
 * Opens DuckDB over the data root and follows the catalogue (definitions and the commit log) from
 * the metadata service. SERVING once the catalogue is current, commit directories no commit
 * records are deleted, and PENDING online pushes are queued again.
 */
export async function startOfflineService(config: OfflineConfig, logger: Logger): Promise<RunningService> {
  const log = logger.child({ component: "offline" });
  const engine = await DuckEngine.open({ dataRoot: config.dataRoot, ...config.duckdb });
  const layout = new CommitLayout(config.dataRoot);
  const commits = new CommitLog();
  const serviceKey = serviceKeyOf(config.common.auth);
  const metadataClient = createServiceClient(MetadataService, config.metadataAddress, { apiKey: serviceKey, tls: serviceClientTls(config.server) });
  const catalogue: CatalogueCache = new CatalogueCache(metadataClient, {
    logger: log,
    onChange: (change) => {
      remote.onChange(change);
      followCommits(commits, change);
    },
    onCurrent: (current) => log.info({ current }, current ? "catalogue is current" : "catalogue watch interrupted; serving from the cache"),
  });
  const remote = createRemoteAccess({ auth: config.common.auth, serviceKey, service: "offline", metadata: metadataClient, lookups: catalogue, logger: log });
  const metadata = metadataWriter(metadataClient);
  const pusher = new OnlinePusher({
    engine,
    layout,
    commits,
    groupOf: (p, n, v) => catalogue.featureGroup(p, n, v),
    metadata,
    online: onlineWriter(createServiceClient(OnlineService, config.onlineAddress, { apiKey: serviceKey, tls: serviceClientTls(config.server) })),
    requestBytes: config.messageBytes,
    logger: log,
  });
  const writeDeps = {
    engine,
    layout,
    commits,
    sequencer: new CommitSequencer(),
    metadata,
    pusher,
    crashAt: config.crashAt,
    logger: log,
    onlinePushWaitMs: config.onlinePushWaitMs,
  };
  const streams = new ProjectStreams(config.maxStreamsPerProject);
  const training = createTrainingHandlers({ catalogue, commits, engine, layout, metadata, messageBytes: config.messageBytes, logger: log, streams });
  const server = createServer({
    name: "offline",
    config: config.server,
    logger: log,
    access: remote.access,
    services: [defineService(OfflineService, createOfflineHandlers({ ...writeDeps, catalogue, messageBytes: config.messageBytes, training, streams }))],
  });
  try {
    await server.start();
  } catch (err) {
    engine.close();
    throw err;
  }
  catalogue.start();
  const recovery = (async () => {
    await catalogue.ready();
    const recorded = recordedDirs([...commits.groups()].flatMap((g) => g.commits.flatMap((c) => c.files)));
    const removed = await layout.removeUnrecorded(recorded);
    if (removed.length > 0) log.warn({ removed }, "deleted commit files no recorded commit lists (an insert died before recording them)");
    const queued = pusher.recover();
    if (queued > 0) log.info({ queued }, "pushing commits still pending online");
    server.setServing(true);
  })().catch((err: unknown) => log.error({ err }, "offline start-up recovery failed"));
  log.info({ address: server.address, dataRoot: config.dataRoot, metadata: config.metadataAddress }, "offline service listening; SERVING once the catalogue is loaded");
  return {
    name: "offline",
    address: server.address,
    async stop() {
      await server.shutdown();
      await catalogue.close();
      await recovery;
      await pusher.close();
      await remote.close();
      engine.close();
    },
  };
}

function followCommits(commits: CommitLog, change: Change): void {
  const r = change.resource;
  if (r.case === "commit" && change.kind !== ChangeKind.DELETED) commits.apply(r.value);
  else if (r.case === "featureGroup" && change.kind === ChangeKind.DELETED) commits.dropGroup(r.value.project, r.value.name, r.value.version);
}
