import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { FeatureView as FeatureViewMessage } from "@granary/proto/metadata";
import type { CheckConsistencyRequest, ConsistencyExample, ConsistencyReport } from "@granary/proto/offline";
import type { ColumnarRows, DataType, Value } from "@granary/proto/types";
import type { PlainValue } from "@granary/cel";
import { typeName } from "./column-types.js";
import type { Services } from "./services.js";
import { fromPlain, namedColumn, type FeatureValue, type Row } from "./values.js";
import { statusName, type ValueStatusName } from "./value-status.js";

export interface ConsistencyOptions {
  /** Entities drawn at random (seeded) from the view's root group; 100 when no `entities` are given. */
  readonly sample?: number;
  /** The same seed over the same keys draws the same sample. */
  readonly seed?: number | bigint;
  /** Explicit entities, keyed by the view's serving keys (instead of a sample). */
  readonly entities?: readonly Row[];
  /** The instant offline rows are read as of (default: now). Online always serves now. */
  readonly asOf?: Date;
  /** Float tolerance: |a - b| <= absolute + relative * max(|a|, |b|). Default 1e-9 relative; other types are exact. */
  readonly tolerance?: { readonly relative?: number; readonly absolute?: number };
  /** Inputs of on-demand features: one object for every entity, or one per explicit entity. Without them those features are not compared. */
  readonly requestParameters?: Row | readonly Row[];
  /** Compare after the model-dependent transformations of this model version (its feature view and training dataset's statistics): a version or an alias. */
  readonly model?: { readonly name: string; readonly version?: number; readonly alias?: string };
  /** Mismatch examples kept per feature (default 5). */
  readonly maxExamples?: number;
  /** Called as the server reports progress on a large sample. */
  readonly onProgress?: (checked: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface ConsistencyExampleRow {
  readonly entity: Row;
  readonly online: FeatureValue;
  readonly offline: FeatureValue;
  readonly onlineStatus: ValueStatusName;
  readonly offlineStatus: ValueStatusName;
}

export interface FeatureConsistencyResult {
  readonly name: string;
  readonly type: string;
  readonly compared: number;
  readonly mismatches: number;
  readonly examples: readonly ConsistencyExampleRow[];
  /** Why the feature was not compared (an on-demand feature without its request parameters). */
  readonly notCompared?: string;
}

export interface ConsistencyResult {
  /** No compared value differs. Entities missing on one side are reported, not counted here. */
  readonly consistent: boolean;
  readonly featureView: { readonly name: string; readonly version: number };
  readonly asOf: Date;
  readonly modelVersion: number;
  readonly trainingDatasetVersion: number;
  readonly entitiesChecked: number;
  readonly entitiesCompared: number;
  readonly entitiesMismatched: number;
  readonly mismatches: number;
  readonly missingOnline: { readonly count: number; readonly examples: readonly Row[] };
  readonly missingOffline: { readonly count: number; readonly examples: readonly Row[] };
  readonly missingBoth: number;
  /** Entities whose online row is newer than `asOf`: online serves it, offline as of `asOf` cannot. */
  readonly onlineRowsAhead: number;
  readonly features: readonly FeatureConsistencyResult[];
}

/** Runs CheckConsistency for a view and collects its report. */
export async function checkViewConsistency(services: Services, view: FeatureViewMessage, options: ConsistencyOptions): Promise<ConsistencyResult> {
  const request: Omit<CheckConsistencyRequest, "$typeName"> = {
    project: view.project,
    featureView: { $typeName: "granary.types.v1.FeatureViewRef", name: view.name, version: view.version },
    entities: options.entities ? { case: "entityRows", value: entityColumns(view, options.entities) } : { case: "sampleSize", value: options.sample ?? 100 },
    seed: BigInt(options.seed ?? 0),
    asOfTime: options.asOf ? timestampFromMs(options.asOf.getTime()) : undefined,
    tolerance: options.tolerance
      ? { $typeName: "granary.offline.v1.ConsistencyTolerance", relative: options.tolerance.relative, absolute: options.tolerance.absolute }
      : undefined,
    requestParameters: options.requestParameters ? parameterColumns(view, options.requestParameters) : undefined,
    model: options.model?.name ?? "",
    modelVersion: options.model?.version ?? 0,
    modelAlias: options.model?.alias ?? "",
    maxExamples: options.maxExamples ?? 0,
  };
  let report: ConsistencyReport | undefined;
  for await (const res of services.offline.checkConsistency(request, services.stream(options.signal))) {
    if (res.message.case === "progress") options.onProgress?.(Number(res.message.value.entitiesChecked), Number(res.message.value.entitiesTotal));
    else if (res.message.case === "report") report = res.message.value;
  }
  if (!report) throw new Error("CheckConsistency ended without a report");
  return resultOf(view, report);
}

function entityColumns(view: FeatureViewMessage, entities: readonly Row[]): ColumnarRows {
  const columns = view.servingKeys
    .filter((k) => entities.some((e) => e[k.name] !== undefined))
    .map((k) =>
      namedColumn(
        k.name,
        k.type!,
        entities.map((e) => e[k.name]),
      ),
    );
  const unknown = Object.keys(entities[0] ?? {}).filter((k) => !view.servingKeys.some((s) => s.name === k));
  if (unknown.length > 0)
    throw new TypeError(`"${unknown[0]}" is not a serving key of view "${view.name}" (serving keys: ${view.servingKeys.map((k) => k.name).join(", ")})`);
  return { $typeName: "granary.types.v1.ColumnarRows", rowCount: entities.length, columns };
}

function parameterColumns(view: FeatureViewMessage, parameters: Row | readonly Row[]): ColumnarRows {
  const rows = Array.isArray(parameters) ? (parameters as Row[]) : [parameters as Row];
  const types = new Map(view.onDemandFeatures.flatMap((f) => f.requestParameters.map((p) => [p.name, p.type!] as const)));
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const columns = names.map((name) => {
    const type = types.get(name);
    if (!type) throw new TypeError(`request parameter "${name}" is not an input of any on-demand feature of view "${view.name}"`);
    return namedColumn(
      name,
      type,
      rows.map((r) => r[name]),
    );
  });
  return { $typeName: "granary.types.v1.ColumnarRows", rowCount: rows.length, columns };
}

function resultOf(view: FeatureViewMessage, r: ConsistencyReport): ConsistencyResult {
  const keyTypes = new Map(view.servingKeys.map((k) => [k.name, k.type!]));
  const entity = (e: ConsistencyExample): Row => Object.fromEntries(e.entity.map((k) => [k.name, decode(k.value, keyTypes.get(k.name))]));
  const features = r.features.map((f): FeatureConsistencyResult => ({
    name: f.name,
    type: f.type ? typeName(f.type) : "",
    compared: Number(f.compared),
    mismatches: Number(f.mismatches),
    examples: f.examples.map((e) => ({
      entity: entity(e),
      online: decode(e.onlineValue, f.type),
      offline: decode(e.offlineValue, f.type),
      onlineStatus: statusName(e.onlineStatus),
      offlineStatus: statusName(e.offlineStatus),
    })),
    ...(f.notComparedReason ? { notCompared: f.notComparedReason } : {}),
  }));
  return {
    consistent: r.mismatches === 0n,
    featureView: { name: r.featureView?.name ?? view.name, version: r.featureView?.version ?? view.version },
    asOf: r.asOfTime ? new Date(timestampMs(r.asOfTime)) : new Date(),
    modelVersion: r.modelVersion,
    trainingDatasetVersion: r.trainingDatasetVersion,
    entitiesChecked: Number(r.entitiesChecked),
    entitiesCompared: Number(r.entitiesCompared),
    entitiesMismatched: Number(r.entitiesMismatched),
    mismatches: Number(r.mismatches),
    missingOnline: { count: Number(r.missingOnline?.count ?? 0n), examples: (r.missingOnline?.examples ?? []).map(entity) },
    missingOffline: { count: Number(r.missingOffline?.count ?? 0n), examples: (r.missingOffline?.examples ?? []).map(entity) },
    missingBoth: Number(r.missingBoth),
    onlineRowsAhead: Number(r.onlineRowsAhead),
    features,
  };
}

/** A Value of a known column type as the SDK's values (int64 as number when safe, timestamps as Date). */
function decode(value: Value | undefined, type: DataType | undefined): FeatureValue {
  const plain = plainOf(value);
  return type ? fromPlain(type, plain) : (plain as FeatureValue);
}

function plainOf(value: Value | undefined): PlainValue | null {
  const kind = value?.kind;
  if (!kind) return null;
  switch (kind.case) {
    case undefined:
      return null;
    case "timestampValue":
      return BigInt(kind.value.seconds) * 1_000_000n + BigInt(Math.floor(kind.value.nanos / 1000));
    case "listValue":
      return kind.value.values.map((v) => plainOf(v) ?? (0 as PlainValue));
    default:
      return kind.value as PlainValue;
  }
}

/** A few lines a person reads: totals, then one line per feature with mismatches or not compared. */
export function consistencySummary(r: ConsistencyResult): string {
  const lines = [
    `${r.featureView.name} v${r.featureView.version} as of ${r.asOf.toISOString()}: ${r.consistent ? "consistent" : `${r.mismatches} mismatching value(s) in ${r.entitiesMismatched} of ${r.entitiesCompared} entities`}`,
    `  checked ${r.entitiesChecked}, compared ${r.entitiesCompared}, missing online ${r.missingOnline.count}, missing offline ${r.missingOffline.count}, missing on both ${r.missingBoth}, online rows newer than as-of ${r.onlineRowsAhead}`,
  ];
  for (const f of r.features) {
    if (f.notCompared) lines.push(`  ${f.name}: not compared (${f.notCompared})`);
    else if (f.mismatches > 0) {
      const e = f.examples[0];
      lines.push(
        `  ${f.name}: ${f.mismatches} of ${f.compared} differ${e ? `, e.g. ${JSON.stringify(e.entity, jsonSafe)} online ${JSON.stringify(e.online, jsonSafe)} offline ${JSON.stringify(e.offline, jsonSafe)}` : ""}`,
      );
    }
  }
  return lines.join("\n");
}

function jsonSafe(_: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
