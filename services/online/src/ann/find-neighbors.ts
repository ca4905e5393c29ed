import { create } from "@bufbuild/protobuf";
import type { CatalogueCache } from "@granary/catalogue-cache";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@granary/errors";
import { inSpan } from "@granary/telemetry";
import type { EmbeddingIndex, FeatureGroup } from "@granary/proto/metadata";
import { EventTimeColumnSchema, FeatureColumnSchema, FeatureVectorsSchema, type FeatureVectors, type FindNeighborsRequest } from "@granary/proto/online";
import { NamedColumnSchema, type DataType, type NamedColumn } from "@granary/proto/types";
import { decodeCell, decodeRowInto, encodeRowDefaults, cellOf, type CellSink, type CellValue } from "../store/row-codec.js";
import { ColumnBuilder } from "../vectors/column-builder.js";
import type { ColumnReader } from "../vectors/column-reader.js";
import { toFeatureVectors } from "../vectors/encode-vectors.js";
import { withLookup } from "../vectors/lookup.js";
import type { PlanCache } from "../vectors/plan-cache.js";
import type { ViewPlan } from "../vectors/view-plan.js";
import { searchGroup, type Neighbor, type NeighborSource, type NeighborStore } from "./neighbor-search.js";
import { compileRowFilter } from "./row-filter.js";

export interface FindNeighborsDeps {
  readonly store: NeighborStore;
  readonly source: NeighborSource;
  readonly catalogue: CatalogueCache;
  readonly plans: PlanCache;
}

export interface FindNeighborsResult {
  readonly count: number;
  readonly keys: NamedColumn[];
  readonly distances: number[];
  readonly vectors: FeatureVectors | undefined;
  /** Whether the rows were scanned (exact) rather than searched in the index. */
  readonly exact: boolean;
}

/** Where a search runs: the indexed group and column, and for a view, how neighbours become its serving keys. */
interface Target {
  readonly group: FeatureGroup;
  readonly index: EmbeddingIndex;
  readonly view?: { readonly plan: ViewPlan; readonly servingKeys: readonly { readonly name: string; readonly column: number }[] };
}

/**
 * FindNeighbors: resolves the target (a group, or a view output column filled by an indexed group),
 * checks the query, searches the group and answers with the neighbours' keys (the group's primary
 * key, or the view's serving keys), distances and, on request, their vectors: the group's rows, or
 * the view's feature vectors through the same lookup as GetFeatureVectors.
 */
export async function findNeighbors(req: FindNeighborsRequest, deps: FindNeighborsDeps): Promise<FindNeighborsResult> {
  const target = req.target.case === "featureView" ? viewTarget(req, deps) : groupTarget(req, deps.catalogue);
  const { group, index } = target;
  const dimension = group.columns.find((c) => c.name === index.column)!.type!.dimension;
  if (req.query.length !== dimension) {
    throw new InvalidArgumentError(`query has ${req.query.length} values; column "${req.column}" is an embedding of dimension ${dimension}`, {
      field: "query",
    });
  }
  if (req.query.some((v) => !Number.isFinite(v))) throw new InvalidArgumentError("query holds a NaN or an infinity", { field: "query" });
  if (req.k < 1 || req.k > 1000) throw new InvalidArgumentError(`k is ${req.k}; ask for 1 to 1000 neighbours`, { field: "k" });
  const filter = req.filter ? compileRowFilter(req.filter, group) : undefined;
  const nowMicros = BigInt(Date.now()) * 1000n;
  const attributes = { "granary.project": req.project, "granary.feature_group": group.name, "granary.column": index.column, "granary.k": req.k };
  const { neighbors, exact } = await inSpan("granary.online", "ann.search", attributes, async (span) => {
    const found = await searchGroup(deps.store, deps.source, {
      group,
      column: index.column,
      metric: index.metric,
      query: Float32Array.from(req.query),
      k: req.k,
      filter,
      exact: req.exact,
      nowMicros,
    });
    span.setAttributes({ "granary.ann.exact": found.exact, "granary.rows": found.neighbors.length });
    return found;
  });
  const keyValues = primaryKeyValues(group, neighbors);
  const distances = neighbors.map((n) => n.distance);
  if (!target.view) {
    const keys = group.primaryKey.map((name, part) => namedColumn(name, group.columns.find((c) => c.name === name)!.type!, keyValues[part]!));
    return { count: neighbors.length, keys, distances, vectors: req.includeVectors ? groupVectors(group, neighbors) : undefined, exact };
  }
  const { plan, servingKeys } = target.view;
  const keys = servingKeys.map(({ name, column }) => namedColumn(name, plan.servingKeyTypes.get(name)!, keyValues[column]!));
  let vectors: FeatureVectors | undefined;
  if (req.includeVectors) {
    const readers = new Map<string, ColumnReader>(servingKeys.map(({ name, column }) => [name, (row: number) => keyValues[column]![row] ?? null]));
    const options = req.options;
    vectors = withLookup(
      plan,
      deps.store,
      {
        rowCount: neighbors.length,
        servingKeys: readers,
        passedFeatures: new Map(),
        requestParameters: new Map(),
        includeEventTimes: options?.includeEventTimes ?? false,
        includeInferenceHelpers: options?.includeInferenceHelpers ?? false,
        transformations: options?.untransformed ? undefined : deps.plans.transformations(plan, options?.trainingDatasetVersion ?? 0),
        nowMicros,
      },
      toFeatureVectors,
    );
  }
  return { count: neighbors.length, keys, distances, vectors, exact };
}

function groupTarget(req: FindNeighborsRequest, catalogue: CatalogueCache): Target {
  const ref = req.target.case === "featureGroup" ? req.target.value : undefined;
  const group = catalogue.featureGroup(req.project, ref?.name ?? "", ref?.version ?? 0);
  if (!group) throw new NotFoundError(`feature group "${ref?.name}" version ${ref?.version} does not exist in project "${req.project}"`);
  return { group, index: indexOf(group, req.column) };
}

/** The index a group keeps on a column, or why there is none (with what to do). */
function indexOf(group: FeatureGroup, column: string, viewColumn?: string): EmbeddingIndex {
  const what = `feature group "${group.name}" version ${group.version}`;
  if (!group.onlineEnabled) {
    throw new FailedPreconditionError(`${what} is not online-enabled; nearest-neighbour search needs a version with online_enabled and an embedding index`);
  }
  const col = group.columns.find((c) => c.name === column);
  if (!col) {
    throw new FailedPreconditionError(
      `column "${column}" is not in ${what}; search one of its embedding columns${group.embeddingIndexes.length ? ` (${group.embeddingIndexes.map((i) => i.column).join(", ")})` : ""}`,
    );
  }
  const index = group.embeddingIndexes.find((i) => i.column === column);
  if (!index) {
    throw new FailedPreconditionError(
      `column "${column}"${viewColumn && viewColumn !== column ? ` (the view's "${viewColumn}")` : ""} of ${what} has no embedding index; add one with UpdateFeatureGroup (update_mask "embedding_indexes") or the group's embedding_indexes in granary apply`,
    );
  }
  return index;
}

function viewTarget(req: FindNeighborsRequest, deps: FindNeighborsDeps): Target {
  const ref = req.target.case === "featureView" ? req.target.value : undefined;
  const plan = deps.plans.plan(req.project, ref?.name ?? "", ref?.version ?? 0);
  const slot = plan.outputs.findIndex((o) => o.column.name === req.column);
  const output = plan.outputs[slot];
  if (!output)
    throw new FailedPreconditionError(`column "${req.column}" is not an output column of feature view "${plan.view.name}" version ${plan.view.version}`);
  if (output.step === undefined) {
    throw new FailedPreconditionError(
      `column "${req.column}" of feature view "${plan.view.name}" is computed on demand; search an embedding read from a feature group`,
    );
  }
  const step = plan.steps[output.step]!;
  const groupColumn = step.group.columns[step.outputSlots.indexOf(slot)];
  if (!groupColumn) throw new FailedPreconditionError(`column "${req.column}" of feature view "${plan.view.name}" is not filled from a group column`);
  const index = indexOf(step.group, groupColumn.name, req.column);
  // The view's serving keys each neighbour gives: the serving key each part of the group's key stands for.
  const servingKeys: { name: string; column: number }[] = [];
  step.group.primaryKey.forEach((_, part) => {
    const name = servingNameOf(plan, output.step!, part);
    if (name !== undefined && !servingKeys.some((s) => s.name === name)) servingKeys.push({ name, column: part });
  });
  const missing = plan.requiredServingKeys.filter((name) => !servingKeys.some((s) => s.name === name));
  if (missing.length > 0) {
    throw new FailedPreconditionError(
      `feature view "${plan.view.name}" needs serving keys ${plan.requiredServingKeys.join(", ")}, and a neighbour from feature group "${step.group.name}" (keyed by ${step.group.primaryKey.join(", ")}) gives no ${missing.join(", ")}; search the group itself, or a view whose serving keys its primary key provides`,
    );
  }
  return { group: step.group, index, view: { plan, servingKeys } };
}

/** The serving key a part of a step's key comes from, following joins on earlier steps' keys. */
function servingNameOf(plan: ViewPlan, step: number, part: number): string | undefined {
  const source = plan.steps[step]?.keySources[part];
  if (!source) return undefined;
  switch (source.kind) {
    case "serving":
      return source.name;
    case "row":
      return source.servingName;
    case "key":
      return servingNameOf(plan, source.step, source.part);
  }
}

/** The neighbours' primary-key values, part by part (read from their rows, which hold every column). */
function primaryKeyValues(group: FeatureGroup, neighbors: readonly Neighbor[]): CellValue[][] {
  const types = group.columns.map((c) => c.type!);
  const parts = group.primaryKey.map((name) => group.columns.findIndex((c) => c.name === name));
  const values = parts.map(() => new Array<CellValue>(neighbors.length).fill(null));
  const sinks: (CellSink | undefined)[] = new Array<CellSink | undefined>(types.length);
  parts.forEach((position, part) => {
    sinks[position] = {
      value: (row, buf, offset) => void (values[part]![row] = decodeCell(types[position]!, buf, offset)),
      missing: () => {},
    };
  });
  neighbors.forEach((n, i) => decodeRowInto(n.row, types, sinks, i));
  return values;
}

function namedColumn(name: string, type: DataType, values: readonly CellValue[]): NamedColumn {
  const builder = new ColumnBuilder(type, values.length);
  values.forEach((v, i) => builder.set(i, v));
  return create(NamedColumnSchema, { name, data: builder.toColumnData() });
}

/** A group target's vectors: every column of each neighbour's row, and its event time. */
function groupVectors(group: FeatureGroup, neighbors: readonly Neighbor[]): FeatureVectors {
  const types = group.columns.map((c) => c.type!);
  const builders = types.map((type) => new ColumnBuilder(type, neighbors.length));
  const defaults = encodeRowDefaults(
    types,
    group.columns.map((c) => (c.defaultValue ? cellOf(c.defaultValue) : null)),
  );
  const micros = neighbors.map((n, i) => decodeRowInto(n.row, types, builders, i, defaults));
  return create(FeatureVectorsSchema, {
    rowCount: neighbors.length,
    columns: group.columns.map((c, i) =>
      create(FeatureColumnSchema, { name: c.name, type: c.type, values: builders[i]!.toColumnData(), statuses: Array.from(builders[i]!.statuses) }),
    ),
    eventTimes: [create(EventTimeColumnSchema, { featureGroup: { name: group.name, version: group.version }, micros })],
  });
}
