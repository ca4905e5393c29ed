import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { CommitKind, CommitState, type MetadataService, OnlineSyncState } from "@granary/proto/metadata";
import { type OfflineService } from "@granary/proto/offline";
import { type OnlineService } from "@granary/proto/online";
import { ScalarType } from "@granary/proto/types";
import { scratchDir, testKeys, waitFor, waitForServing } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

// Issue 13: one forged or empty commit record made every later insert into its group fail, and the
// online re-push retried it forever. It is now marked FAILED with its reason and skipped.
const keys = testKeys();
const P = "shop";
const G = { name: "profiles", version: 1 };
const dir = scratchDir("offline-poison");
let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let asService: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
let on: Client<typeof OnlineService>;

const T = (scalar: ScalarType) => ({ scalar, list: false });
const day = (d: number) => new Date(Date.UTC(2025, 0, d));

function profiles(ids: number[], days: number[], ages: number[]) {
  return new arrow.Table({
    user_id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    event_time: arrow.vectorFromArray(
      days.map((d) => day(d).getTime()),
      new arrow.TimestampMillisecond(),
    ),
    age: arrow.vectorFromArray(ages, new arrow.Int32()),
  });
}

function insert(table: arrow.Table) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: G } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

async function onlineAges(ids: bigint[]): Promise<number[]> {
  const { vectors } = await on.getFeatureVectors({
    project: P,
    featureView: { name: "profile_view", version: 1 },
    entities: { rowCount: ids.length, servingKeys: [{ name: "user_id", data: { values: { case: "int64s", value: { values: ids } } } }] },
  });
  return (vectors!.columns.find((c) => c.name === "age")!.values!.values.value as { values: number[] }).values;
}

beforeAll(async () => {
  stack = await startOfflineStack({ name: "offline_poison", dataDir: dir.path, keys, logLevel: "error" });
  ({ md, on, off, asService } = stack);
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      ...G,
      onlineEnabled: true,
      primaryKey: ["user_id"],
      eventTime: "event_time",
      columns: [
        { name: "user_id", type: T(ScalarType.INT64) },
        { name: "event_time", type: T(ScalarType.TIMESTAMP) },
        { name: "age", type: T(ScalarType.INT32) },
      ],
    },
  });
  await md.createFeatureView({ featureView: { project: P, name: "profile_view", version: 1, query: { featureGroup: G } } });
  await Promise.all([waitForServing(stack.addresses.online, 20_000), waitForServing(stack.addresses.offline, 20_000)]);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
}, 30_000);

describe("a forged or empty commit record", () => {
  it.each([
    ["lists files that do not exist", [`${P}/profiles/v1/00000000000000000042/part-00000.parquet`], 1],
    ["lists no files at all", [] as string[], 2],
  ])(
    "that %s is marked FAILED, skipped by reads, and never blocks later inserts or online pushes",
    async (_what, files, n) => {
      const first = await insert(profiles([n * 10], [1], [n]));
      const { commit: forged } = await asService.createCommit({ commit: { project: P, featureGroup: G, kind: CommitKind.INSERT, rowsInserted: 3n, files } });
      await waitFor(async () => (await md.listCommits({ project: P, featureGroup: G })).commits.some((c) => c.id === forged!.id), {
        what: "the forged commit is recorded",
      });

      // Same key and event time as the first insert: the insert has to look at earlier commits.
      const next = await insert(profiles([n * 10, n * 10 + 1], [1, 2], [n + 100, n + 200]));
      expect(next.commitId).toBe(forged!.id + 1n);
      expect(next.rowsUpdated).toBe(1n);

      const stored = (await md.getCommit({ project: P, featureGroup: G, id: forged!.id })).commit!;
      expect(stored.state).toBe(CommitState.FAILED);
      expect(stored.failureReason).toMatch(/no files|does not exist|not a file|outside|missing/i);
      expect(stored.onlineSyncState).toBe(OnlineSyncState.PARKED);
      expect(first.commitId).toBeLessThan(forged!.id);

      const rows = (await tableFromChunks(off.read({ project: P, featureGroup: G }))).toArray().map((r) => [Number(r.user_id), r.age as number]);
      expect(rows).toEqual(
        expect.arrayContaining([
          [n * 10, n + 100],
          [n * 10 + 1, n + 200],
        ]),
      );
      await waitFor(async () => (await md.getCommit({ project: P, featureGroup: G, id: next.commitId })).commit?.onlineSyncState === OnlineSyncState.SYNCED, {
        timeoutMs: 10_000,
        what: "the later commit is synced online",
      });
      expect(await onlineAges([BigInt(n * 10), BigInt(n * 10 + 1)])).toEqual([n + 100, n + 200]);
    },
    30_000,
  );

  it("cannot be marked back to COMMITTED once FAILED", async () => {
    const failed = (await md.listCommits({ project: P, featureGroup: G })).commits.find((c) => c.state === CommitState.FAILED)!;
    await expect(
      asService.updateCommit({ commit: { project: P, featureGroup: G, id: failed.id, state: CommitState.COMMITTED }, updateMask: { paths: ["state"] } }),
    ).rejects.toThrow(/FAILED/);
  });
});
