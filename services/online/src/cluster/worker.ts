import { collectProcessMetrics, createLogger, startTelemetry, type Logger, type Telemetry } from "@granary/telemetry";
import type { OnlineConfig } from "../config.js";
import { LmdbOnlineStore } from "../store/lmdb-online-store.js";
import type { ReplicaStatus } from "../write/replica-log.js";
import type { ToWorker } from "./messages.js";
import { PrimaryCalls, processChannel, type PrimaryChannel } from "./primary-calls.js";
import { followCatalogue, serveOnline, type OnlineFront } from "./serve-online.js";
import { WorkerOnlineStore } from "./worker-store.js";
import { WorkerReplicaLog } from "./worker-replica-log.js";

/** How long a worker whose primary vanished gives its calls in flight before it exits. */
const ORPHAN_STOP_MS = 2_000;

/**
 * The life of a worker process: wait for the primary's "start", serve gRPC on the shared port
 * from a read-only view of the store, stop when told (or at once, when the primary is gone).
 * Signals are the primary's to act on: Ctrl-C reaches the whole process group, and a worker that
 * died of it would only be restarted.
 */
export function runOnlineWorker(channel: PrimaryChannel = processChannel()): void {
  const primary = new PrimaryCalls(channel);
  // Notices to the primary; once it is gone there is no one to tell.
  const tell: PrimaryChannel["send"] = (message) => {
    try {
      channel.send(message);
    } catch {
      // disconnected: the "disconnect" handler below stops this worker
    }
  };
  let running: { stop(): Promise<void> } | undefined;
  let front: OnlineFront | undefined;
  let replicaLog: WorkerReplicaLog | undefined;
  let status: ReplicaStatus | undefined;
  let released = false;
  // SERVING needs the primary's go and, with a write log, its word that the lag is within bound.
  const updateReady = () => front?.setReady(released && (replicaLog ? (status?.withinBound ?? false) : true));
  let stopping: Promise<void> | undefined;
  const stop = (timeoutMs?: number) => {
    stopping ??= (async () => {
      const stopped = running?.stop().catch(() => {});
      if (timeoutMs === undefined) await stopped;
      else await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    })();
    return stopping;
  };

  channel.onMessage((message: ToWorker) => {
    switch (message.granary) {
      case "start":
        void start(message.config, message.slot, message.logLevel).then(
          (started) => {
            running = started;
            tell({ granary: "listening", address: front!.server.address });
          },
          (err: unknown) => {
            tell({ granary: "failed", message: err instanceof Error ? err.message : String(err) });
            // IPC sends are asynchronous: give the reason a moment to leave before the exit.
            setTimeout(() => process.exit(1), 200);
          },
        );
        return;
      case "replica":
        status = message.status;
        replicaLog?.update(status);
        updateReady();
        return;
      case "serve":
        released = true;
        updateReady();
        return;
      case "drain":
        front?.server.beginShutdown();
        return;
      case "stop":
        void stop().then(() => process.exit(0));
        return;
      case "reply":
        return; // PrimaryCalls' business
      case "metrics":
        void collectProcessMetrics().then(
          (scopeMetrics) => tell({ granary: "metrics", id: message.id, scopeMetrics }),
          () => tell({ granary: "metrics", id: message.id, scopeMetrics: [] }),
        );
        return;
    }
  });
  // The primary is gone (killed, or exiting): no writer, no listener; leave too.
  process.on("disconnect", () => {
    primary.close();
    void stop(ORPHAN_STOP_MS).then(() => process.exit(0));
  });
  process.on("SIGTERM", () => {});
  process.on("SIGINT", () => {});
  tell({ granary: "hello" });

  async function start(config: OnlineConfig, slot: number, logLevel: string): Promise<{ stop(): Promise<void> }> {
    // Telemetry as runMain starts it, once per process, each worker its own service.instance.id
    // (`<replica>-worker-<slot>`): a collector keeps the workers' metrics apart and can sum them.
    const instance = `${config.writeLog.replica}-worker-${slot}`;
    // /metrics is the primary's: it asks each worker for its metrics at every scrape (worker-metrics.ts).
    const telemetry: Telemetry = startTelemetry(config.common.telemetry, { resourceAttributes: { "service.instance.id": instance }, serveMetrics: false });
    const log: Logger = createLogger({ level: logLevel, service: "online" }).child({
      component: "online",
      worker: slot,
      instance,
    });
    const reader = new LmdbOnlineStore({ ...config.lmdb, readOnly: true });
    const store = new WorkerOnlineStore(reader, primary);
    const catalogue = followCatalogue(config, log);
    replicaLog = config.common.natsUrl ? new WorkerReplicaLog(primary, store, config.writeLog.replica) : undefined;
    if (replicaLog && status) replicaLog.update(status);
    try {
      front = await serveOnline({
        config,
        log,
        store,
        catalogue,
        replicaLog,
        // The index is the primary's (one copy in memory, kept by the writer): candidates come over IPC.
        neighbors: { candidates: (groupId, column, query, count) => primary.call("annCandidates", groupId, column, query, count) },
        onServing: (serving) => tell({ granary: "serving", serving }),
      });
    } catch (err) {
      await store.close();
      await telemetry.shutdown().catch(() => {});
      throw err;
    }
    updateReady();
    catalogue.cache.start();
    const started = front;
    return {
      async stop() {
        await started.stop();
        await catalogue.cache.close();
        await store.close();
        await telemetry.shutdown().catch(() => {});
        log.flush();
      },
    };
  }
}
