import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { FeatureViewSchema } from "@granary/proto/metadata";
import type { EntityRows } from "@granary/proto/online";
import { DataTypeSchema, ScalarType, type ColumnData } from "@granary/proto/types";
import { createLogger } from "@granary/telemetry";
import { ColumnBuilder } from "../vectors/column-builder.js";
import type { ViewPlan } from "../vectors/view-plan.js";
import { FeatureLogger, type FeatureLoggerOptions } from "./feature-logger.js";

const DOUBLE = create(DataTypeSchema, { scalar: ScalarType.DOUBLE });
const INT64 = create(DataTypeSchema, { scalar: ScalarType.INT64 });
const logger = createLogger({ level: "silent", service: "test" });
const plan = {
  view: create(FeatureViewSchema, { project: "p", name: "v", version: 2, logging: { onlineEnabled: true, sampleRate: 1 } }),
  servingKeyTypes: new Map([["id", INT64]]),
  onDemand: [],
} as unknown as ViewPlan;

function offer(log: FeatureLogger, n: number, model = "") {
  const amount = new ColumnBuilder(DOUBLE, n);
  for (let r = 0; r < n; r++) amount.set(r, r);
  const entities = {
    rowCount: n,
    servingKeys: [
      {
        name: "id",
        data: { values: { case: "int64s", value: { values: Array.from({ length: n }, (_, i) => BigInt(i)) } }, nullIndexes: [] } as unknown as ColumnData,
      },
    ],
    requestParameters: [],
  } as unknown as EntityRows;
  log.offer(
    "p",
    plan,
    entities,
    { rowCount: n, columns: [{ name: "amount", builder: amount }], eventTimes: [] },
    { model, modelVersion: model ? 4 : 0, trainingDatasetVersion: 0 },
  );
}

const loggerWith = (logFeatures: FeatureLoggerOptions["offline"]["logFeatures"], extra: Partial<FeatureLoggerOptions> = {}) =>
  new FeatureLogger({ offline: { logFeatures }, logger, capacity: 100, intervalMs: 600_000, ...extra });

describe("FeatureLogger", () => {
  it("sends one LogFeatures per view and model, source online, and counts them as logged", async () => {
    const calls: { rowCount: number; model: string; modelVersion: number; source: string; view: string }[] = [];
    const log = loggerWith((req) => {
      const r = req as { rowCount: number; model: string; modelVersion: number; source: string; featureView: { name: string } };
      calls.push({ rowCount: r.rowCount, model: r.model, modelVersion: r.modelVersion, source: r.source, view: r.featureView.name });
      return Promise.resolve({}) as never;
    });
    offer(log, 3);
    offer(log, 2, "m");
    offer(log, 1);
    await log.flush();
    expect(calls).toEqual([
      { rowCount: 4, model: "", modelVersion: 0, source: "online", view: "v" },
      { rowCount: 2, model: "m", modelVersion: 4, source: "online", view: "v" },
    ]);
    expect(log.counts()).toEqual({ logged: 6, dropped: 0, queued: 0 });
    await log.stop();
  });

  it("counts a refused batch as dropped and keeps going", async () => {
    const log = loggerWith(() => Promise.reject(new Error("refused")) as never);
    offer(log, 3);
    await log.flush();
    expect(log.counts()).toEqual({ logged: 0, dropped: 3, queued: 0 });
    await log.stop();
  });

  it("sends a batch again while the offline service is unreachable, and drops it after a few flushes", async () => {
    let refusals = 2;
    const sent: number[] = [];
    const log = loggerWith((req) => {
      if (refusals-- > 0) return Promise.reject(new ConnectError("connect ECONNREFUSED", Code.Unavailable)) as never;
      sent.push((req as { rowCount: number }).rowCount);
      return Promise.resolve({}) as never;
    });
    offer(log, 3);
    await log.flush();
    expect(log.counts()).toEqual({ logged: 0, dropped: 0, queued: 3 });
    offer(log, 2);
    await log.flush(); // the 3 are refused once more; the 2 go through
    expect(log.counts()).toEqual({ logged: 2, dropped: 0, queued: 3 });
    await log.flush();
    expect(sent).toEqual([2, 3]);
    expect(log.counts()).toEqual({ logged: 5, dropped: 0, queued: 0 });
    await log.stop();

    const down = loggerWith(() => Promise.reject(new ConnectError("connect ECONNREFUSED", Code.Unavailable)) as never);
    offer(down, 4);
    for (let i = 0; i < 4; i++) await down.flush();
    expect(down.counts()).toEqual({ logged: 0, dropped: 0, queued: 4 });
    await down.flush();
    expect(down.counts()).toEqual({ logged: 0, dropped: 4, queued: 0 });
    await down.stop();
  });

  it("a stop gives up on an offline service that never answers after its grace, counting the vectors as dropped", async () => {
    const log = loggerWith(
      (_req, options) => new Promise((_resolve, reject) => options?.signal?.addEventListener("abort", () => reject(new Error("aborted")))) as never,
      { stopGraceMs: 200 },
    );
    offer(log, 5);
    const started = Date.now();
    await log.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(log.counts()).toEqual({ logged: 0, dropped: 5, queued: 0 });
    offer(log, 1);
    expect(log.counts().queued).toBe(0);
  });
});
