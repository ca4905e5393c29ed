import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { CommitKind, CommitSchema, FeatureGroupSchema, type FeatureGroup } from "@granary/proto/metadata";
import { createLogger } from "@granary/telemetry";
import { CommitLog, type CommitEntry } from "../store/commit-log.js";
import { StatisticsUpdater } from "./statistics-updater.js";

const logger = createLogger({ level: "silent", service: "test" });
const group = create(FeatureGroupSchema, { project: "p", name: "g", version: 1, statisticsConfig: { enabled: true } });

function logWith(ids: number[]): CommitLog {
  const log = new CommitLog();
  for (const id of ids) commit(log, id);
  return log;
}

function commit(log: CommitLog, id: number): void {
  log.apply(
    create(CommitSchema, {
      project: "p",
      featureGroup: { name: "g", version: 1 },
      id: BigInt(id),
      kind: CommitKind.INSERT,
      files: [`p/g/v1/${String(id).padStart(20, "0")}/part-00000.parquet`],
    }),
  );
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("StatisticsUpdater", () => {
  it("runs a group's refreshes one at a time and lets those asked for meanwhile share the next run, at the latest commit", async () => {
    const commits = logWith([1]);
    const runs: bigint[] = [];
    const gates = [deferred(), deferred()];
    const updater = new StatisticsUpdater({
      commits,
      logger,
      groupOf: () => group,
      engine: undefined as never,
      layout: undefined as never,
      metadata: undefined as never,
      store: async (_p, _g, list: readonly CommitEntry[]) => {
        runs.push(list[list.length - 1]!.id);
        await gates[runs.length - 1]!.promise;
      },
    });
    const first = updater.refresh("p", "g", 1);
    commit(commits, 2);
    const second = updater.refresh("p", "g", 1);
    commit(commits, 3);
    const third = updater.refresh("p", "g", 1);
    expect(second).toBe(third);
    gates[0]!.resolve();
    await first;
    await Promise.resolve();
    gates[1]!.resolve();
    await third;
    expect(runs).toEqual([1n, 3n]);
    // Idle again: the next refresh starts a run of its own.
    gates.push(deferred());
    gates[2]!.resolve();
    await updater.refresh("p", "g", 1);
    expect(runs).toEqual([1n, 3n, 3n]);
  });

  it("retries a failed run, skips groups without statistics or commits, and never rejects", async () => {
    let calls = 0;
    const store = async () => {
      calls++;
      if (calls < 3) throw new Error("metadata unavailable");
    };
    const updater = new StatisticsUpdater({
      commits: logWith([1]),
      logger,
      groupOf: () => group,
      retryMs: [1, 1],
      store,
      engine: undefined as never,
      layout: undefined as never,
      metadata: undefined as never,
    });
    await updater.refresh("p", "g", 1);
    expect(calls).toBe(3);
    calls = -10;
    await expect(updater.refresh("p", "g", 1)).resolves.toBeUndefined();
    expect(calls).toBe(-7);

    let stored = 0;
    const off: FeatureGroup = create(FeatureGroupSchema, { project: "p", name: "g", version: 1 });
    const none = new StatisticsUpdater({
      commits: logWith([1]),
      logger,
      groupOf: () => off,
      store: async () => void stored++,
      engine: undefined as never,
      layout: undefined as never,
      metadata: undefined as never,
    });
    await none.refresh("p", "g", 1);
    const empty = new StatisticsUpdater({
      commits: logWith([]),
      logger,
      groupOf: () => group,
      store: async () => void stored++,
      engine: undefined as never,
      layout: undefined as never,
      metadata: undefined as never,
    });
    await empty.refresh("p", "g", 1);
    expect(stored).toBe(0);
  });

  it("at start, refreshes the groups whose latest commit has no statistics stored", async () => {
    const commits = logWith([1, 2]);
    commits.apply(
      create(CommitSchema, {
        project: "p",
        featureGroup: { name: "h", version: 1 },
        id: 1n,
        kind: CommitKind.INSERT,
        files: ["p/h/v1/00000000000000000001/part-00000.parquet"],
      }),
    );
    const asked: string[] = [];
    const stored: string[] = [];
    const updater = new StatisticsUpdater({
      commits,
      logger,
      engine: undefined as never,
      layout: undefined as never,
      groupOf: (_p, name) => create(FeatureGroupSchema, { project: "p", name, version: 1, statisticsConfig: { enabled: true } }),
      metadata: {
        putStatistics: undefined as never,
        hasStatistics: async (_p, subject) => {
          const c = subject.kind.case === "commit" ? subject.kind.value : undefined;
          asked.push(`${c?.featureGroup?.name}@${c?.commitId}`);
          return c?.featureGroup?.name === "h";
        },
      },
      store: async (_p, g) => void stored.push(g.name),
    });
    expect(await updater.recover()).toBe(1);
    expect(asked.sort()).toEqual(["g@2", "h@1"]);
    expect(stored).toEqual(["g"]);
  });
});
