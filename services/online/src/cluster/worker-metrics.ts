import cluster, { type Worker } from "node:cluster";
import type { ScopeMetrics } from "@opentelemetry/sdk-metrics";
import { addMetricSource, mergeScopeMetrics } from "@granary/telemetry";
import { isGranaryMessage, type ToPrimary, type ToWorker } from "./messages.js";

/** How long a scrape waits for a worker's answer before it shows that worker's previous one. */
const ANSWER_MS = 2_000;

/**
 * Makes the primary's /metrics show its workers' metrics, summed (docs/decisions/0012): at each
 * scrape the primary asks every live worker for its cumulative metrics over IPC and adds them to
 * its own, so Prometheus sees one target per pod whatever GRANARY_ONLINE_WORKERS is. A worker
 * that exits leaves its last answer behind in a retired total, so a restarted worker does not
 * make the pod's counters go backwards (which rate() would read as a reset). Returns its removal.
 */
export function serveWorkerMetrics(): () => void {
  let retired: ScopeMetrics[] = [];
  const last = new Map<number, readonly ScopeMetrics[]>();
  const waiting = new Map<number, (metrics: readonly ScopeMetrics[]) => void>();
  let nextId = 1;

  const onMessage = (_worker: Worker, message: unknown) => {
    if (!isGranaryMessage<ToPrimary>(message) || message.granary !== "metrics") return;
    waiting.get(message.id)?.(message.scopeMetrics);
  };
  const onExit = (worker: Worker) => {
    const seen = last.get(worker.id);
    if (seen) retired = mergeScopeMetrics([retired, seen]);
    last.delete(worker.id);
  };
  const ask = (worker: Worker): Promise<void> => {
    const id = nextId++;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ANSWER_MS);
      waiting.set(id, (metrics) => {
        last.set(worker.id, metrics);
        done();
      });
      try {
        worker.send({ granary: "metrics", id } satisfies ToWorker);
      } catch {
        done();
      }
    });
  };

  cluster.on("message", onMessage);
  cluster.on("exit", onExit);
  const remove = addMetricSource(async () => {
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
    await Promise.all(live.map(ask));
    return [retired, ...last.values()];
  });
  return () => {
    remove();
    cluster.off("message", onMessage);
    cluster.off("exit", onExit);
  };
}
