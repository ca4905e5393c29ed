import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { clone, create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import { ResourceExhaustedError, UnavailableError } from "@granary/errors";
import { CommitKind, CommitSchema, OnlineSyncState, FeatureGroupSchema, type Commit } from "@granary/proto/metadata";
import { ScalarType } from "@granary/proto/types";
import { createLogger } from "@granary/telemetry";
import { scratchDir, seededRandom } from "@granary/testing";
import { CommitLog } from "../store/commit-log.js";
import type { CommitLayout } from "../store/commit-layout.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import { DuckEngine } from "../duck/index.js";
import type { OnlineWriter } from "../upstream/online-writer.js";
import { OnlinePusher } from "./online-pusher.js";

// Issue 13: the outbox retried a poison entry forever, and a failed push blocked the group's later commits.
describe("OnlinePusher", () => {
  const group = create(FeatureGroupSchema, { project: "p", name: "g", version: 1, onlineEnabled: true, primaryKey: ["id"] });
  const record = (id: bigint) =>
    create(CommitSchema, {
      project: "p",
      featureGroup: { name: "g", version: 1 },
      id,
      kind: CommitKind.INSERT,
      files: [`p/g/v1/${String(id).padStart(20, "0")}/part-00000.parquet`],
      onlineSyncState: OnlineSyncState.PENDING,
    });

  function pusher(poison: bigint) {
    const commits = new CommitLog();
    const stored = new Map<bigint, Commit>();
    for (const id of [1n, 2n]) stored.set(id, record(id));
    const entries = [...stored.values()].map((c) => commits.apply(c));
    const attempts = new Map<bigint, number>();
    const metadata = {
      updateCommit: async (patch: Commit, paths: readonly string[]) => {
        const next = clone(CommitSchema, stored.get(patch.id)!);
        if (paths.includes("online_sync_state")) next.onlineSyncState = patch.onlineSyncState;
        stored.set(patch.id, next);
        return next;
      },
    } as unknown as MetadataWriter;
    const layout = {
      files: {
        filesOf: async (_g: unknown, [c]: { id: bigint }[]) => {
          attempts.set(c!.id, (attempts.get(c!.id) ?? 0) + 1);
          if (c!.id === poison) throw new Error("the online store refuses this commit");
          return () => [];
        },
      },
    } as unknown as CommitLayout;
    const engine = { withConnection: async () => undefined } as unknown as DuckEngine;
    const p = new OnlinePusher({
      engine,
      layout,
      commits,
      groupOf: () => group,
      metadata,
      online: {} as OnlineWriter,
      requestBytes: 1 << 20,
      logger: createLogger({ level: "silent", service: "test" }),
      maxAttempts: 3,
      retryDelayMs: 1,
    });
    return { p, entries, stored, attempts };
  }

  it("parks a poison entry after maxAttempts, and pushes the group's later commits", async () => {
    const { p, entries, stored, attempts } = pusher(1n);
    const first = p.push("p", group, entries[0]!);
    const second = p.push("p", group, entries[1]!);
    await expect(first).rejects.toThrow(/refuses/);
    await second;
    expect(attempts.get(1n)).toBe(3);
    expect(stored.get(1n)!.onlineSyncState).toBe(OnlineSyncState.PARKED);
    expect(stored.get(2n)!.onlineSyncState).toBe(OnlineSyncState.SYNCED);
    await p.close();
  });
});

// Issue 18: a commit's requests are pipelined; commit order, retries and the SYNCED mark stay as they were.
describe("OnlinePusher, pipelined", () => {
  const ROWS = 30_000;
  const dir = scratchDir("online-pusher");
  let engine: DuckEngine;
  const group = create(FeatureGroupSchema, {
    project: "p",
    name: "g",
    version: 1,
    onlineEnabled: true,
    columns: [
      { name: "id", type: { scalar: ScalarType.INT64 } },
      { name: "et", type: { scalar: ScalarType.TIMESTAMP } },
      { name: "v", type: { scalar: ScalarType.DOUBLE } },
    ],
    primaryKey: ["id"],
    eventTime: "et",
  });
  const fileOf = (id: bigint) => join(dir.path, `commit-${id}.parquet`);

  beforeAll(async () => {
    engine = await DuckEngine.open({ dataRoot: join(dir.path, "duck"), threads: 1, memoryLimit: "128MB", maxQueries: 2 });
    // Commit c holds keys [(c-1)·ROWS, c·ROWS), each twice (two event times): only the newer row goes online.
    for (const c of [1n, 2n]) {
      const first = (Number(c) - 1) * ROWS;
      await engine.withConnection((x) =>
        x.run(
          `COPY (SELECT (${first} + i % ${ROWS})::BIGINT AS id, make_timestamp(1700000000000000 + (i // ${ROWS}) * 1000000) AS et, ` +
            `(i // ${ROWS})::DOUBLE AS v FROM range(${2 * ROWS}) t(i)) TO '${fileOf(c)}' (FORMAT parquet)`,
        ),
      );
    }
    // Commit 3: one row per key (v = 3), the usual insert.
    await engine.withConnection((x) =>
      x.run(
        `COPY (SELECT i::BIGINT AS id, make_timestamp(1700000000000000 + i) AS et, 3::DOUBLE AS v FROM range(${ROWS}) t(i)) TO '${fileOf(3n)}' (FORMAT parquet)`,
      ),
    );
  });
  afterAll(() => {
    engine.close();
    dir.remove();
  });

  type Call = { commit: number; attempt: number; phase: "start" | "end" | "failed"; rows: number };

  /** A pusher over real Parquet files and DuckDB, writing to `online`; `attempt(c)` counts the reads of commit c's files. */
  function pipelined(online: (ipc: Uint8Array, attempt: (commit: number) => number) => Promise<void>, requestsInFlight = 4) {
    const commits = new CommitLog();
    const stored = new Map<bigint, Commit>();
    for (const id of [1n, 2n, 3n]) {
      stored.set(
        id,
        create(CommitSchema, {
          project: "p",
          featureGroup: { name: "g", version: 1 },
          id,
          kind: CommitKind.INSERT,
          files: [`p/g/v1/${String(id).padStart(20, "0")}/part-00000.parquet`],
          onlineSyncState: OnlineSyncState.PENDING,
        }),
      );
    }
    const entries = [...stored.values()].map((c) => commits.apply(c));
    const attempts = new Map<number, number>();
    const metadata = {
      updateCommit: async (patch: Commit, paths: readonly string[]) => {
        const next = clone(CommitSchema, stored.get(patch.id)!);
        if (paths.includes("online_sync_state")) next.onlineSyncState = patch.onlineSyncState;
        stored.set(patch.id, next);
        return next;
      },
    } as unknown as MetadataWriter;
    const layout = {
      files: {
        filesOf: async (_g: unknown, [c]: { id: bigint }[]) => {
          attempts.set(Number(c!.id), (attempts.get(Number(c!.id)) ?? 0) + 1);
          return () => [fileOf(c!.id)];
        },
      },
    } as unknown as CommitLayout;
    const writer: OnlineWriter = {
      writeArrow: (_project, _group, ipc) => online(ipc, (c) => attempts.get(c) ?? 0),
      writeColumns: async () => {
        throw new Error("not expected");
      },
      deleteKeys: async () => {
        throw new Error("not expected");
      },
    };
    const p = new OnlinePusher({
      engine,
      layout,
      commits,
      groupOf: () => group,
      metadata,
      online: writer,
      requestBytes: 16 * 1024,
      logger: createLogger({ level: "silent", service: "test" }),
      maxAttempts: 5,
      retryDelayMs: 1,
      requestsInFlight,
    });
    return { p, entries, stored };
  }

  /** Keys and values of one request. */
  function rowsOf(ipc: Uint8Array): { ids: bigint[]; values: number[] } {
    const table = arrow.tableFromIPC(ipc);
    return { ids: [...(table.getChild("id")!.toArray() as BigInt64Array)], values: [...(table.getChild("v")!.toArray() as Float64Array)] };
  }

  it("keeps several requests in flight, pushes commits in order, retries a commit whose request failed mid-pipeline and skips no row", async () => {
    const random = seededRandom(18);
    const calls: Call[] = [];
    const written = new Map<bigint, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    let failed = false;
    let requests = 0;
    const { p, entries, stored } = pipelined(async (ipc, attempt) => {
      const { ids, values } = rowsOf(ipc);
      const commit = Number(ids[0]! / BigInt(ROWS)) + 1;
      const call = { commit, attempt: attempt(commit), rows: ids.length };
      calls.push({ ...call, phase: "start" });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1 + Math.floor(random() * 8)));
      inFlight--;
      // The fourth request of commit 1 fails, once, after the ones before it have gone through.
      if (commit === 1 && ++requests === 4 && !failed) {
        failed = true;
        calls.push({ ...call, phase: "failed" });
        throw new UnavailableError("the online service is restarting");
      }
      ids.forEach((id, i) => written.set(id, values[i]!));
      calls.push({ ...call, phase: "end" });
    });
    await Promise.all([p.push("p", group, entries[0]!), p.push("p", group, entries[1]!)]);
    await p.close();

    expect(failed).toBe(true);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    // Every key of both commits, each with its newer row (v = 1).
    expect(written.size).toBe(2 * ROWS);
    expect([...written.values()].every((v) => v === 1)).toBe(true);
    expect(stored.get(1n)!.onlineSyncState).toBe(OnlineSyncState.SYNCED);
    expect(stored.get(2n)!.onlineSyncState).toBe(OnlineSyncState.SYNCED);
    // Commit 1's failed attempt ended before its retry began, which ended before commit 2 began.
    const index = (pred: (c: Call) => boolean, last = false) => (last ? calls.findLastIndex(pred) : calls.findIndex(pred));
    expect(index((c) => c.commit === 1 && c.attempt === 1, true)).toBeLessThan(index((c) => c.commit === 1 && c.attempt === 2));
    expect(index((c) => c.commit === 1, true)).toBeLessThan(index((c) => c.commit === 2));
    // After the failure no request of the failed attempt started.
    const failure = index((c) => c.phase === "failed");
    expect(calls.slice(failure).filter((c) => c.commit === 1 && c.attempt === 1 && c.phase === "start")).toEqual([]);
    // The retry pushed the whole commit again: at least once, never skipped.
    expect(calls.filter((c) => c.commit === 1 && c.attempt === 2 && c.phase === "end").reduce((n, c) => n + c.rows, 0)).toBe(ROWS);
  }, 30_000);

  it("sends a commit with one row per key as it is", async () => {
    const written = new Map<bigint, number>();
    const { p, entries, stored } = pipelined(async (ipc) => {
      const { ids, values } = rowsOf(ipc);
      ids.forEach((id, i) => written.set(id, values[i]!));
    });
    await p.push("p", group, entries[2]!);
    await p.close();
    expect(written.size).toBe(ROWS);
    expect([...written.values()].every((v) => v === 3)).toBe(true);
    expect(stored.get(3n)!.onlineSyncState).toBe(OnlineSyncState.SYNCED);
  }, 30_000);

  it("halves an Arrow request the online service refuses for its size, until it fits", async () => {
    const written = new Set<bigint>();
    let refused = 0;
    const { p, entries, stored } = pipelined(async (ipc) => {
      const { ids } = rowsOf(ipc);
      if (ids.length > 700) {
        refused++;
        throw new ResourceExhaustedError(`${ids.length} rows in one request; the limit is 700`);
      }
      ids.forEach((id) => written.add(id));
    }, 2);
    await p.push("p", group, entries[0]!);
    await p.close();
    expect(refused).toBeGreaterThan(0);
    expect(written.size).toBe(ROWS);
    expect(stored.get(1n)!.onlineSyncState).toBe(OnlineSyncState.SYNCED);
  }, 30_000);
});
