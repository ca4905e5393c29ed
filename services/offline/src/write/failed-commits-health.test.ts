import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { CommitKind, CommitSchema, CommitState, type Commit } from "@granary/proto/metadata";
import { createLogger } from "@granary/telemetry";
import { captureLogs } from "@granary/testing";
import { CommitLog } from "../store/commit-log.js";
import { FAILED_COMMITS_METRIC, logFailedCommits, reportFailedCommits } from "./failed-commits-health.js";

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const record = (group: string, id: bigint, failureReason = ""): Commit =>
  create(CommitSchema, {
    project: "p",
    featureGroup: { name: group, version: 1 },
    id,
    kind: CommitKind.INSERT,
    files: [`p/${group}/v1/${String(id).padStart(20, "0")}/part-00000.parquet`],
    state: failureReason ? CommitState.FAILED : CommitState.UNSPECIFIED,
    failureReason,
  });

async function gaugeValue(reader: TestReader): Promise<number | undefined> {
  const { resourceMetrics } = await reader.collect();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name === FAILED_COMMITS_METRIC) return metric.dataPoints[0]?.value as number;
    }
  }
  return undefined;
}

// Issue 13: a commit that cannot be completed is marked FAILED, skipped by reads, and reported by a health detail.
describe("health detail of FAILED commits", () => {
  it("counts FAILED commits in granary.offline.failed_commits while reads skip them", async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const commits = new CommitLog();
    const stop = reportFailedCommits(commits, provider.getMeter("granary.offline"));
    commits.apply(record("a", 1n));
    commits.apply(record("a", 2n));
    expect(await gaugeValue(reader)).toBe(0);

    commits.apply(record("a", 1n, "the commit record lists no files"));
    commits.apply(record("b", 5n, "the commit record lists a file outside its group"));
    expect(await gaugeValue(reader)).toBe(2);
    expect(commits.commits("p", "a", 1).map((c) => c.id)).toEqual([2n]);
    expect([...commits.failed()].map((c) => [c.name, c.id, c.reason])).toEqual([
      ["a", 1n, "the commit record lists no files"],
      ["b", 5n, "the commit record lists a file outside its group"],
    ]);

    // The same commit seen again (the change stream replays it) counts once; a deleted group's go.
    commits.apply(record("a", 1n, "the commit record lists no files"));
    commits.dropGroup("p", "b", 1);
    expect(await gaugeValue(reader)).toBe(1);
    stop();
    await provider.shutdown();
  });

  it("logs the FAILED commits found at start, with their reasons", () => {
    const logs = captureLogs();
    const logger = createLogger({ level: "warn", service: "test", destination: logs.destination });
    const commits = new CommitLog();
    logFailedCommits(commits, logger);
    expect(logs.lines()).toHaveLength(0);
    commits.apply(record("a", 3n, "the commit record lists no files"));
    logFailedCommits(commits, logger);
    const lines = logs.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ count: 1, failedCommits: [{ group: "a", commit: "3", reason: "the commit record lists no files" }] });
    expect(String(lines[0]!.msg)).toContain(FAILED_COMMITS_METRIC);
  });
});
