// Never delete what you cannot prove is garbage: the offline service started against the wrong
// (empty) metadata database refuses to start and touches no file; files no recorded commit lists
// are moved to the quarantine, not deleted; only the operator's purge command deletes them.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import type { Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { arrowPayloads, loadOfflineConfig, startOfflineService, tableFromChunks } from "@granary/offline";
import { MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { ScalarType } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { captureLogs, createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase } from "@granary/testing";

const keys = testKeys();
const dir = scratchDir("offline-quarantine");
const dataRoot = join(dir.path, "offline");
const logs = captureLogs();
const P = "shop";
const ref = { name: "orders", version: 1 };
const ORPHAN = "00000000000000000999";
let db: TestDatabase;
let emptyDb: TestDatabase;
let metadata: RunningService;
let emptyMetadata: RunningService;
const started: RunningService[] = [];

const offlineEnv = (metadataAddress: string) => ({
  ...keys.env,
  GRANARY_OFFLINE_PORT: "0",
  GRANARY_DATA_DIR: dir.path,
  GRANARY_METADATA_ADDRESS: metadataAddress,
  GRANARY_ONLINE_ADDRESS: "127.0.0.1:1",
  GRANARY_OFFLINE_DUCKDB_MEMORY: "256MB",
});

async function startOffline(metadataAddress: string): Promise<RunningService> {
  const service = await startOfflineService(
    loadOfflineConfig(offlineEnv(metadataAddress)),
    createLogger({ level: "warn", service: "offline", destination: logs.destination }),
  );
  started.push(service);
  return service;
}

async function stopOffline(service: RunningService): Promise<void> {
  started.splice(started.indexOf(service), 1);
  await service.stop();
}

function startMetadata(database: TestDatabase): Promise<RunningService> {
  return startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: database.url }),
    createLogger({ level: "warn", service: "test" }),
  );
}

/** Every file under the data root outside the quarantine, relative to it. */
function filesUnder(root: string, skip = ".quarantine"): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (d === root && e.name === skip) continue;
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

function rows(ids: number[]) {
  return new arrow.Table({
    id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    event_time: arrow.vectorFromArray(
      ids.map((i) => Date.UTC(2025, 0, 1) + i),
      new arrow.TimestampMillisecond(),
    ),
  });
}

async function insert(off: Client<typeof OfflineService>, ids: number[]) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project: P, featureGroup: ref } } };
    for (const ipc of arrowPayloads(rows(ids))) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

const readIds = async (off: Client<typeof OfflineService>) =>
  (await tableFromChunks(off.read({ project: P, featureGroup: ref })))
    .toArray()
    .map((r) => Number(r.toJSON().id))
    .sort((a, b) => a - b);

const purge = (...args: string[]) =>
  promisify(execFile)("npm", ["run", "-s", "offline:purge-quarantine", "--", ...args], {
    env: { ...process.env, GRANARY_OFFLINE_DATA_ROOT: dataRoot },
    cwd: process.cwd(),
  });

let recordedFiles: string[];

beforeAll(async () => {
  db = await createTestDatabase("offline_quarantine");
  emptyDb = await createTestDatabase("offline_quarantine_empty");
  metadata = await startMetadata(db);
  emptyMetadata = await startMetadata(emptyDb);
  const md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  const offline = await startOffline(metadata.address);
  const off = createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey });
  await waitForServing(offline.address, 20_000);
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
      ],
    },
  });
  await waitFor(() => readIds(off).then(() => true), { timeoutMs: 5000, what: "the group to reach the offline service" });
  await insert(off, [1, 2]);
  await insert(off, [3]);
  expect(await readIds(off)).toEqual([1, 2, 3]);
  await stopOffline(offline);
  recordedFiles = filesUnder(dataRoot).filter((f) => f.endsWith(".parquet"));
  expect(recordedFiles).toHaveLength(2);
}, 90_000);

afterAll(async () => {
  for (const s of started.reverse()) await s.stop();
  await emptyMetadata?.stop();
  await metadata?.stop();
  await db?.drop();
  await emptyDb?.drop();
  dir.remove();
}, 30_000);

describe("starting against the wrong metadata database", () => {
  it("refuses to start, logs at fatal level naming the data root and the metadata address, and leaves every file in place", async () => {
    const before = filesUnder(dataRoot, "");
    const err = await startOffline(emptyMetadata.address).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/refusing to start/);
    expect(message).toContain(dataRoot);
    expect(message).toContain(emptyMetadata.address);
    expect(message).toContain(`${P}/orders/v1`);
    const fatal = logs.lines().find((l) => l.level === "fatal");
    expect(String(fatal?.msg)).toContain(dataRoot);
    expect(filesUnder(dataRoot, "")).toEqual(before);
    for (const f of recordedFiles) expect(existsSync(join(dataRoot, f))).toBe(true);
    expect(existsSync(join(dataRoot, ".quarantine"))).toBe(false);
  }, 30_000);
});

describe("starting against the right database", () => {
  it("moves a commit directory no recorded commit lists to the quarantine instead of deleting it, and serves the recorded rows", async () => {
    const orphanDir = join(dataRoot, P, "orders", "v1", ORPHAN);
    mkdirSync(orphanDir);
    copyFileSync(join(dataRoot, recordedFiles[0]!), join(orphanDir, "part-00000.parquet"));
    const offline = await startOffline(metadata.address);
    await waitForServing(offline.address, 20_000);
    expect(existsSync(orphanDir)).toBe(false);
    const batches = readdirSync(join(dataRoot, ".quarantine"));
    expect(batches).toHaveLength(1);
    expect(existsSync(join(dataRoot, ".quarantine", batches[0]!, P, "orders", "v1", ORPHAN, "part-00000.parquet"))).toBe(true);
    for (const f of recordedFiles) expect(existsSync(join(dataRoot, f))).toBe(true);
    const warning = logs.lines().find((l) => l.count === 1 && typeof l.quarantine === "string");
    expect(warning).toMatchObject({ level: "warn", quarantine: join(dataRoot, ".quarantine", batches[0]!) });
    const off = createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey });
    expect(await readIds(off)).toEqual([1, 2, 3]);
    await stopOffline(offline);
  }, 30_000);

  it("deletes the quarantine only with the purge command, and nothing on its dry run", async () => {
    const quarantined = filesUnder(join(dataRoot, ".quarantine"));
    expect(quarantined).toHaveLength(1);
    const dry = await purge("--dry-run");
    expect(dry.stdout).toMatch(/would delete/);
    expect(filesUnder(join(dataRoot, ".quarantine"))).toEqual(quarantined);
    const young = await purge("--older-than-days", "1");
    expect(young.stdout).toMatch(/nothing to delete/);
    expect(filesUnder(join(dataRoot, ".quarantine"))).toEqual(quarantined);
    const real = await purge();
    expect(real.stdout).toMatch(/deleted 1 batch/);
    expect(readdirSync(join(dataRoot, ".quarantine"))).toEqual([]);
    for (const f of recordedFiles) expect(existsSync(join(dataRoot, f))).toBe(true);
  }, 60_000);
});
