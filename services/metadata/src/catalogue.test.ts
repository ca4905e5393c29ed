import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ColumnRole,
  CommitKind,
  CommitWatermarkSchema,
  FeatureViewSchema,
  LineageDirection,
  LineageNodeKind,
  OnlineSyncState,
  SearchResultKind,
  SelectionMode,
  TrainingDatasetStatus,
  TransformationFunction,
  ValidationPolicy,
  type FeatureView,
} from "@granary/proto/metadata";
import { FeatureGroupRefSchema, ScalarType } from "@granary/proto/types";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import pg from "pg";
import { cardAggregatesGroup, transactionsGroup } from "./testing/fixtures.js";
import { startTestMetadata, type TestMetadata } from "./testing/start-test-metadata.js";

let db: TestDatabase;
let md: TestMetadata;
const P = "catalogue";

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected the call to fail, got ${String(err)}`);
  return err;
}

function fraudView(overrides: Partial<Omit<FeatureView, "$typeName">> = {}): FeatureView {
  return create(FeatureViewSchema, {
    project: P,
    name: "fraud_model_inputs",
    version: 1,
    description: "inputs of the card fraud classifier",
    query: {
      featureGroup: { name: "transactions", version: 1 },
      selection: { mode: SelectionMode.INCLUDE, columns: ["amount", "category", "is_fraud"] },
      joins: [
        {
          query: { featureGroup: { name: "card_aggregates", version: 1 }, selection: { mode: SelectionMode.EXCEPT, columns: ["event_time"] } },
          on: ["cc_num"],
        },
      ],
    },
    labels: ["is_fraud"],
    onDemandFeatures: [
      {
        name: "distance_km",
        type: { scalar: ScalarType.DOUBLE },
        expression: "geo.haversine_km(lat, lon, prev_lat, prev_lon)",
        requestParameters: [
          { name: "lat", type: { scalar: ScalarType.DOUBLE } },
          { name: "lon", type: { scalar: ScalarType.DOUBLE } },
        ],
      },
    ],
    transformations: [{ column: "amount", function: TransformationFunction.MIN_MAX_SCALER }],
    tags: ["fraud"],
    ...overrides,
  });
}

beforeAll(async () => {
  db = await createTestDatabase("md_catalogue");
  md = await startTestMetadata(db.url);
  await md.client.createProject({ name: P });
  await md.client.createFeatureGroup({ featureGroup: transactionsGroup(P) });
  await md.client.createFeatureGroup({ featureGroup: cardAggregatesGroup(P, { tags: ["fraud", "aggregates"] }) });
});
afterAll(async () => {
  await md.stop();
  await db.drop();
});

describe("feature views", () => {
  it("resolves the output schema and serving keys, and is get-or-create", async () => {
    const { featureView, created } = await md.client.createFeatureView({ featureView: fraudView() });
    expect(created).toBe(true);
    expect(featureView?.outputColumns.map((c) => [c.name, ColumnRole[c.role]])).toEqual([
      ["amount", "FEATURE"],
      ["category", "FEATURE"],
      ["is_fraud", "LABEL"],
      ["count_10m", "FEATURE"],
      ["sum_10m", "FEATURE"],
      ["prev_lat", "FEATURE"],
      ["prev_lon", "FEATURE"],
      ["distance_km", "ON_DEMAND"],
    ]);
    expect(featureView?.outputColumns[0]?.transformation).toBe(TransformationFunction.MIN_MAX_SCALER);
    expect(featureView?.servingKeys.map((k) => [k.name, k.required])).toEqual([["cc_num", true]]);
    const again = await md.client.createFeatureView({ featureView: fraudView() });
    expect(again.created).toBe(false);
    const different = await failure(md.client.createFeatureView({ featureView: fraudView({ labels: [] }) }));
    expect(Code[different.code]).toBe("AlreadyExists");
  });

  it("stores the view resolved for readers, and resolves at start a view stored without it", async () => {
    const { featureView } = await md.client.getFeatureView({ project: P, name: "fraud_model_inputs", version: 1 });
    const resolved = featureView!.resolved!;
    expect(resolved.groups.map((g) => [g.featureGroup!.name, g.parent, g.leftOn.join(), g.rightOn.join()])).toEqual([
      ["transactions", -1, "", ""],
      ["card_aggregates", 0, "cc_num", "cc_num"],
    ]);
    expect(resolved.columns.map((c) => c.group)).toEqual([0, 0, 0, 1, 1, 1, 1, -1]);

    // A view written before views were resolved: the same row without `resolved`.
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      await sql.query("UPDATE granary_metadata.feature_views SET resource = resource - 'resolved' WHERE name = 'fraud_model_inputs'");
      const before = await md.client.getFeatureView({ project: P, name: "fraud_model_inputs", version: 1 });
      expect(before.featureView?.resolved).toBeUndefined();
      await md.restart();
      const after = await md.client.getFeatureView({ project: P, name: "fraud_model_inputs", version: 1 });
      expect(after.featureView?.resolved).toEqual(resolved);
      // Recorded as a change, so the caches of online and offline pick it up.
      const { rows } = await sql.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM granary_metadata.changes WHERE change->'featureView'->'resolved' IS NOT NULL AND change->>'kind' = 'CHANGE_KIND_UPDATED'",
      );
      expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(1);
    } finally {
      await sql.end();
    }
  });

  it("names the bad part of an invalid query", async () => {
    const badJoin = fraudView({ name: "bad_join" });
    badJoin.query!.joins[0]!.on = ["category"];
    const join = await failure(md.client.createFeatureView({ featureView: badJoin }));
    expect(Code[join.code]).toBe("InvalidArgument");
    expect(join.rawMessage).toMatch(/joins\[0\]/);
    const badCel = fraudView({ name: "bad_cel" });
    badCel.onDemandFeatures[0]!.expression = "lat * 2";
    const cel = await failure(md.client.createFeatureView({ featureView: badCel }));
    expect(cel.rawMessage).toMatch(/on_demand_features\[0\]\.expression.*does not type-check/);
    const unknownGroup = fraudView({ name: "bad_group" });
    unknownGroup.query!.joins[0]!.query!.featureGroup = create(FeatureGroupRefSchema, { name: "merchants", version: 1 });
    const group = await failure(md.client.createFeatureView({ featureView: unknownGroup }));
    expect(group.rawMessage).toMatch(/"merchants" version 1 does not exist/);
    const { featureViews } = await md.client.listFeatureViews({ project: P });
    expect(featureViews.map((v) => v.name)).toEqual(["fraud_model_inputs"]);
  });

  it("keeps a group a view uses from being deleted", async () => {
    const err = await failure(md.client.deleteFeatureGroup({ project: P, name: "card_aggregates", version: 1 }));
    expect(Code[err.code]).toBe("FailedPrecondition");
    expect(err.rawMessage).toContain("fraud_model_inputs v1");
  });

  it("lists the built-in transformation functions", async () => {
    const { functions } = await md.client.listTransformationFunctions({});
    expect(functions.map((f) => f.name).sort()).toEqual(["label_encoder", "min_max_scaler", "one_hot_encoder", "robust_scaler", "standard_scaler"]);
  });
});

describe("training datasets, commits, statistics, reports", () => {
  it("numbers datasets per view version and lets the offline service fill them in", async () => {
    const view = { name: "fraud_model_inputs", version: 1 };
    const range = { start: timestampFromDate(new Date("2026-01-01")), end: timestampFromDate(new Date("2026-06-01")) };
    const first = await md.serviceClient.createTrainingDataset({
      trainingDataset: {
        project: P,
        featureView: view,
        spine: { case: "eventTimeRange", value: range },
        split: { kind: { case: "random", value: { seed: 42n, train: 0.8, test: 0.2 } } },
      },
    });
    const second = await md.serviceClient.createTrainingDataset({ trainingDataset: { project: P, featureView: view } });
    expect([first.trainingDataset?.version, second.trainingDataset?.version]).toEqual([1, 2]);
    expect(first.trainingDataset?.status).toBe(TrainingDatasetStatus.CREATING);
    const ready = await md.serviceClient.updateTrainingDataset({
      trainingDataset: {
        ...first.trainingDataset!,
        status: TrainingDatasetStatus.READY,
        rowCount: 1000n,
        watermarks: [create(CommitWatermarkSchema, { featureGroup: { name: "transactions", version: 1 }, commitId: 3n })],
      },
      updateMask: { paths: ["status", "row_count", "watermarks"] },
    });
    expect(ready.trainingDataset?.rowCount).toBe(1000n);
    const stale = await failure(
      md.serviceClient.updateTrainingDataset({ trainingDataset: { ...first.trainingDataset!, rowCount: 1n }, updateMask: { paths: ["row_count"] } }),
    );
    expect(Code[stale.code]).toBe("Aborted");
    const split = await failure(
      md.serviceClient.updateTrainingDataset({ trainingDataset: { ...ready.trainingDataset!, split: undefined }, updateMask: { paths: ["split"] } }),
    );
    expect(Code[split.code]).toBe("FailedPrecondition");
    const latest = await md.client.getTrainingDataset({ project: P, featureView: view });
    expect(latest.trainingDataset?.version).toBe(2);
    const v1 = await md.client.getTrainingDataset({ project: P, featureView: view, version: 1 });
    expect(v1.trainingDataset?.split?.kind.case).toBe("random");
    const listed = await md.client.listTrainingDatasets({ project: P, featureView: view, pageSize: 1 });
    expect(listed.trainingDatasets).toHaveLength(1);
    expect(listed.nextPageToken).not.toBe("");
    const inUse = await failure(md.client.deleteFeatureView({ project: P, name: view.name, version: 1 }));
    expect(Code[inUse.code]).toBe("FailedPrecondition");
  });

  it("numbers commits per group and filters them by ingestion time", async () => {
    const group = { name: "card_aggregates", version: 1 };
    const ids: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const { commit } = await md.serviceClient.createCommit({
        commit: {
          project: P,
          featureGroup: group,
          kind: CommitKind.INSERT,
          rowsInserted: BigInt(10 * (i + 1)),
          files: [`fraud/card_aggregates/v1/${i + 1}/part-0.parquet`],
        },
      });
      ids.push(commit!.id);
      expect(commit?.onlineSyncState).toBe(OnlineSyncState.PENDING);
    }
    expect(ids).toEqual([1n, 2n, 3n]);
    const synced = await md.serviceClient.updateCommit({
      commit: { project: P, featureGroup: group, id: 2n, onlineSyncState: OnlineSyncState.SYNCED },
      updateMask: { paths: ["online_sync_state"] },
    });
    expect(synced.commit?.rowsInserted).toBe(20n);
    const all = await md.client.listCommits({ project: P, featureGroup: group });
    expect(all.commits.map((c) => [c.id, OnlineSyncState[c.onlineSyncState]])).toEqual([
      [1n, "PENDING"],
      [2n, "SYNCED"],
      [3n, "PENDING"],
    ]);
    const none = await md.client.listCommits({ project: P, featureGroup: group, ingestionTimeRange: { end: timestampFromDate(new Date("2000-01-01")) } });
    expect(none.commits).toHaveLength(0);
    const offline = await md.serviceClient.createCommit({
      commit: { project: P, featureGroup: { name: "transactions", version: 1 }, kind: CommitKind.INSERT },
    });
    expect(offline.commit?.onlineSyncState).toBe(OnlineSyncState.NOT_APPLICABLE);
  });

  it("stores statistics per subject and validation reports newest first", async () => {
    const subject = { kind: { case: "featureGroup" as const, value: { name: "card_aggregates", version: 1 } } };
    const missing = await failure(md.client.getStatistics({ project: P, subject }));
    expect(Code[missing.code]).toBe("NotFound");
    await md.serviceClient.putStatistics({
      statistics: { project: P, subject, rowCount: 60n, columns: [{ column: "sum_10m", count: 60n, min: 1, max: 99, mean: 50 }] },
    });
    const stats = await md.client.getStatistics({ project: P, subject });
    expect(stats.statistics?.columns[0]?.max).toBe(99);
    for (const success of [true, false]) {
      await md.serviceClient.createValidationReport({
        report: {
          project: P,
          featureGroup: { name: "card_aggregates", version: 1 },
          success,
          ingested: success,
          results: [{ rule: "positive", column: "sum_10m", policy: ValidationPolicy.FAIL, success }],
        },
      });
      await new Promise((r) => setTimeout(r, 5));
    }
    const { reports } = await md.client.listValidationReports({ project: P, featureGroup: { name: "card_aggregates", version: 1 } });
    expect(reports.map((r) => r.success)).toEqual([false, true]);
    expect(reports[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("lineage and search", () => {
  it("answers which models use a group", async () => {
    await md.serviceClient.createLineageEdge({
      project: P,
      edge: {
        from: { kind: LineageNodeKind.TRAINING_DATASET, name: "fraud_model_inputs", version: 1, datasetVersion: 1 },
        to: { kind: LineageNodeKind.MODEL_VERSION, name: "fraud_classifier", version: 3 },
      },
    });
    const down = await md.client.getLineage({
      project: P,
      node: { kind: LineageNodeKind.FEATURE_GROUP, name: "card_aggregates", version: 1 },
      direction: LineageDirection.DOWNSTREAM,
    });
    const models = down.nodes.filter((n) => n.kind === LineageNodeKind.MODEL_VERSION).map((n) => `${n.name}@${n.version}`);
    expect(models).toEqual(["fraud_classifier@3"]);
    const up = await md.client.getLineage({
      project: P,
      node: { kind: LineageNodeKind.MODEL_VERSION, name: "fraud_classifier", version: 3 },
      direction: LineageDirection.UPSTREAM,
    });
    expect(
      up.nodes
        .filter((n) => n.kind === LineageNodeKind.FEATURE_GROUP)
        .map((n) => n.name)
        .sort(),
    ).toEqual(["card_aggregates", "transactions"]);
    const oneStep = await md.client.getLineage({
      project: P,
      node: { kind: LineageNodeKind.MODEL_VERSION, name: "fraud_classifier", version: 3 },
      direction: LineageDirection.UPSTREAM,
      depth: 1,
    });
    expect(oneStep.edges).toHaveLength(1);
    const wrong = await failure(
      md.serviceClient.createLineageEdge({
        project: P,
        edge: {
          from: { kind: LineageNodeKind.FEATURE_GROUP, name: "transactions", version: 1 },
          to: { kind: LineageNodeKind.MODEL_VERSION, name: "m", version: 1 },
        },
      }),
    );
    expect(Code[wrong.code]).toBe("InvalidArgument");
  });

  it("finds groups, views and models by name prefix, description words and tags", async () => {
    const byPrefix = await md.client.search({ project: P, query: "card" });
    expect(byPrefix.results[0]).toMatchObject({ kind: SearchResultKind.FEATURE_GROUP, name: "card_aggregates" });
    const byWords = await md.client.search({ project: P, query: "fraud classifier" });
    expect(byWords.results.map((r) => r.name)).toContain("fraud_model_inputs");
    const byTag = await md.client.search({ project: P, query: "", tags: ["aggregates"] });
    expect(byTag.results.map((r) => r.name)).toEqual(["card_aggregates"]);
    const models = await md.client.search({ project: P, query: "fraud_cl", kinds: [SearchResultKind.MODEL] });
    expect(models.results.map((r) => `${r.name}@${r.version}`)).toEqual(["fraud_classifier@3"]);
    const paged = await md.client.search({ project: P, query: "", pageSize: 1 });
    const next = await md.client.search({ project: P, query: "", pageSize: 1, pageToken: paged.nextPageToken });
    expect(next.results[0]?.name).not.toBe(paged.results[0]?.name);
  });
});
