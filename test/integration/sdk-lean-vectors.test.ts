import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { clone } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { connect, decodeVectors, FeatureView, Project, type ConnectOptions, type Granary } from "@granary/client";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { FeatureViewSchema, MetadataService, SelectionMode } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import { loadRegistryConfig, startRegistryService } from "@granary/registry";
import type { RunningService } from "@granary/server";
import { createServiceClient } from "@granary/service-clients";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitForServing, type TestDatabase, failure } from "@granary/testing";

// The SDK reads GetFeatureVectors responses into typed arrays itself (libs/client vector-wire.ts),
// calling the method with google.protobuf.Empty as its output type over a grpc-js channel with the
// interceptors of every other call (grpc-js-transport.ts). Here against a real online service: the
// same values as the generated client's protobuf-es messages, for every column type, and the same
// errors, deadlines, API key and TLS as the connect clients.
const keys = testKeys();
const dir = scratchDir("sdk-lean-vectors");
const P = "lean";
let db: TestDatabase;
const running: RunningService[] = [];
let on: Client<typeof OnlineService>;
let granary: Granary;
let options: ConnectOptions;
let project: Project;

const data = (kind: Exclude<ColumnData["values"]["case"], "lists" | undefined>, values: readonly unknown[], nullIndexes: number[] = []): ColumnData =>
  ({ values: { case: kind, value: { values } }, nullIndexes }) as ColumnData;
const list = (offsets: number[], items: ColumnData, nullIndexes: number[] = []): ColumnData =>
  ({ values: { case: "lists", value: { offsets, items } }, nullIndexes }) as ColumnData;

const columns: [string, ScalarType, boolean?, number?][] = [
  ["id", ScalarType.INT64],
  ["b", ScalarType.BOOL],
  ["i", ScalarType.INT32],
  ["l", ScalarType.INT64],
  ["f", ScalarType.FLOAT],
  ["d", ScalarType.DOUBLE],
  ["s", ScalarType.STRING],
  ["y", ScalarType.BYTES],
  ["t", ScalarType.TIMESTAMP],
  ["dt", ScalarType.DATE],
  ["li", ScalarType.INT64, true],
  ["emb", ScalarType.FLOAT, true, 2],
  ["ls", ScalarType.STRING, true],
];
const features = columns.slice(1).map(([name]) => name);

beforeAll(async () => {
  db = await createTestDatabase("sdk_lean_vectors");
  const logger = createLogger({ level: "warn", service: "test" });
  const env = { ...keys.env, GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url };
  const metadata = await startMetadataService(loadMetadataConfig({ ...env, GRANARY_METADATA_PORT: "0" }), logger);
  running.push(metadata);
  const registry = await startRegistryService(loadRegistryConfig({ ...env, GRANARY_REGISTRY_PORT: "0", GRANARY_METADATA_ADDRESS: metadata.address }), logger);
  running.push(registry);
  const online = await startOnlineService(
    loadOnlineConfig({ ...env, GRANARY_ONLINE_PORT: "0", GRANARY_METADATA_ADDRESS: metadata.address, GRANARY_REGISTRY_ADDRESS: registry.address }),
    logger,
  );
  running.push(online);
  const md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  const reg = createServiceClient(RegistryService, registry.address, { apiKey: keys.adminKey });
  on = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey });
  await waitForServing(online.address, 10_000);

  await md.createProject({ name: P });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "things",
      version: 1,
      columns: columns.map(([name, scalar, isList, dimension]) => ({ name, type: { scalar, list: isList ?? false, dimension: dimension ?? 0 } })),
      primaryKey: ["id"],
      onlineEnabled: true,
    },
  });
  await md.createFeatureView({
    featureView: {
      project: P,
      name: "things",
      version: 1,
      query: { featureGroup: { name: "things", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: features } },
    },
  });
  const { modelVersion } = await reg.createModelVersion({ modelVersion: { project: P, model: "m", featureView: { name: "things", version: 1 } } });
  await reg.finalizeModelVersion({ project: P, model: "m", version: modelVersion!.version });
  await reg.setAlias({ project: P, model: "m", alias: "production", version: modelVersion!.version });

  // Three rows: typical values, extremes and nulls, and one more; id 9 is never written.
  await on.writeRows({
    project: P,
    featureGroup: { name: "things", version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: 3,
        columns: [
          { name: "id", data: data("int64s", [1n, 2n, 3n]) },
          { name: "b", data: data("bools", [true, false, false], [2]) },
          { name: "i", data: data("int32s", [7, -2147483648, 0], [2]) },
          { name: "l", data: data("int64s", [42n, -(2n ** 63n), 2n ** 53n + 1n]) },
          { name: "f", data: data("floats", [0.1, -3.5, 0], [2]) },
          { name: "d", data: data("doubles", [0.1, -0, 1e308]) },
          { name: "s", data: data("strings", ["ä ✓", "", ""], [2]) },
          { name: "y", data: data("bytes", [new Uint8Array([1, 2]), new Uint8Array(), new Uint8Array([255])]) },
          { name: "t", data: data("timestamps", [1_733_550_000_123_456n, -1_500n, 0n], [2]) },
          { name: "dt", data: data("dates", [20_000, -1, 0]) },
          { name: "li", data: list([0, 2, 2, 3], data("int64s", [1n, 2n ** 60n, -3n])) },
          { name: "emb", data: list([0, 2, 4, 6], data("floats", [1, 2, 3, 4, 5, 6])) },
          { name: "ls", data: list([0, 1, 1, 1], data("strings", ["x"]), [2]) },
        ],
      },
    },
  });
  options = {
    addresses: { metadata: metadata.address, online: online.address, offline: "127.0.0.1:1", registry: registry.address },
    apiKey: keys.adminKey,
    timeoutMs: 20_000,
    env: {},
  };
  granary = connect(options);
  project = await granary.project(P, { create: false });
}, 60_000);

afterAll(async () => {
  granary?.close();
  for (const s of running.reverse()) await s.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

const ids = [1, 2, 3, 9];
const entities = { rowCount: ids.length, servingKeys: [{ name: "id", data: data("int64s", ids.map(BigInt)) }] };

describe("lean feature vectors", () => {
  it("getFeatureVectorBatch gives the generated client's values, as typed columns", async () => {
    const view = await project.getFeatureView("things", 1);
    const batch = await view.getFeatureVectorBatch(ids.map((id) => ({ id })));
    const raw = await on.getFeatureVectors({ project: P, featureView: { name: "things", version: 1 }, entities });
    const expected = decodeVectors(raw.vectors);

    expect(batch.rowCount).toBe(4);
    expect(batch.columns.map((c) => c.name)).toEqual(features);
    expect(batch.rows).toEqual(expected.rows);
    expect(batch.statuses).toEqual(expected.statuses);
    expect(batch.rows[0]).toEqual({
      b: true,
      i: 7,
      l: 42,
      f: Math.fround(0.1),
      d: 0.1,
      s: "ä ✓",
      y: new Uint8Array([1, 2]),
      t: new Date(1_733_550_000_123),
      dt: new Date(20_000 * 86_400_000),
      li: [1, 2n ** 60n],
      emb: [1, 2],
      ls: ["x"],
    });
    expect(batch.rows[1]).toMatchObject({ l: -(2n ** 63n), t: new Date(-1), dt: new Date(-86_400_000), li: [], emb: [3, 4] });
    expect(batch.rows[2]).toMatchObject({ b: null, i: null, f: null, s: null, t: null, l: 2n ** 53n + 1n, ls: null });
    expect(batch.status(2, "b")).toBe("NULL");
    expect(batch.status(3, "d")).toBe("NOT_FOUND");
    expect(batch.rows[3]).toEqual(Object.fromEntries(features.map((f) => [f, null])));

    // Each column's values are the wire arrays, typed.
    for (const column of raw.vectors!.columns) {
      const lean = batch.column(column.name)!;
      expect(lean.statuses).toEqual(Uint8Array.from(column.statuses));
      const v = column.values!.values;
      const wire = ((v.case === "lists" ? v.value.items!.values.value : v.value) as { values: unknown[] }).values;
      expect(Array.from(lean.values as ArrayLike<unknown>)).toEqual(v.case === "bools" ? wire.map((x) => (x ? 1 : 0)) : wire);
    }
    expect(batch.column("d")!.values).toBeInstanceOf(Float64Array);
    expect(batch.column("l")!.values).toBeInstanceOf(BigInt64Array);
    expect(batch.column("emb")!.values).toBeInstanceOf(Float32Array);
    expect(batch.column("emb")!.offsets).toEqual(Uint32Array.from([0, 2, 4, 6, 6]));
  });

  it("getFeatureVectors, getFeatureVectorsWithStatus and getFeatureVector keep their results", async () => {
    const view = await project.getFeatureView("things", 1);
    const raw = await on.getFeatureVectors({ project: P, featureView: { name: "things", version: 1 }, entities });
    const expected = decodeVectors(raw.vectors);
    expect(await view.getFeatureVectors(ids.map((id) => ({ id })))).toEqual(expected.rows);
    expect(await view.getFeatureVectorsWithStatus(ids.map((id) => ({ id })))).toEqual(expected);
    expect(await view.getFeatureVector({ id: 2 })).toEqual(expected.rows[1]);
  });

  it("model vectors: the same values, and the model version and view through protobuf-es", async () => {
    const served = await project.getModelFeatureVectors(
      "m",
      { alias: "production" },
      ids.map((id) => ({ id })),
    );
    const raw = await on.getModelFeatureVectors({ project: P, model: "m", modelVersion: { case: "alias", value: "production" }, entities });
    expect(served.modelVersion).toBe(raw.modelVersion);
    expect(served.featureView).toEqual({ name: "things", version: 1 });
    expect(served.trainingDatasetVersion).toBe(raw.trainingDatasetVersion);
    expect(served.rows).toEqual(decodeVectors(raw.vectors).rows);
    expect(served.statuses).toEqual(decodeVectors(raw.vectors).statuses);
  });

  it("returns event times when asked, as the generated client does", async () => {
    const view = await project.getFeatureView("things", 1);
    const batch = await view.getFeatureVectorBatch(
      ids.map((id) => ({ id })),
      { includeEventTimes: true },
    );
    const raw = await on.getFeatureVectors({ project: P, featureView: { name: "things", version: 1 }, entities, options: { includeEventTimes: true } });
    expect(raw.vectors!.eventTimes).toHaveLength(1);
    expect(batch.eventTimes).toEqual(
      raw.vectors!.eventTimes.map((t) => ({
        featureGroup: { name: t.featureGroup!.name, version: t.featureGroup!.version },
        micros: BigInt64Array.from(t.micros),
      })),
    );
    expect(batch.eventTimes[0]!.micros[3]).toBe(0n);
    expect((await view.getFeatureVectorBatch([{ id: 1 }])).eventTimes).toEqual([]);
  });

  it("keeps connect's error mapping", async () => {
    const view = await project.getFeatureView("things", 1);
    await expect(view.getFeatureVectorBatch([{ id: "not a number" }])).rejects.toThrow(TypeError);
    await expect(project.getModelFeatureVectors("m", { alias: "staging" }, [{ id: 1 }])).rejects.toMatchObject({ code: 5 });
  });

  it("gives the online service's error as the generated client gives it", async () => {
    // A handle that thinks the serving key optional sends none; the service refuses the request.
    const definition = clone(FeatureViewSchema, (await project.getFeatureView("things", 1)).definition);
    for (const key of definition.servingKeys) key.required = false;
    const lax = new FeatureView(granary.services, definition);
    const sdk = await failure(lax.getFeatureVectorBatch([{}]));
    const raw = await failure(on.getFeatureVectors({ project: P, featureView: { name: "things", version: 1 }, entities: { rowCount: 1, servingKeys: [] } }));
    expect(sdk.code).toBe(Code.InvalidArgument);
    expect({ code: sdk.code, rawMessage: sdk.rawMessage, details: sdk.details }).toEqual({ code: raw.code, rawMessage: raw.rawMessage, details: raw.details });
    expect(sdk.rawMessage).toMatch(/serving key "id" is missing/);
  });

  it("ends a lookup at the deadline, and when its signal aborts", async () => {
    const { definition } = await project.getFeatureView("things", 1);
    const hurried = connect({ ...options, timeoutMs: 1 });
    const late = await failure(new FeatureView(hurried.services, definition).getFeatureVectors([{ id: 1 }]));
    expect(late.code).toBe(Code.DeadlineExceeded);
    hurried.close();

    const view = await project.getFeatureView("things", 1);
    const aborted = await failure(view.getFeatureVectors([{ id: 1 }], { signal: AbortSignal.abort() }));
    expect(aborted.code).toBe(Code.Canceled);
    const controller = new AbortController();
    const pending = view.getFeatureVectors(
      ids.map((id) => ({ id })),
      { signal: controller.signal },
    );
    controller.abort();
    expect((await failure(pending)).code).toBe(Code.Canceled);
    // The channel is still good after a cancelled call.
    expect(await view.getFeatureVectors([{ id: 1 }])).toHaveLength(1);
  });

  it("sends the API key: without one, UNAUTHENTICATED with the SDK's hint", async () => {
    const { definition } = await project.getFeatureView("things", 1);
    const keyless = connect({ ...options, apiKey: undefined, env: { GRANARY_DATA_DIR: join(dir.path, "no-key") } });
    expect(keyless.apiKeySource).toBeUndefined();
    const err = await failure(new FeatureView(keyless.services, definition).getFeatureVectors([{ id: 1 }]));
    const raw = await failure(
      createServiceClient(OnlineService, options.addresses!.online!).getFeatureVectors({ project: P, featureView: { name: "things", version: 1 }, entities }),
    );
    expect(err.code).toBe(Code.Unauthenticated);
    expect(raw.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toBe(
      `${raw.rawMessage} (no API key was found: it is read from the apiKey option, GRANARY_API_KEY, the file GRANARY_API_KEY_FILE names, or ${join(dir.path, "no-key", "admin.key")} (written by \`npm start\` on first start; GRANARY_DATA_DIR moves it))`,
    );
    const model = await failure(
      new Project(keyless.services, P).getModelFeatureVectors("m", { alias: "production" }, [{ id: 1 }], {
        featureView: new FeatureView(keyless.services, definition),
      }),
    );
    expect(model.code).toBe(Code.Unauthenticated);
    keyless.close();
  });

  it("spreads lookups over onlineConnections", async () => {
    const pooled = connect({ ...options, onlineConnections: 3 });
    const view = new FeatureView(pooled.services, (await project.getFeatureView("things", 1)).definition);
    const raw = await on.getFeatureVectors({ project: P, featureView: { name: "things", version: 1 }, entities });
    const results = await Promise.all(Array.from({ length: 6 }, () => view.getFeatureVectors(ids.map((id) => ({ id })))));
    for (const rows of results) expect(rows).toEqual(decodeVectors(raw.vectors).rows);
    pooled.close();
  });
});

describe("lean feature vectors over TLS (client certificates required)", () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const certs = join(dir.path, "certs");
  const tlsRunning: RunningService[] = [];
  let tlsDb: TestDatabase;
  let tlsOptions: ConnectOptions;

  beforeAll(async () => {
    execFileSync("sh", [join(root, "scripts/dev-certs.sh"), certs], { stdio: "pipe" });
    tlsDb = await createTestDatabase("sdk_lean_vectors_tls");
    const logger = createLogger({ level: "error", service: "test" });
    const env = {
      ...keys.env,
      GRANARY_DATA_DIR: join(dir.path, "tls"),
      DATABASE_URL: tlsDb.url,
      GRANARY_TLS_CERT: join(certs, "server.crt"),
      GRANARY_TLS_KEY: join(certs, "server.key"),
      GRANARY_TLS_CA: join(certs, "ca.crt"),
    };
    const metadata = await startMetadataService(loadMetadataConfig({ ...env, GRANARY_METADATA_PORT: "0" }), logger);
    tlsRunning.push(metadata);
    const registry = await startRegistryService(loadRegistryConfig({ ...env, GRANARY_REGISTRY_PORT: "0", GRANARY_METADATA_ADDRESS: metadata.address }), logger);
    tlsRunning.push(registry);
    const online = await startOnlineService(
      loadOnlineConfig({ ...env, GRANARY_ONLINE_PORT: "0", GRANARY_METADATA_ADDRESS: metadata.address, GRANARY_REGISTRY_ADDRESS: registry.address }),
      logger,
    );
    tlsRunning.push(online);
    const tls = { caFile: join(certs, "ca.crt"), certFile: join(certs, "client.crt"), keyFile: join(certs, "client.key") };
    const md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey, tls });
    const onTls = createServiceClient(OnlineService, online.address, { apiKey: keys.adminKey, tls });
    await md.createProject({ name: P });
    await md.createFeatureGroup({
      featureGroup: {
        project: P,
        name: "pairs",
        version: 1,
        columns: [
          { name: "id", type: { scalar: ScalarType.INT64 } },
          { name: "d", type: { scalar: ScalarType.DOUBLE } },
        ],
        primaryKey: ["id"],
        onlineEnabled: true,
      },
    });
    await md.createFeatureView({
      featureView: { project: P, name: "pairs", version: 1, query: { featureGroup: { name: "pairs", version: 1 }, selection: { mode: SelectionMode.ALL } } },
    });
    // The online service learns the group from metadata's change stream: retry until it knows it.
    const write = () =>
      onTls.writeRows({
        project: P,
        featureGroup: { name: "pairs", version: 1 },
        rows: {
          case: "columns",
          value: {
            rowCount: 2,
            columns: [
              { name: "id", data: data("int64s", [1n, 2n]) },
              { name: "d", data: data("doubles", [0.5, -2]) },
            ],
          },
        },
      });
    for (let attempt = 0; ; attempt++) {
      try {
        await write();
        break;
      } catch (err) {
        if (attempt > 100 || ![Code.NotFound, Code.Unavailable].includes(ConnectError.from(err).code)) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    tlsOptions = {
      addresses: { metadata: metadata.address, online: online.address, offline: "127.0.0.1:1", registry: registry.address },
      apiKey: keys.adminKey,
      ...tls,
      env: {},
    };
  }, 90_000);

  afterAll(async () => {
    for (const s of tlsRunning.reverse()) await s.stop();
    await tlsDb?.drop();
  }, 30_000);

  it("reads vectors over TLS with the SDK's CA and client certificate", async () => {
    const secure = connect(tlsOptions);
    const view = await (await secure.project(P, { create: false })).getFeatureView("pairs", 1);
    expect(await view.getFeatureVectors([{ id: 2 }, { id: 1 }, { id: 3 }])).toEqual([
      { id: 2, d: -2 },
      { id: 1, d: 0.5 },
      { id: 3, d: null },
    ]);
    secure.close();
  });

  it("refuses a lookup without the client certificate, or in cleartext: UNAVAILABLE", async () => {
    // Straight on the transport: a handle's first lookup would retry UNAVAILABLE for 10 s (catalogue-lag.ts).
    // (connect-node says INTERNAL and CANCELED for these two; grpc-js reports a connection it could not establish.)
    const req = {
      project: P,
      featureView: { name: "pairs", version: 1 },
      entities: { rowCount: 1, servingKeys: [{ name: "id", data: data("int64s", [1n]) }] },
    };
    const noCert = connect({ ...tlsOptions, certFile: undefined, keyFile: undefined });
    const refused = await failure(noCert.services.onlineTransport.unary(OnlineService.method.getFeatureVectors, undefined, 5_000, undefined, req));
    expect(refused.code).toBe(Code.Unavailable);
    expect(refused.rawMessage).toMatch(/certificate required/);
    noCert.close();
    const cleartext = connect({ ...tlsOptions, caFile: undefined, certFile: undefined, keyFile: undefined });
    const failed = await failure(cleartext.services.onlineTransport.unary(OnlineService.method.getFeatureVectors, undefined, 5_000, undefined, req));
    expect(failed.code).toBe(Code.Unavailable);
    cleartext.close();
  });
});
