import { metrics, type Meter } from "@opentelemetry/api";
import type { Logger } from "@granary/telemetry";
import type { CommitLog } from "../store/commit-log.js";

export const FAILED_COMMITS_METRIC = "granary.offline.failed_commits";
const LISTED = 20;

/**
 * The health detail of commits marked FAILED (see markCommitFailed). grpc.health.v1 carries a
 * status and nothing else, and a failed commit must not turn the service NOT_SERVING (later
 * commits go on), so the detail is a gauge, `granary.offline.failed_commits`: the FAILED commits
 * of the groups this service knows, to alert on when above zero. Each commit's reason is in
 * ListCommits (state FAILED, failure_reason) and in the log. Returns a function that removes it.
 */
export function reportFailedCommits(commits: CommitLog, meter: Meter = metrics.getMeter("granary.offline")): () => void {
  const gauge = meter.createObservableGauge(FAILED_COMMITS_METRIC, {
    description: "Commits marked FAILED (their record cannot be completed); reads skip them. See ListCommits for each failure_reason.",
    unit: "{commit}",
  });
  const observe = (result: { observe(value: number): void }) => result.observe(commits.failedCount);
  gauge.addCallback(observe);
  return () => gauge.removeCallback(observe);
}

/** Logs the FAILED commits already recorded when the service starts (each new one logs as it is marked). */
export function logFailedCommits(commits: CommitLog, logger: Logger): void {
  const count = commits.failedCount;
  if (count === 0) return;
  const listed = [...commits.failed()]
    .slice(0, LISTED)
    .map((c) => ({ project: c.project, group: c.name, version: c.version, commit: c.id.toString(), reason: c.reason }));
  logger.warn(
    { count, failedCommits: listed },
    `${count} commit${count === 1 ? " is" : "s are"} marked FAILED: reads skip ${count === 1 ? "it" : "them"} (ListCommits shows each failure_reason; metric ${FAILED_COMMITS_METRIC})`,
  );
}
