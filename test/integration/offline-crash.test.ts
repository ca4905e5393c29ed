import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { arrowPayloads, tableFromChunks } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { findFreePort } from "@granary/postgres";
import { MetadataService, OnlineSyncState } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import { ScalarType, ValueStatus } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import {
  createTestDatabase,
  scratchDir,
  startServiceProcess,
  testKeys,
  waitFor,
  waitForServing,
  type ServiceProcess,
  type TestDatabase,
} from "@granary/testing";

// The offline service is killed (SIGKILL, by its own test hook) between the steps of an insert,
// then started again: the offline and online stores must agree once it is back.
const keys = testKeys();
const P = "crash";
const dir = scratchDir("offline-crash");
let db: TestDatabase;
const inProcess: RunningService[] = [];
let md: Client<typeof MetadataService>;
let on: Client<typeof OnlineService>;
let metadataAddress = "";
let onlineAddress = "";
const ref = { name: "balances", version: 1 };

async function startOffline(crashAt?: string): Promise<{ proc: ServiceProcess; client: Client<typeof OfflineService>; address: string }> {
  const port = await findFreePort();
  const proc = startServiceProcess("services/offline/src/main.ts", {
    ...keys.env,
    GRANARY_OFFLINE_PORT: String(port),
    GRANARY_DATA_DIR: dir.path,
    GRANARY_METADATA_ADDRESS: metadataAddress,
    GRANARY_ONLINE_ADDRESS: onlineAddress,
    GRANARY_OFFLINE_DUCKDB_MEMORY: "256MB",
    GRANARY_LOG_LEVEL: "warn",
    OTEL_SDK_DISABLED: "true",
    ...(crashAt ? { GRANARY_OFFLINE_CRASH_AT: crashAt } : {}),
  });
  const address = `127.0.0.1:${port}`;
  await waitForServing(address, 60_000).catch((err: unknown) => {
    throw new Error(`offline did not start: ${String(err)}\n${proc.output()}`);
  });
  return { proc, client: createServiceClient(OfflineService, address, { apiKey: keys.adminKey }), address };
}

function insertBalances(client: Client<typeof OfflineService>, ids: bigint[], amount: number) {
  const table = new arrow.Table({
    account: arrow.vectorFromArray(ids, new arrow.Int64()),
    event_time: arrow.vectorFromArray(
      ids.map(() => Date.UTC(2025, 0, 1)),
      new arrow.TimestampMillisecond(),
    ),
    amount: arrow.vectorFromArray(
      ids.map(() => amount),
      new arrow.Float64(),
    ),
  });
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return client.insert(requests());
}

async function onlineAmounts(ids: bigint[]): Promise<(number | null)[]> {
  const { vectors } = await on.getFeatureVectors({
    project: P,
    featureView: ref,
    entities: { rowCount: ids.length, servingKeys: [{ name: "account", data: { values: { case: "int64s", value: { values: ids } } } }] },
  });
  const c = vectors!.columns.find((x) => x.name === "amount")!;
  const values = (c.values!.values.value as { values: number[] }).values;
  return values.map((v, i) => (c.statuses[i] === ValueStatus.PRESENT ? v : null));
}

async function offlineAmounts(client: Client<typeof OfflineService>): Promise<Record<string, number>> {
  const t = await tableFromChunks(client.read({ project: P, featureGroup: ref }));
  return Object.fromEntries(t.toArray().map((r) => [String(r.account), r.amount as number]));
}

beforeAll(async () => {
  db = await createTestDatabase("offline_crash");
  const logger = createLogger({ level: "warn", service: "test" });
  const metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: join(dir.path, "md"), DATABASE_URL: db.url }),
    logger,
  );
  inProcess.push(metadata);
  const online = await startOnlineService(
    loadOnlineConfig({ ...keys.env, GRANARY_ONLINE_PORT: "0", GRANARY_DATA_DIR: join(dir.path, "on"), GRANARY_METADATA_ADDRESS: metadata.address }),
    logger,
  );
  inProcess.push(online);
  metadataAddress = metadata.address;
  onlineAddress = online.address;
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  on = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey });
  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      ...ref,
      onlineEnabled: true,
      primaryKey: ["account"],
      eventTime: "event_time",
      columns: [
        { name: "account", type: { scalar: ScalarType.INT64 } },
        { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
        { name: "amount", type: { scalar: ScalarType.DOUBLE } },
      ],
    },
  });
  await md.createFeatureView({ featureView: { project: P, ...ref, query: { featureGroup: ref } } });
  await waitForServing(online.address, 20_000);
}, 60_000);

afterAll(async () => {
  for (const s of inProcess.reverse()) await s.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

describe("a crash between the steps of an insert", () => {
  it("after the files are durable but before the commit is recorded: the files are ignored and moved to quarantine at start", async () => {
    const first = await startOffline("after-files");
    await expect(insertBalances(first.client, [1n, 2n], 10)).rejects.toThrow();
    expect(await first.proc.exited()).toBeNull();
    const groupDir = join(dir.path, "offline", P, "balances", "v1");
    expect(readdirSync(groupDir).filter((d) => /^\d{20}$/.test(d))).toHaveLength(1);
    expect((await md.listCommits({ project: P, featureGroup: ref })).commits).toHaveLength(0);

    const second = await startOffline();
    try {
      expect(readdirSync(groupDir).filter((d) => /^\d{20}$/.test(d) || d.startsWith(".tmp-"))).toHaveLength(0);
      expect(await offlineAmounts(second.client)).toEqual({});
      expect(await onlineAmounts([1n, 2n])).toEqual([null, null]);
    } finally {
      await second.proc.stop();
    }
  }, 120_000);

  it("after the commit is recorded but before the online push: the push is replayed at start", async () => {
    const first = await startOffline("after-commit");
    await expect(insertBalances(first.client, [1n, 2n, 3n], 20)).rejects.toThrow();
    await first.proc.exited();
    const { commits } = await md.listCommits({ project: P, featureGroup: ref });
    expect(commits.map((c) => [c.id, c.onlineSyncState])).toEqual([[1n, OnlineSyncState.PENDING]]);
    expect(await onlineAmounts([1n, 2n, 3n])).toEqual([null, null, null]);
    expect(existsSync(join(dir.path, "offline", commits[0]!.files[0]!))).toBe(true);

    const second = await startOffline();
    try {
      await waitFor(async () => (await md.getCommit({ project: P, featureGroup: ref, id: 1n })).commit?.onlineSyncState === OnlineSyncState.SYNCED, {
        timeoutMs: 45_000,
        what: "the pending commit synced",
      });
      expect(await onlineAmounts([1n, 2n, 3n])).toEqual([20, 20, 20]);
      expect(await offlineAmounts(second.client)).toEqual({ "1": 20, "2": 20, "3": 20 });
      // The service keeps working: a later insert reaches both stores.
      await insertBalances(second.client, [3n], 30);
      // Insert waits for the online push, for a bounded time: on a slow machine allow it to finish.
      await waitFor(async () => (await onlineAmounts([3n]))[0] === 30, { timeoutMs: 30_000, what: "the new row online" });
      expect((await offlineAmounts(second.client))["3"]).toBe(30);
    } finally {
      await second.proc.stop();
    }
  }, 120_000);
});
