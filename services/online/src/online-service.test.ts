import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { CatalogueCache } from "@granary/catalogue-cache";
import { resolveFeatureView } from "@granary/catalogue-rules";
import { ChangeKind, ChangeSchema, FeatureViewSchema, Role, SelectionMode, type FeatureGroup } from "@granary/proto/metadata";
import { OnlineService, type FeatureVectors } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { ScalarType, ValueStatus, type ColumnData } from "@granary/proto/types";
import { createInProcessClient } from "@granary/server";
import { createOnlineHandlers } from "./online-service.js";
import { LmdbOnlineStore } from "./store/lmdb-online-store.js";
import { ModelResolver } from "./upstream/model-resolver.js";
import { cardGroups } from "./testing/card-groups.js";
import { PlanCache } from "./vectors/plan-cache.js";

// The online handlers in-process (no port): a real LMDB store in a temporary directory, a catalogue
// built in memory, a fake registry behind its own in-process client, and the server's pipeline
// (keys, permission table, protovalidate, error mapping) in front.
const P = "fraud";
const KEYS = {
  tok_admin: { user: "ada", admin: true },
  tok_owner: { user: "olga", scopes: [{ project: P, role: Role.DATA_OWNER }] },
  tok_viewer: { user: "vera", scopes: [{ project: P, role: Role.VIEWER }] },
  tok_outsider: { user: "otto", scopes: [{ project: "churn", role: Role.DATA_OWNER }] },
};
const NOW = BigInt(Date.now()) * 1000n;
const HOUR = 3_600_000_000n;

const { cards, accounts } = cardGroups(P, { createdBy: "olga" });

function catalogueOf(...groups: FeatureGroup[]): CatalogueCache {
  const catalogue = new CatalogueCache({} as never, { logger: { info: () => {}, warn: () => {} } });
  let revision = 0n;
  const apply = (resource: Parameters<typeof create<typeof ChangeSchema>>[1]) =>
    catalogue.apply(create(ChangeSchema, { ...resource, kind: ChangeKind.CREATED, revision: ++revision, project: P }));
  for (const g of groups) apply({ resource: { case: "featureGroup", value: g } });
  const view = create(FeatureViewSchema, {
    project: P,
    name: "card_view",
    version: 1,
    query: {
      featureGroup: { name: "cards", version: 1 },
      selection: { mode: SelectionMode.INCLUDE, columns: ["cc_num", "avg_amount", "account_id"] },
      joins: [
        { on: ["account_id"], query: { featureGroup: { name: "accounts", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["balance"] } } },
      ],
    },
  });
  if (groups.length > 0) {
    const resolved = resolveFeatureView(view, (ref) => groups.find((g) => g.name === ref.name && g.version === ref.version));
    Object.assign(view, { outputColumns: resolved.outputColumns, servingKeys: resolved.servingKeys, resolved: resolved.resolved });
    apply({ resource: { case: "featureView", value: view } });
  }
  return catalogue;
}

/** The registry's GetModelVersion: alias "production" → version 3 on card_view v1; "gone" is deleted; "down" fails. */
const registry = createInProcessClient(RegistryService, {
  getModelVersion(req) {
    if (req.selector.case === "alias" && req.selector.value === "gone") throw new ConnectError('alias "gone" does not exist', Code.NotFound);
    if (req.selector.case === "alias" && req.selector.value === "down") throw new ConnectError("connection refused", Code.Unavailable);
    return { modelVersion: { project: req.project, model: req.model, version: 3, featureView: { name: "card_view", version: 1 } } };
  },
});

const dir = mkdtempSync(join(tmpdir(), "granary-online-handlers-"));
const store = new LmdbOnlineStore({ path: dir, mapSizeBytes: 64 * 1024 * 1024 });

function handlers(catalogue: CatalogueCache) {
  return createOnlineHandlers({
    store,
    catalogue,
    plans: new PlanCache(catalogue),
    models: new ModelResolver(registry),
    maxRows: 5,
    maxFutureEventTimeS: 86_400,
  });
}

const catalogue = catalogueOf(cards, accounts);
const online = (apiKey: string): Client<typeof OnlineService> =>
  createInProcessClient(OnlineService, handlers(catalogue), { keys: KEYS, lookups: catalogue, apiKey });

const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
const f64 = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;
const ts = (values: bigint[]): ColumnData => ({ values: { case: "timestamps", value: { values } } }) as ColumnData;
const entities = (cc: bigint[]) => ({ rowCount: cc.length, servingKeys: [{ name: "cc_num", data: i64(cc) }] });

/** A column as [status, value] per entity. */
function column(vectors: FeatureVectors | undefined, name: string): [string, unknown][] {
  const c = vectors?.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  const values = (c.values?.values.value as { values: unknown[] }).values;
  return c.statuses.map((s, i) => [ValueStatus[s], s === ValueStatus.PRESENT ? values[i] : null]);
}

async function failure(call: Promise<unknown>): Promise<[string, string]> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(err)}`);
  return [Code[err.code], err.rawMessage];
}

beforeAll(async () => {
  const owner = online("tok_owner");
  await owner.writeRows({
    project: P,
    featureGroup: { name: "cards", version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: 2,
        columns: [
          { name: "cc_num", data: i64([1n, 2n]) },
          { name: "account_id", data: i64([10n, 20n]) },
          { name: "avg_amount", data: f64([12.5, 7]) },
          { name: "event_time", data: ts([NOW - HOUR, NOW - HOUR]) },
        ],
      },
    },
  });
  await owner.writeRows({
    project: P,
    featureGroup: { name: "accounts", version: 1 },
    rows: {
      case: "columns",
      value: {
        rowCount: 1,
        columns: [
          { name: "account_id", data: i64([10n]) },
          { name: "balance", data: f64([100]) },
          { name: "event_time", data: ts([NOW]) },
        ],
      },
    },
  });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("GetFeatureVectors in-process", () => {
  it("serves what WriteRows stored: joined groups, a status per value, keys filled from the request", async () => {
    const { vectors } = await online("tok_viewer").getFeatureVectors({
      project: P,
      featureView: { name: "card_view", version: 1 },
      entities: entities([1n, 2n, 3n]),
    });
    expect(vectors?.rowCount).toBe(3);
    expect(vectors?.columns.map((c) => c.name)).toEqual(["cc_num", "avg_amount", "account_id", "balance"]);
    expect(column(vectors, "cc_num")).toEqual([
      ["PRESENT", 1n],
      ["PRESENT", 2n],
      ["PRESENT", 3n],
    ]);
    expect(column(vectors, "avg_amount")).toEqual([
      ["PRESENT", 12.5],
      ["PRESENT", 7],
      ["NOT_FOUND", null],
    ]);
    expect(column(vectors, "balance")).toEqual([
      ["PRESENT", 100],
      ["NOT_FOUND", null],
      ["NOT_FOUND", null],
    ]);
  });

  it("returns each group's event time when asked", async () => {
    const { vectors } = await online("tok_viewer").getFeatureVectors({
      project: P,
      featureView: { name: "card_view", version: 1 },
      entities: entities([1n, 3n]),
      options: { includeEventTimes: true },
    });
    expect(vectors?.eventTimes.map((e) => [e.featureGroup?.name, e.micros])).toEqual([
      ["cards", [NOW - HOUR, 0n]],
      ["accounts", [NOW, 0n]],
    ]);
  });

  it("refuses bad requests before a lookup and names what is wrong", async () => {
    const view = { name: "card_view", version: 1 };
    const viewer = online("tok_viewer");
    // Authorization comes first (a viewer of "fraud" has no role in "Fraud"): an admin gets to validation.
    expect(await failure(online("tok_admin").getFeatureVectors({ project: "Fraud", featureView: view, entities: entities([1n]) }))).toEqual([
      "InvalidArgument",
      expect.stringContaining("project must be an identifier"),
    ]);
    expect(await failure(viewer.getFeatureVectors({ project: P, featureView: view, entities: { rowCount: 1 } }))).toEqual([
      "InvalidArgument",
      'serving key "cc_num" is missing; feature view "card_view" needs cc_num',
    ]);
    expect(await failure(viewer.getFeatureVectors({ project: P, featureView: { name: "nope", version: 1 }, entities: entities([1n]) }))).toEqual([
      "NotFound",
      'feature view "nope" version 1 does not exist in project "fraud"',
    ]);
    expect((await failure(viewer.getFeatureVectors({ project: P, featureView: view, entities: entities([1n, 2n, 3n, 4n, 5n, 6n]) })))[0]).toBe(
      "ResourceExhausted",
    );
  });

  it("answers by the caller's role: a viewer reads but does not write, another project is hidden", async () => {
    const rows = { case: "columns" as const, value: { rowCount: 1, columns: [{ name: "account_id", data: i64([30n]) }] } };
    expect((await failure(online("tok_viewer").writeRows({ project: P, featureGroup: { name: "accounts", version: 1 }, rows })))[0]).toBe("PermissionDenied");
    expect(
      await failure(online("tok_outsider").getFeatureVectors({ project: P, featureView: { name: "card_view", version: 1 }, entities: entities([1n]) })),
    ).toEqual(["NotFound", 'project "fraud" does not exist or you have no role in it']);
  });

  it("is UNAVAILABLE until the catalogue has loaded", async () => {
    const empty = catalogueOf();
    const client = createInProcessClient(OnlineService, handlers(empty));
    expect((await failure(client.getFeatureVectors({ project: P, featureView: { name: "card_view", version: 1 }, entities: entities([1n]) })))[0]).toBe(
      "Unavailable",
    );
  });
});

describe("GetModelFeatureVectors in-process", () => {
  it("serves the feature view version the registry says the model was trained on", async () => {
    const viewer = online("tok_viewer");
    const res = await viewer.getModelFeatureVectors({
      project: P,
      model: "fraud_model",
      modelVersion: { case: "alias", value: "production" },
      entities: entities([1n, 3n]),
    });
    expect([res.modelVersion, res.featureView?.name, res.featureView?.version, res.trainingDatasetVersion]).toEqual([3, "card_view", 1, 0]);
    const direct = await viewer.getFeatureVectors({ project: P, featureView: { name: "card_view", version: 1 }, entities: entities([1n, 3n]) });
    expect(res.vectors).toEqual(direct.vectors);
  });

  it("maps the registry's answers: a deleted alias is NOT_FOUND, a registry down UNAVAILABLE", async () => {
    const viewer = online("tok_viewer");
    const ask = (alias: string) =>
      viewer.getModelFeatureVectors({ project: P, model: "fraud_model", modelVersion: { case: "alias", value: alias }, entities: entities([1n]) });
    expect(await failure(ask("gone"))).toEqual(["NotFound", 'alias "gone" does not exist']);
    expect(await failure(ask("down"))).toEqual(["Unavailable", "the model registry is unavailable; retry later"]);
  });
});
