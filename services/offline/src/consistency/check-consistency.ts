import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { FailedPreconditionError, InvalidArgumentError } from "@granary/errors";
import type { PlainValue } from "@granary/cel";
import { CheckConsistencyResponseSchema, type CheckConsistencyRequest, type CheckConsistencyResponse } from "@granary/proto/offline";
import { ValueStatus, type FeatureViewRef } from "@granary/proto/types";
import { requireCatalogue } from "../catalogue-ready.js";
import { timestampFromMicros, timestampMicros } from "../timestamps.js";
import { planOf, requireView, type TransformSource } from "../training/training-data.js";
import type { TrainingDeps } from "../training/training-deps.js";
import { datasetOf } from "../training/training-datasets.js";
import { spineTimeColumn } from "../training/training-query.js";
import { columnDataOf, columnDataReader } from "./column-values.js";
import { DEFAULT_TOLERANCE, type Tolerance } from "./compare-values.js";
import { recordConsistencyMetrics } from "./consistency-metrics.js";
import { ConsistencyTally, entityKey, type CheckedFeature, type SideValue } from "./consistency-tally.js";
import { explicitEntities, sampleEntities, sliceEntities, withParameters, withTimeParameter, type Entities } from "./entities.js";
import { notComparedFeatures } from "./not-compared.js";
import { offlineRows, type OfflineRows } from "./offline-rows.js";
import type { OnlineVectors, OnlineVectorsResult } from "../upstream/online-vectors.js";

export interface ConsistencyDeps extends TrainingDeps {
  readonly online: OnlineVectors;
}

/** Entities per online call and offline spine; a progress message follows each batch. */
const BATCH = 500;
const DEFAULT_EXAMPLES = 5;

/**
 * CheckConsistency: online vectors (served now) against offline point-in-time rows as of one
 * instant, for the same entities, after the same on-demand features and transformations.
 */
export async function* checkConsistency(deps: ConsistencyDeps, req: CheckConsistencyRequest, signal: AbortSignal): AsyncGenerator<CheckConsistencyResponse> {
  requireCatalogue(deps.catalogue);
  const model = req.model ? { name: req.model, version: req.modelVersion, alias: req.modelAlias } : undefined;
  if (model && !model.alias && model.version === 0) throw new InvalidArgumentError(`give the version or an alias of model "${model.name}"`);
  if (!model && (req.modelAlias || req.modelVersion)) throw new InvalidArgumentError("model_version and model_alias need a model");
  const project = req.project;
  const view = requireView(deps, project, req.featureView?.name ?? "", req.featureView?.version ?? 0);
  const ref: FeatureViewRef = { $typeName: "granary.types.v1.FeatureViewRef", name: view.name, version: view.version };
  const asOfMicros = req.asOfTime ? timestampMicros(req.asOfTime) : BigInt(Date.now()) * 1000n;
  const plan = planOf(deps, project, view);
  const drawn: Entities =
    req.entities.case === "sampleSize"
      ? await sampleEntities(deps, project, plan, req.entities.value, req.seed, asOfMicros, signal)
      : explicitEntities(view, req.entities.value!);
  const entities = withTimeParameter(view, withParameters(view, drawn, req.requestParameters), spineTimeColumn(plan), asOfMicros);
  const uncomparable = notComparedFeatures(plan, new Set(entities.parameters.map((p) => p.name)));
  const tolerance: Tolerance = {
    relative: req.tolerance?.relative ?? DEFAULT_TOLERANCE.relative,
    absolute: req.tolerance?.absolute ?? DEFAULT_TOLERANCE.absolute,
  };

  let tally: ConsistencyTally | undefined;
  let resolved: OnlineVectorsResult | undefined;
  let source: TransformSource = { kind: "none" };
  for (let start = 0; start < entities.count; start += BATCH) {
    signal.throwIfAborted();
    const batch = sliceEntities(entities, start, start + BATCH);
    const online = await deps.online.read(
      {
        project,
        featureView: ref,
        model,
        rowCount: batch.count,
        servingKeys: batch.keys.map((k) => ({ $typeName: "granary.types.v1.NamedColumn", name: k.name, data: columnDataOf(k.type, k.values) })),
        requestParameters: batch.parameters.map((p) => ({ $typeName: "granary.types.v1.NamedColumn", name: p.name, data: columnDataOf(p.type, p.values) })),
      },
      signal,
    );
    if (!resolved) {
      resolved = online;
      if (model) source = await modelSource(deps, project, view, online);
    }
    const offline = await offlineRows(deps, project, plan, batch, asOfMicros, source, signal);
    tally ??= new ConsistencyTally(featuresOf(online, offline, uncomparable), tolerance, req.maxExamples || DEFAULT_EXAMPLES);
    compareBatch(tally, batch, online, offline, asOfMicros);
    if (entities.count > BATCH)
      yield create(CheckConsistencyResponseSchema, {
        message: { case: "progress", value: { entitiesChecked: tally.checked, entitiesTotal: BigInt(entities.count) } },
      });
  }
  tally ??= new ConsistencyTally([], tolerance, 0);
  const report = tally.report({
    featureView: ref,
    asOfTime: timestampFromMicros(asOfMicros),
    modelVersion: resolved?.modelVersion ?? 0,
    trainingDatasetVersion: resolved?.trainingDatasetVersion ?? 0,
  });
  recordConsistencyMetrics(project, report);
  yield create(CheckConsistencyResponseSchema, { message: { case: "report", value: report } });
}

async function modelSource(deps: TrainingDeps, project: string, view: ReturnType<typeof requireView>, online: OnlineVectorsResult): Promise<TransformSource> {
  if (online.featureView.name !== view.name || online.featureView.version !== view.version) {
    throw new FailedPreconditionError(
      `model version ${online.modelVersion} was trained on feature view "${online.featureView.name}" version ${online.featureView.version}, not "${view.name}" version ${view.version}: check that view`,
    );
  }
  if (view.transformations.length === 0) return { kind: "none" };
  const dataset = await datasetOf(deps, project, view, online.trainingDatasetVersion);
  return { kind: "statistics", statistics: dataset.statistics };
}

/** The online columns, each compared unless it is absent offline or lacks its request parameters. */
function featuresOf(online: OnlineVectorsResult, offline: OfflineRows, uncomparable: ReadonlyMap<string, string>): CheckedFeature[] {
  return online.vectors.columns.map((c) => ({
    name: c.name,
    type: c.type!,
    notCompared: uncomparable.get(c.name) ?? (offline.columns.has(c.name) ? undefined : "not in the view's offline feature columns"),
  }));
}

/**
 * An entity is found on a side when some group of the view has a row for it there (an event time,
 * or for groups without one a looked-up value); found on one side only, it is counted, not compared.
 */
function compareBatch(tally: ConsistencyTally, batch: Entities, online: OnlineVectorsResult, offline: OfflineRows, asOfMicros: bigint): void {
  const columns = new Map(online.vectors.columns.map((c) => [c.name, { read: columnDataReader(c.values, c.type!), statuses: c.statuses }]));
  const times = online.vectors.eventTimes;
  const keyNames = new Set(batch.keys.map((k) => k.name));
  const lookedUp = online.vectors.columns.filter((c) => !keyNames.has(c.name));
  for (let i = 0; i < batch.count; i++) {
    const key = () => entityKey(batch.keys, i);
    const onlineFound =
      times.length > 0
        ? times.some((t) => (t.micros[i] ?? 0n) !== 0n)
        : lookedUp.some((c) => c.statuses[i] === ValueStatus.PRESENT || c.statuses[i] === ValueStatus.NULL);
    const offlineFound = offline.found[i] ?? false;
    if (!onlineFound || !offlineFound) {
      tally.missing(key, onlineFound, offlineFound);
      continue;
    }
    const ahead = online.vectors.eventTimes.some((t) => (t.micros[i] ?? 0n) > asOfMicros);
    tally.compare(
      key,
      (name) => {
        const on = columns.get(name)!;
        const status = on.statuses[i] ?? ValueStatus.UNSPECIFIED;
        const onValue: PlainValue | null = status === ValueStatus.PRESENT || status === ValueStatus.UNSPECIFIED ? on.read(i) : null;
        const offValue = offline.columns.get(name)?.values[i] ?? null;
        const onSide: SideValue = { value: onValue, status };
        const offSide: SideValue = { value: offValue, status: offValue === null ? ValueStatus.NULL : ValueStatus.PRESENT };
        return { online: onSide, offline: offSide };
      },
      ahead,
    );
  }
}
