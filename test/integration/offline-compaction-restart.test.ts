// Compaction in the background, and a stop between a compaction's record and the deletion of the
// files it replaced: the next start deletes exactly those, before serving, and reads are unchanged.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { arrowPayloads, loadOfflineConfig, startOfflineService, tableFromChunks } from "@granary/offline";
import { CommitKind, MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { ScalarType } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";

const keys = testKeys();
const dir = scratchDir("offline-compaction-restart");
const dataRoot = join(dir.path, "offline");
const P = "shop";
const ref = { name: "orders", version: 1 };
let db: TestDatabase;
let metadata: RunningService;
const started: RunningService[] = [];

async function startOffline(env: Record<string, string>): Promise<{ service: RunningService; off: Client<typeof OfflineService> }> {
  const service = await startOfflineService(
    loadOfflineConfig({
      ...keys.env,
      GRANARY_OFFLINE_PORT: "0",
      GRANARY_DATA_DIR: dir.path,
      GRANARY_METADATA_ADDRESS: metadata.address,
      GRANARY_ONLINE_ADDRESS: "127.0.0.1:1",
      GRANARY_OFFLINE_DUCKDB_MEMORY: "256MB",
      ...env,
    }),
    createLogger({ level: "warn", service: "offline" }),
  );
  started.push(service);
  await waitForServing(service.address, 20_000);
  return { service, off: createServiceClient(OfflineService, service.address, { apiKey: keys.adminKey }) };
}

async function stopOffline(service: RunningService): Promise<void> {
  started.splice(started.indexOf(service), 1);
  await service.stop();
}

async function insert(off: Client<typeof OfflineService>, ids: number[], amount: number) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref } } };
    const table = new arrow.Table({
      id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
      event_time: arrow.vectorFromArray(
        ids.map(() => Date.UTC(2025, 0, 1)),
        new arrow.TimestampMillisecond(),
      ),
      amount: arrow.vectorFromArray(
        ids.map(() => amount),
        new arrow.Float64(),
      ),
    });
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

const readAll = async (off: Client<typeof OfflineService>, asOf?: bigint) =>
  (await tableFromChunks(off.read({ project: P, featureGroup: ref, ...(asOf ? { asOf: { case: "asOfCommit" as const, value: asOf } } : {}) })))
    .toArray()
    .map((r) => `${r.toJSON().id}:${r.toJSON().amount}`)
    .sort();

const commitDirs = () => readdirSync(join(dataRoot, P, "orders", "v1")).filter((d) => /^\d{20}$/.test(d));

beforeAll(async () => {
  db = await createTestDatabase("offline_compaction_restart");
  metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    createLogger({ level: "warn", service: "test" }),
  );
  const md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      ...ref,
      primaryKey: ["id"],
      eventTime: "event_time",
      columns: [
        { name: "id", type: { scalar: ScalarType.INT64 } },
        { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
        { name: "amount", type: { scalar: ScalarType.DOUBLE } },
      ],
    },
  });
}, 60_000);

afterAll(async () => {
  for (const s of started.reverse()) await s.stop();
  await metadata?.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

describe("background compaction and restart", () => {
  it("compacts a group once it has enough files; a start deletes what a recorded compaction replaced, and nothing else", async () => {
    // Every second, groups with 3 files since their last compaction; replaced files kept an hour.
    const first = await startOffline({
      GRANARY_OFFLINE_COMPACTION_INTERVAL_S: "1",
      GRANARY_OFFLINE_COMPACTION_MIN_FILES: "3",
      GRANARY_OFFLINE_COMPACTION_GRACE_S: "3600",
    });
    await waitFor(
      () =>
        readAll(first.off).then(
          () => true,
          () => false,
        ),
      { what: "the group known to the offline service" },
    );
    const ids: bigint[] = [];
    ids.push((await insert(first.off, [1, 2], 10)).commitId);
    ids.push((await insert(first.off, [2, 3], 20)).commitId);
    const views = async (off: Client<typeof OfflineService>) => [await readAll(off), ...(await Promise.all(ids.map((id) => readAll(off, id))))];
    const md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
    const compactions = async () => (await md.listCommits({ project: P, featureGroup: ref })).commits.filter((c) => c.kind === CommitKind.COMPACTION);
    // Two files: below the threshold, nothing happens.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await compactions()).toHaveLength(0);
    ids.push((await insert(first.off, [3, 4], 30)).commitId);
    const before = await views(first.off);
    await waitFor(async () => (await compactions()).length === 1, { timeoutMs: 15_000, what: "a background compaction" });
    expect(await views(first.off)).toEqual(before);
    // The replaced directories wait for their grace period; the service stops first.
    expect(commitDirs()).toHaveLength(4);
    await stopOffline(first.service);

    const second = await startOffline({ GRANARY_OFFLINE_COMPACTION_INTERVAL_S: "0" });
    const [compaction] = await compactions();
    const kept = compaction!.files[0]!.split("/")[3];
    expect(commitDirs()).toEqual([kept]);
    expect(existsSync(join(dataRoot, ".quarantine"))).toBe(false);
    expect(await views(second.off)).toEqual(before);
  }, 60_000);
});
