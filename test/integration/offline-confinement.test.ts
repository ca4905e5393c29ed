// The offline service's side of the trust boundary: commit and training-dataset records that name
// files outside their group's (dataset's) directory are never read, whatever the catalogue says;
// and one project's open streams cannot take the service from another project.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { arrowPayloads, loadOfflineConfig, startOfflineService, tableFromChunks } from "@granary/offline";
import { CommitKind, DatasetSplit, MetadataService, TrainingDatasetStatus } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { ScalarType } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { captureLogs, createTestDatabase, scratchDir, testKeys, waitFor, waitForServing, type TestDatabase, failure } from "@granary/testing";

const keys = testKeys();
const dir = scratchDir("offline-confinement");
const dataRoot = join(dir.path, "offline");
const outsideDir = join(dir.path, "outside");
const logs = captureLogs();
let db: TestDatabase;
let metadata: RunningService;
let offline: RunningService;
let offlineEnv: Record<string, string>;
let md: Client<typeof MetadataService>;
let asService: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;

const T = (scalar: ScalarType) => ({ scalar, list: false });
const ref = (name: string) => ({ name, version: 1 });
const COLUMNS = [
  { name: "id", type: T(ScalarType.INT64) },
  { name: "event_time", type: T(ScalarType.TIMESTAMP) },
  { name: "payload", type: T(ScalarType.STRING) },
];
const SECRET = "victim-secret";

function rowsOf(ids: number[], payload: (id: number) => string) {
  return new arrow.Table({
    id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    event_time: arrow.vectorFromArray(
      ids.map((i) => Date.UTC(2025, 0, 1) + i),
      new arrow.TimestampMillisecond(),
    ),
    payload: arrow.vectorFromArray(ids.map(payload), new arrow.Utf8()),
  });
}

async function insert(project: string, group: string, table: arrow.Table) {
  async function* requests() {
    yield { message: { case: "header" as const, value: { project, featureGroup: ref(group) } } };
    for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
  }
  return off.insert(requests());
}

async function group(project: string, name: string) {
  await md.createFeatureGroup({ featureGroup: { project, name, version: 1, primaryKey: ["id"], eventTime: "event_time", columns: COLUMNS } });
  await waitFor(() => read(off, project, name).then(() => true), { timeoutMs: 5000, what: `feature group ${name} to reach the offline service` });
}

const read = (client: Client<typeof OfflineService>, project: string, name: string, extra: object = {}) =>
  tableFromChunks(client.read({ project, featureGroup: ref(name), ...extra }));
const payloads = (t: arrow.Table) => t.toArray().map((r) => String(r.toJSON().payload));

async function startOffline() {
  return startOfflineService(loadOfflineConfig(offlineEnv), createLogger({ level: "warn", service: "offline", destination: logs.destination }));
}

beforeAll(async () => {
  db = await createTestDatabase("offline_confinement");
  const quiet = createLogger({ level: "warn", service: "test" });
  metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    quiet,
  );
  offlineEnv = {
    ...keys.env,
    GRANARY_OFFLINE_PORT: "0",
    GRANARY_DATA_DIR: dir.path,
    GRANARY_METADATA_ADDRESS: metadata.address,
    // No group here is online-enabled: nothing dials the online service.
    GRANARY_ONLINE_ADDRESS: "127.0.0.1:1",
    GRANARY_OFFLINE_DUCKDB_MEMORY: "256MB",
    // Small messages: a stream nobody reads stalls after a few of them instead of finishing into buffers.
    GRANARY_OFFLINE_MESSAGE_BYTES: "16384",
  };
  offline = await startOffline();
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  // Commit and training-dataset records are written by the offline service only: forged with the
  // internal service key, as a compromised or buggy service could.
  asService = createServiceClient(MetadataService, metadata.address, { apiKey: keys.serviceKey });
  off = createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey });
  await waitForServing(offline.address, 20_000);
}, 60_000);

afterAll(async () => {
  await offline?.stop();
  await metadata?.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

describe("forged records", () => {
  const VICTIM = "victim";
  const ATTACKER = "attacker";
  let victimFile: string;
  let outsideFile: string;

  beforeAll(async () => {
    await md.createProject({ name: VICTIM });
    await md.createProject({ name: ATTACKER });
    await group(VICTIM, "orders");
    await insert(
      VICTIM,
      "orders",
      rowsOf([1, 2, 3], (i) => `${SECRET}-${i}`),
    );
    const [commit] = (await md.listCommits({ project: VICTIM, featureGroup: ref("orders") })).commits;
    victimFile = commit!.files[0]!;
    // A Parquet file of the right shape outside the data root, and a link to it planted inside.
    mkdirSync(join(outsideDir, "00000000000000000099"), { recursive: true });
    outsideFile = join(outsideDir, "00000000000000000099", "part-00000.parquet");
    copyFileSync(join(dataRoot, victimFile), outsideFile);
    for (const name of ["rel", "abs", "cross", "link_file", "link_dir"]) {
      await group(ATTACKER, name);
      await insert(
        ATTACKER,
        name,
        rowsOf([10], () => "mine"),
      );
    }
    const linkDir = join(dataRoot, ATTACKER, "link_file", "v1", "00000000000000000098");
    mkdirSync(linkDir, { recursive: true });
    symlinkSync(outsideFile, join(linkDir, "part-00000.parquet"));
    symlinkSync(join(outsideDir, "00000000000000000099"), join(dataRoot, ATTACKER, "link_dir", "v1", "00000000000000000099"));
  }, 60_000);

  /** Records a commit listing `files` in the attacker's group, as only a service may. */
  async function forge(name: string, files: string[]) {
    const { commit } = await asService.createCommit({
      commit: { project: ATTACKER, featureGroup: ref(name), kind: CommitKind.INSERT, rowsInserted: 3n, files },
    });
    return commit!;
  }

  it.each([
    ["rel", "another project's files through '..'", () => [`../../${victimFile}`]],
    ["abs", "a Parquet file outside the data root by its absolute path", () => [outsideFile]],
    ["cross", "another project's file by its own path", () => [victimFile]],
    ["link_file", "a symlink inside the group pointing outside the data root", () => [`${ATTACKER}/link_file/v1/00000000000000000098/part-00000.parquet`]],
    ["link_dir", "a symlinked commit directory leading outside the data root", () => [`${ATTACKER}/link_dir/v1/00000000000000000099/part-00000.parquet`]],
  ])("%s: a commit naming %s is never read; the group fails with DATA_LOSS naming the commit", async (name, _what, files) => {
    expect(payloads(await read(off, ATTACKER, name))).toEqual(["mine"]);
    const forged = await forge(name, files());
    // The offline service learns of the commit from the change feed: reads fail once it has.
    const err = (await waitFor(
      async () => {
        const outcome = await read(off, ATTACKER, name).then(
          (t) => t,
          (e: unknown) => e,
        );
        if (outcome instanceof arrow.Table) {
          expect(payloads(outcome).filter((p) => p.startsWith(SECRET))).toEqual([]);
          return undefined;
        }
        return outcome as ConnectError;
      },
      { timeoutMs: 5000, what: "the forged commit to reach the offline service" },
    ))!;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe(Code.DataLoss);
    expect(err.rawMessage).toContain(`commit ${forged.id}`);
    for (const leak of [dataRoot, outsideDir, victimFile, VICTIM]) expect(err.rawMessage).not.toContain(leak);
    // Every path to the group's files refuses alike: changes, statistics, and time travel to the forged commit.
    expect((await failure(tableFromChunks(off.readChanges({ project: ATTACKER, featureGroup: ref(name), window: {} })))).code).toBe(Code.DataLoss);
    expect((await failure(off.computeStatistics({ project: ATTACKER, featureGroup: ref(name) }))).code).toBe(Code.DataLoss);
    // Reads before the forged commit still answer, and the victim is untouched.
    expect(payloads(await read(off, ATTACKER, name, { asOf: { case: "asOfCommit", value: forged.id - 1n } }))).toEqual(["mine"]);
    expect(payloads(await read(off, VICTIM, "orders")).sort()).toEqual([`${SECRET}-1`, `${SECRET}-2`, `${SECRET}-3`]);
    const warning = logs.lines().find((l) => l.commit === forged.id.toString() && l.group === name);
    expect(warning).toMatchObject({ level: "warn", project: ATTACKER });
  });

  it("a training dataset naming files outside its directory is never read", async () => {
    await md.createFeatureView({ featureView: { project: ATTACKER, name: "view", version: 1, query: { featureGroup: ref("rel") } } });
    for (const path of [
      `${ATTACKER}/.training/view/v1/../../../../${victimFile}`,
      outsideFile,
      victimFile,
      `${ATTACKER}/.training/view/v1/lmz0abc-0123abcd/../../../../../${victimFile}`,
    ]) {
      const { trainingDataset: created } = await asService.createTrainingDataset({ trainingDataset: { project: ATTACKER, featureView: ref("view") } });
      await asService.updateTrainingDataset({
        trainingDataset: {
          project: ATTACKER,
          featureView: ref("view"),
          version: created!.version,
          status: TrainingDatasetStatus.READY,
          rowCount: 3n,
          files: [{ split: DatasetSplit.TRAIN, path, rowCount: 3n }],
        },
        updateMask: { paths: ["status", "files", "row_count"] },
      });
      const err = await failure(
        tableFromChunks(off.readTrainingDataset({ project: ATTACKER, featureView: ref("view"), version: created!.version, untransformed: true })),
      );
      expect(err.code).toBe(Code.DataLoss);
      expect(err.rawMessage).toContain(`training dataset ${created!.version}`);
      for (const leak of [dataRoot, outsideDir, victimFile]) expect(err.rawMessage).not.toContain(leak);
    }
  });

  it("a restart's clean-up deletes nothing outside the data root, nor any recorded commit", async () => {
    await offline.stop();
    offline = await startOffline();
    off = createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey });
    await waitForServing(offline.address, 20_000);
    expect(existsSync(outsideFile)).toBe(true);
    expect(readdirSync(outsideDir)).toEqual(["00000000000000000099"]);
    expect(existsSync(join(dataRoot, victimFile))).toBe(true);
    expect(payloads(await read(off, VICTIM, "orders")).sort()).toEqual([`${SECRET}-1`, `${SECRET}-2`, `${SECRET}-3`]);
    expect((await failure(read(off, ATTACKER, "link_dir"))).code).toBe(Code.DataLoss);
  }, 60_000);
});

describe("concurrent streams per project", () => {
  const A = "alpha";
  const B = "beta";
  const limit = loadOfflineConfig({}).maxStreamsPerProject;

  beforeAll(async () => {
    await md.createProject({ name: A });
    await md.createProject({ name: B });
    await group(A, "wide");
    await group(B, "small");
    // Far more than the buffers between a stalled reader and the server (a few messages of 16 KiB
    // and the HTTP/2 windows): a stream nobody reads stays open, holding its slot.
    await insert(
      A,
      "wide",
      rowsOf(
        Array.from({ length: 40_000 }, (_, i) => i),
        (i) => `${i}`.padEnd(120, "x"),
      ),
    );
    await insert(
      B,
      "small",
      rowsOf([1, 2], (i) => `b${i}`),
    );
  }, 60_000);

  it(`holds ${limit} streams of one project open, refuses the next with RESOURCE_EXHAUSTED, while another project reads`, async () => {
    expect(limit).toBe(4);
    // Each stream on its own connection, as separate clients would be: a stalled stream must not
    // stall the others through the connection's flow-control window.
    const client = () => createServiceClient(OfflineService, offline.address, { apiKey: keys.adminKey });
    const held = await Promise.all(
      Array.from({ length: limit }, async () => {
        const abort = new AbortController();
        const it = client()
          .read({ project: A, featureGroup: ref("wide") }, { signal: abort.signal })
          [Symbol.asyncIterator]();
        expect((await it.next()).done).toBe(false);
        return { abort, it };
      }),
    );
    const events: string[] = [];

    const started = performance.now();
    const b = await read(client(), B, "small");
    const bMs = performance.now() - started;
    events.push(`B read ${b.numRows} rows`);

    const refusedAt = performance.now();
    const refused = await failure(read(client(), A, "wide"));
    const refusedMs = performance.now() - refusedAt;
    events.push(`A refused: ${Code[refused.code]}`);
    expect(refused.rawMessage).toContain(`limit of ${limit}`);
    expect(refused.rawMessage).toContain("retry");
    expect(Number(refused.metadata.get("retry-after-ms"))).toBeGreaterThan(0);
    // Every stream kind of the project counts against the same limit.
    expect((await failure(tableFromChunks(client().readChanges({ project: A, featureGroup: ref("wide"), window: {} })))).code).toBe(Code.ResourceExhausted);

    // A's streams were open all along: each still has rows to give.
    for (const { it } of held) expect((await it.next()).done).toBe(false);
    events.push("A's streams still open");
    expect(events).toEqual(["B read 2 rows", "A refused: ResourceExhausted", "A's streams still open"]);
    // For the record only (tests assert behaviour, never time): neither waited on A's streams.
    console.info(JSON.stringify({ bReadMs: Math.round(bMs), aRefusedMs: Math.round(refusedMs) }));

    // Cancelled streams give their slots back.
    for (const { abort } of held) abort.abort();
    await waitFor(async () => (await read(client(), A, "wide", { limit: 5n })).numRows === 5, {
      timeoutMs: 5000,
      what: "A's slots freed by cancelling its streams",
    });
  }, 60_000);
});
