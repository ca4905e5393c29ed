import { CatalogueCache } from "@granary/catalogue-cache";
import { ChangeKind, type Change } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { createRemoteAccess, createServer, defineService, serviceKeyOf, type RunningService } from "@granary/server";
import type { Logger } from "@granary/telemetry";
import type { WriteLog } from "@granary/write-log";
import type { OfflineConfig } from "./config.js";
import { DuckEngine } from "./duck/index.js";
import { createOfflineHandlers } from "./offline-service.js";
import { ProjectStreams } from "./project-streams.js";
import { checkDataRoot, KnownGroups, StartRefusedError } from "./start-check.js";
import { CommitLayout, recordedDirs } from "./store/commit-layout.js";
import { CommitLog } from "./store/commit-log.js";
import { metadataWriter } from "./upstream/metadata-writer.js";
import { quarantine } from "./store/quarantine.js";
import { onlineVectors } from "./upstream/online-vectors.js";
import { StatisticsUpdater } from "./stats/statistics-updater.js";
import { CommitSequencer } from "./write/commit-sequencer.js";
import { logFailedCommits, reportFailedCommits } from "./write/failed-commits-health.js";
import { OnlinePusher } from "./write/online-pusher.js";
import { onlineWriter } from "./upstream/online-writer.js";
import { createUpstreamClients } from "./upstream/upstream-clients.js";
import { logOnlineWriter } from "./upstream/online-log-writer.js";
import { openWriteLog } from "./upstream/write-log.js";
import { LogIngester } from "./write/log-ingester.js";
import { Compactor } from "./lifecycle/compactor.js";

/**
 * Opens DuckDB over the data root and follows the catalogue (definitions and the commit log) from
 * the metadata service. Once the catalogue is current: the data root is checked against it (a
 * catalogue that knows none of the groups on disk refuses the start; see checkDataRoot), commit
 * directories no commit records are moved to the quarantine (never deleted), PENDING online
 * pushes are queued again, the write-log consumer starts (with GRANARY_NATS_URL), and the service
 * turns SERVING.
 *
 * The start waits for that up to `startWaitMs`, so a refusal rejects it; a metadata service that
 * answers later leaves the check running in the background, and a refusal then logs at fatal
 * level and shuts the server down (it never turns SERVING).
 */
/** How long an offline write waits for history to catch up with the write log before UNAVAILABLE. */
const LOG_BARRIER_TIMEOUT_MS = 15_000;

export async function startOfflineService(config: OfflineConfig, logger: Logger): Promise<RunningService> {
  const log = logger.child({ component: "offline" });
  const engine = await DuckEngine.open({ dataRoot: config.dataRoot, ...config.duckdb });
  const layout = new CommitLayout(config.dataRoot);
  const commits = new CommitLog();
  const stopFailedCommits = reportFailedCommits(commits);
  const known = new KnownGroups();
  const serviceKey = serviceKeyOf(config.common.auth);
  const clients = createUpstreamClients(config, serviceKey);
  const catalogue: CatalogueCache = new CatalogueCache(clients.metadata, {
    logger: log,
    onChange: (change) => {
      remote.onChange(change);
      followCommits(commits, change);
      knowGroup(known, change);
    },
    onCurrent: (current) => log.info({ current }, current ? "catalogue is current" : "catalogue watch interrupted; serving from the cache"),
  });
  const remote = createRemoteAccess({ auth: config.common.auth, serviceKey, service: "offline", metadata: clients.metadata, lookups: catalogue, logger: log });
  const metadata = metadataWriter(clients.metadata);
  let writeLog: WriteLog | undefined;
  try {
    writeLog = await openWriteLog(config.common, "granary-offline");
  } catch (err) {
    stopFailedCommits();
    engine.close();
    throw err;
  }
  const sequencer = new CommitSequencer();
  const pusher = new OnlinePusher({
    engine,
    layout,
    commits,
    groupOf: (p, n, v) => catalogue.featureGroup(p, n, v),
    metadata,
    // With the write log, an insert's online copy is appended to it; every replica applies it from there.
    online: writeLog ? logOnlineWriter(writeLog) : onlineWriter(clients.online),
    requestBytes: config.messageBytes,
    maxAttempts: config.onlinePushMaxAttempts,
    logger: log,
  });
  const statistics = new StatisticsUpdater({ engine, layout, commits, metadata, logger: log, groupOf: (p, n, v) => catalogue.featureGroup(p, n, v) });
  const ingester =
    writeLog &&
    new LogIngester({
      log: writeLog,
      engine,
      layout,
      commits,
      sequencer,
      metadata,
      catalogue,
      statistics,
      crashAt: config.crashAt,
      logger: log.child({ component: "write-log" }),
      maxFutureEventTimeS: config.common.maxFutureEventTimeS,
      maxRows: config.stream.maxRows,
      maxMs: config.stream.maxMs,
    });
  const compactor = new Compactor({
    engine,
    layout,
    commits,
    sequencer,
    metadata,
    crashAt: config.crashAt,
    logger: log.child({ component: "compaction" }),
    fileBytes: config.compaction.fileBytes,
    intervalMs: config.compaction.intervalMs,
    minFiles: config.compaction.minFiles,
    graceMs: config.compaction.graceMs,
    groups: function* () {
      for (const { key } of commits.groups()) {
        const [project, name, version] = key.split("/") as [string, string, string];
        const group = catalogue.featureGroup(project, name, Number(version));
        if (group) yield group;
      }
    },
  });
  const handlers = createOfflineHandlers({
    compactor,
    catalogue,
    engine,
    layout,
    commits,
    metadata,
    online: onlineVectors(clients.online),
    statistics,
    sequencer,
    pusher,
    streams: new ProjectStreams(config.maxStreamsPerProject),
    messageBytes: config.messageBytes,
    crashAt: config.crashAt,
    logger: log,
    onlinePushWaitMs: config.onlinePushWaitMs,
    // Writes through the offline service wait for history to hold the log's pushed rows first.
    logBarrier: ingester ? (signal?: AbortSignal) => ingester.barrier(LOG_BARRIER_TIMEOUT_MS, signal) : undefined,
    maxFutureEventTimeS: config.common.maxFutureEventTimeS,
  });
  const server = createServer({
    name: "offline",
    config: config.server,
    logger: log,
    access: remote.access,
    services: [defineService(OfflineService, handlers)],
  });
  try {
    await server.start();
  } catch (err) {
    await writeLog?.close();
    stopFailedCommits();
    engine.close();
    throw err;
  }
  catalogue.start();
  const recovery = (async () => {
    await catalogue.ready();
    checkDataRoot({ dataRoot: config.dataRoot, metadataAddress: config.metadataAddress, onDisk: await layout.groupsWithCommits(), known });
    const recorded = recordedDirs([...commits.groups()].flatMap((g) => g.commits.flatMap((c) => [...c.files, ...(c.compaction?.tombstoneFiles ?? [])])));
    const { batch, moved } = await quarantine(config.dataRoot, await layout.findUnrecorded(recorded));
    if (moved.length > 0) {
      log.warn(
        { count: moved.length, quarantine: batch, moved: moved.slice(0, 100) },
        `moved ${moved.length} commit director${moved.length === 1 ? "y" : "ies"} no recorded commit lists to ${batch} (an insert died before recording them, or the catalogue does not know them); delete them with npm run offline:purge-quarantine`,
      );
    }
    const leftovers = await compactor.removeLeftovers();
    if (leftovers > 0)
      log.info({ count: leftovers }, "deleted commit directories a recorded compaction had replaced (the last run stopped before deleting them)");
    logFailedCommits(commits, log);
    const queued = pusher.recover();
    if (queued > 0) log.info({ queued }, "pushing commits still pending online");
    ingester?.start();
    void statistics.recover().then((n) => n > 0 && log.info({ groups: n }, "computed statistics of groups whose latest commit had none"));
    server.setServing(true);
    compactor.start();
  })();
  log.info(
    { address: server.address, dataRoot: config.dataRoot, metadata: config.metadataAddress },
    "offline service listening; SERVING once the catalogue is loaded and the data root checked",
  );
  const waited = await Promise.race([
    recovery.then(
      () => true,
      () => true,
    ),
    delay(config.startWaitMs).then(() => false),
  ]);
  const settled = recovery.catch(async (err: unknown) => {
    if (err instanceof StartRefusedError) log.fatal({ dataRoot: config.dataRoot, metadata: config.metadataAddress }, err.message);
    else log.error({ err }, "offline start-up recovery failed; the service stays NOT_SERVING");
    // Nothing may be written under a data root the catalogue does not account for.
    await server.shutdown();
    if (waited) throw err;
  });
  if (waited) {
    try {
      await settled;
    } catch (err) {
      await catalogue.close();
      await pusher.close();
      await statistics.close();
      await writeLog?.close();
      await remote.close();
      stopFailedCommits();
      engine.close();
      throw err;
    }
  } else {
    log.info({ waitedMs: config.startWaitMs }, "the catalogue is still loading; checking the data root in the background");
  }
  return {
    name: "offline",
    address: server.address,
    httpAddress: server.httpAddress,
    async stop() {
      await server.shutdown();
      await catalogue.close();
      await settled;
      await ingester?.stop();
      await compactor.close();
      await pusher.close();
      await statistics.close();
      await writeLog?.close();
      await remote.close();
      stopFailedCommits();
      engine.close();
    },
  };
}

function knowGroup(known: KnownGroups, change: Change): void {
  const r = change.resource;
  if (r.case === "featureGroup") known.add(r.value.project, r.value.name, r.value.version);
  else if (r.case === "commit" && r.value.featureGroup) known.add(r.value.project, r.value.featureGroup.name, r.value.featureGroup.version);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function followCommits(commits: CommitLog, change: Change): void {
  const r = change.resource;
  if (r.case === "commit" && change.kind !== ChangeKind.DELETED) commits.apply(r.value);
  else if (r.case === "featureGroup" && change.kind === ChangeKind.DELETED) commits.dropGroup(r.value.project, r.value.name, r.value.version);
}
