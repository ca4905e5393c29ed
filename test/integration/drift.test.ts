import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as arrow from "apache-arrow";
import { connect, type Granary } from "@granary/client";
import { createServiceClient } from "@granary/service-clients";
import { arrowPayloads } from "@granary/offline";
import { DriftStatus, MetadataService, Role, SelectionMode, TrainingDatasetStatus } from "@granary/proto/metadata";
import { OfflineService, type ComputeDriftRequestSchema, type LogFeaturesRequest, type TrainingDataQuery } from "@granary/proto/offline";
import { ScalarType, type ColumnData } from "@granary/proto/types";
import { scratchDir, seededRandom, testKeys, waitFor, waitForServing } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "./support/offline-stack.js";

// Drift monitoring end to end: training data from one distribution, logged vectors from the same
// one (day 20) and from one whose amount shifted (day 21), ComputeDrift against the training
// dataset and against an earlier window, the reports stored and listed, thresholds from the view.

const keys = testKeys();
const P = "monitoring";
const dir = scratchDir("drift");
const VIEW = { name: "payments", version: 1 };
const day = (d: number, h = 0) => Date.UTC(2025, 0, d, h);
const window = (from: number, to: number) => ({ start: timestampFromMs(day(from)), end: timestampFromMs(day(to)) });
let stack: OfflineStack;
let md: Client<typeof MetadataService>;
let off: Client<typeof OfflineService>;
let scientistOff: Client<typeof OfflineService>;
let viewerOff: Client<typeof OfflineService>;
let viewerMd: Client<typeof MetadataService>;
let granary: Granary;

const random = seededRandom(2121);
const normal = (mean: number, sd: number) => mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const category = () => (random() < 0.5 ? "grocery" : random() < 0.6 ? "travel" : "online");
const doubles = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as unknown as ColumnData;
const strings = (values: string[]): ColumnData => ({ values: { case: "strings", value: { values } } }) as unknown as ColumnData;
const bools = (values: boolean[]): ColumnData => ({ values: { case: "bools", value: { values } } }) as unknown as ColumnData;

/** Logs `n` vectors served at `time`, the amounts drawn from N(mean, 20). */
async function logVectors(n: number, time: number, mean: number) {
  const req = {
    project: P,
    featureView: VIEW,
    rowCount: n,
    untransformed: [
      { name: "amount", data: doubles(Array.from({ length: n }, () => normal(mean, 20))) },
      { name: "category", data: strings(Array.from({ length: n }, category)) },
    ],
    predictions: [{ name: "is_fraud", data: bools(Array.from({ length: n }, () => random() < 0.1)) }],
    model: "fraud",
    modelVersion: 1,
    logTime: timestampFromMs(time),
  } as unknown as LogFeaturesRequest;
  return off.logFeatures(req);
}

const drift = (extra: Omit<MessageInitShape<typeof ComputeDriftRequestSchema>, "$typeName">, client = off) =>
  client.computeDrift({ project: P, featureView: VIEW, window: window(20, 21), reference: { case: "trainingDatasetVersion", value: 0 }, ...extra });
const byColumn = <F extends { column: string }>(report: { features: F[] } | undefined) => new Map((report?.features ?? []).map((f) => [f.column, f]));

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

beforeAll(async () => {
  stack = await startOfflineStack({ name: "drift", dataDir: dir.path, keys });
  ({ md, off } = stack);
  await md.createProject({ name: P });
  const scientist = (await md.createApiKey({ user: "dana", scopes: [{ project: P, role: Role.DATA_SCIENTIST }] })).secret;
  const viewer = (await md.createApiKey({ user: "vic", scopes: [{ project: P, role: Role.VIEWER }] })).secret;
  scientistOff = createServiceClient(OfflineService, stack.addresses.offline, { apiKey: scientist });
  viewerOff = createServiceClient(OfflineService, stack.addresses.offline, { apiKey: viewer });
  viewerMd = createServiceClient(MetadataService, stack.addresses.metadata, { apiKey: viewer });
  granary = connect({ addresses: stack.addresses, timeoutMs: 30_000, apiKey: keys.adminKey });
  await md.createFeatureGroup({
    featureGroup: {
      project: P,
      name: "transactions",
      version: 1,
      columns: [
        { name: "tid", type: { scalar: ScalarType.STRING } },
        { name: "event_time", type: { scalar: ScalarType.TIMESTAMP } },
        { name: "amount", type: { scalar: ScalarType.DOUBLE } },
        { name: "category", type: { scalar: ScalarType.STRING } },
        { name: "is_fraud", type: { scalar: ScalarType.BOOL } },
      ],
      primaryKey: ["tid"],
      eventTime: "event_time",
    },
  });
  const query = { featureGroup: { name: "transactions", version: 1 }, selection: { mode: SelectionMode.INCLUDE, columns: ["amount", "category", "is_fraud"] } };
  await md.createFeatureView({ featureView: { project: P, ...VIEW, labels: ["is_fraud"], query } });
  await md.createFeatureView({ featureView: { project: P, name: "unlogged", version: 1, labels: ["is_fraud"], query } });
  await waitForServing(stack.addresses.offline, 20_000);

  // Training data: 600 transactions over days 1-10, amount ~ N(100, 20).
  const n = 600;
  const table = new arrow.Table({
    tid: arrow.vectorFromArray(
      Array.from({ length: n }, (_, i) => `t${i}`),
      new arrow.Utf8(),
    ),
    event_time: arrow.vectorFromArray(
      Array.from({ length: n }, (_, i) => day(1 + (i % 10), 1)),
      new arrow.TimestampMillisecond(),
    ),
    amount: arrow.vectorFromArray(
      Array.from({ length: n }, () => normal(100, 20)),
      new arrow.Float64(),
    ),
    category: arrow.vectorFromArray(Array.from({ length: n }, category), new arrow.Utf8()),
    is_fraud: arrow.vectorFromArray(
      Array.from({ length: n }, () => random() < 0.1),
      new arrow.Bool(),
    ),
  });
  await waitFor(
    async () => {
      async function* requests() {
        yield { message: { case: "header" as const, value: { project: P, featureGroup: { name: "transactions", version: 1 } } } };
        for (const ipc of arrowPayloads(table)) yield { message: { case: "chunk" as const, value: { ipc } } };
      }
      return off.insert(requests()).then(
        () => true,
        () => false,
      );
    },
    { timeoutMs: 15_000, what: "the group visible offline" },
  );
  async function* datasetQuery() {
    yield { message: { case: "query" as const, value: { project: P, featureView: VIEW } as TrainingDataQuery } };
  }
  const { trainingDataset } = await off.createTrainingDataset(datasetQuery());
  expect(trainingDataset!.status).toBe(TrainingDatasetStatus.READY);

  await logVectors(300, day(20, 12), 100);
  await logVectors(300, day(21, 12), 160);
}, 120_000);

afterAll(async () => {
  granary?.close();
  await stack?.stop();
  dir.remove();
});

describe("ComputeDrift against the training dataset", () => {
  it("finds no drift in a window served from the training distribution", async () => {
    const { report } = await drift({});
    expect(report!.status).toBe(DriftStatus.OK);
    expect(report!.rowCount).toBe(300n);
    expect(report!.referenceRowCount).toBe(600n);
    expect(report!.reference).toEqual({ case: "trainingDatasetVersion", value: 1 });
    // Labels are not features: the default columns are the logged features.
    expect([...byColumn(report).keys()]).toEqual(["amount", "category"]);
    const amount = byColumn(report).get("amount")!;
    expect(amount.categorical).toBe(false);
    expect(amount.psi!).toBeLessThan(0.2);
    expect(amount.ks!).toBeLessThan(0.2);
    expect(amount.status).toBe(DriftStatus.OK);
    expect(byColumn(report).get("category")!).toMatchObject({ categorical: true, status: DriftStatus.OK, count: 300n, referenceCount: 600n });
    expect(byColumn(report).get("category")!.ks).toBeUndefined();
  });

  it("flags the shifted feature only, and stores the report as the caller's", async () => {
    const { report } = await drift({ window: window(21, 22) }, scientistOff);
    expect(report!.status).toBe(DriftStatus.DRIFT);
    const amount = byColumn(report).get("amount")!;
    expect(amount.status).toBe(DriftStatus.DRIFT);
    expect(amount.exceeded).toEqual(["psi", "ks"]);
    expect(amount.ks!).toBeGreaterThan(0.8);
    expect(amount.thresholds).toMatchObject({ psi: 0.2, ks: 0.2, nullShareIncrease: 0.1 });
    expect(byColumn(report).get("category")!.status).toBe(DriftStatus.OK);
    expect(report!.id).toBeGreaterThan(0n);
    expect(report!.createdBy).toBe("dana");

    const { reports } = await viewerMd.listMonitoringReports({ project: P, featureView: VIEW });
    expect(reports[0]!.id).toBe(report!.id);
    expect(reports[0]!.status).toBe(DriftStatus.DRIFT);
    expect(reports.map((r) => r.id)).toEqual([...reports.map((r) => r.id)].sort((a, b) => (a > b ? -1 : 1)));
  });

  it("checks the named columns only", async () => {
    const { report } = await drift({ window: window(21, 22), columns: ["category"] });
    expect(report!.features.map((f) => f.column)).toEqual(["category"]);
    expect(report!.status).toBe(DriftStatus.OK);
  });

  it("reports an empty window as INSUFFICIENT_DATA rather than failing", async () => {
    const { report } = await drift({ window: window(25, 26) });
    expect(report!.status).toBe(DriftStatus.INSUFFICIENT_DATA);
    expect(report!.rowCount).toBe(0n);
    expect(report!.features.every((f) => f.status === DriftStatus.INSUFFICIENT_DATA)).toBe(true);
  });
});

describe("ComputeDrift against an earlier window", () => {
  it("compares two windows of the logs", async () => {
    const same = await drift({ window: window(20, 21), reference: { case: "referenceWindow", value: window(20, 21) } });
    expect(same.report!.status).toBe(DriftStatus.OK);
    expect(byColumn(same.report).get("amount")!.psi).toBeCloseTo(0, 12);
    expect(byColumn(same.report).get("amount")!.ks).toBe(0);
    const shifted = await drift({ window: window(21, 22), reference: { case: "referenceWindow", value: window(20, 21) } });
    expect(shifted.report!.status).toBe(DriftStatus.DRIFT);
    expect(shifted.report!.referenceRowCount).toBe(300n);
    expect(shifted.report!.reference.case).toBe("referenceWindow");
    expect(byColumn(shifted.report).get("amount")!.status).toBe(DriftStatus.DRIFT);
    expect(byColumn(shifted.report).get("category")!.status).toBe(DriftStatus.OK);
  });
});

describe("the SDK", () => {
  it("sets thresholds on the view, which later reports respect, and lists reports newest first", async () => {
    const fv = await (await granary.project(P)).getFeatureView(VIEW.name, VIEW.version);
    await fv.setDriftThresholds({ default: { psi: 0.2 }, features: { amount: { psi: 100, ks: 1 } } });
    expect(fv.definition.monitoring?.features[0]?.thresholds?.psi).toBe(100);
    const report = await fv.computeDrift({ window: { start: new Date(day(21)), end: new Date(day(22)) } });
    expect(report.status).toBe("ok");
    const amount = report.features.find((f) => f.column === "amount")!;
    expect(amount).toMatchObject({ status: "ok", exceeded: [], thresholds: { psi: 100, ks: 1 } });
    expect(amount.psi!).toBeGreaterThan(0.2);
    expect(report.features.find((f) => f.column === "category")!.thresholds).toMatchObject({ psi: 0.2 });
    expect(report.reference).toEqual({ trainingDatasetVersion: 1 });

    const byWindow = await fv.computeDrift({
      window: { start: new Date(day(21)), end: new Date(day(22)) },
      reference: { window: { start: new Date(day(20)), end: new Date(day(21)) } },
      columns: ["amount"],
    });
    expect(byWindow.reference).toEqual({ window: { start: new Date(day(20)), end: new Date(day(21)) } });

    const listed = await fv.monitoringReports({ limit: 2 });
    expect(listed.map((r) => r.id)).toEqual([byWindow.id, report.id]);
    expect(listed[1]!.features.map((f) => f.column)).toEqual(["amount", "category"]);
    await fv.setDriftThresholds({});
  });
});

describe("refusals", () => {
  it("asks to log first when the view has no logs", async () => {
    const err = await drift({ featureView: { name: "unlogged", version: 1 } }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((err as ConnectError).rawMessage).toMatch(/LogFeatures/);
  });

  it("refuses unknown columns, labels and a window ending before it starts", async () => {
    expect(await codeOf(drift({ columns: ["nope"] }))).toBe(Code.InvalidArgument);
    expect(await codeOf(drift({ columns: ["is_fraud"] }))).toBe(Code.InvalidArgument);
    expect(await codeOf(drift({ window: window(22, 21) }))).toBe(Code.InvalidArgument);
    expect(await codeOf(drift({ reference: { case: "referenceWindow", value: window(22, 21) } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(drift({ reference: { case: "trainingDatasetVersion", value: 9 } }))).toBe(Code.NotFound);
    expect(await codeOf(drift({ featureView: { name: "missing", version: 1 } }))).toBe(Code.NotFound);
  });

  it("lets a viewer list reports but not compute them", async () => {
    expect(await codeOf(drift({}, viewerOff))).toBe(Code.PermissionDenied);
    expect((await viewerMd.listMonitoringReports({ project: P, featureView: VIEW, pageSize: 1 })).reports).toHaveLength(1);
    expect(await codeOf(viewerMd.createMonitoringReport({ report: { project: P, featureView: VIEW } }))).toBe(Code.PermissionDenied);
    expect(await codeOf(viewerMd.listMonitoringReports({ project: P, featureView: { name: "missing", version: 1 } }))).toBe(Code.NotFound);
  });

  it("pages the list", async () => {
    const first = await md.listMonitoringReports({ project: P, featureView: VIEW, pageSize: 2 });
    const second = await md.listMonitoringReports({ project: P, featureView: VIEW, pageSize: 2, pageToken: first.nextPageToken });
    expect(first.reports).toHaveLength(2);
    expect(first.nextPageToken).not.toBe("");
    const ids = [...first.reports, ...second.reports].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)));
  });
});
