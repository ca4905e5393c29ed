import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { PlainValue } from "@granary/cel";
import { feature, featureGroupMessage, featureViewMessage, plainToValue, Query, type FilterExpr } from "@granary/client";
import {
  DistanceMetric,
  DriftThresholdsSchema,
  EmbeddingIndexSchema,
  FeatureDriftThresholdsSchema,
  FeatureGroupSchema,
  FeatureViewSchema,
  MonitoringConfigSchema,
  type MonitoringConfig,
  SelectionMode,
  ValidationPolicy,
  ValidationRuleSchema,
  type FeatureGroup as FeatureGroupMessage,
  type FeatureView as FeatureViewMessage,
  type ValidationRule,
} from "@granary/proto/metadata";
import type { DataType, Value } from "@granary/proto/types";
import type { FilterDecl } from "./filter-text.js";
import type { EmbeddingIndexDecl, GroupDecl, MonitoringDecl, QueryDecl, RuleDecl, ThresholdsDecl, ViewDecl } from "./manifest-types.js";
import { suggest } from "../suggest.js";
import type { Problem } from "./yaml-checker.js";

/** The group version a declaration describes, as CreateFeatureGroup takes it. */
export function groupMessage(project: string, g: GroupDecl): FeatureGroupMessage {
  const message = featureGroupMessage(project, {
    name: g.name,
    version: g.version,
    columns: g.columns.map((c) => ({ name: c.name, type: c.type, description: c.description })),
    primaryKey: g.primaryKey,
    eventTime: g.eventTime,
    partitionKey: g.partitionKey,
    onlineEnabled: g.onlineEnabled,
    onlineTtlMs: g.onlineTtlMs,
    description: g.description,
    tags: g.tags,
    customMetadata: g.customMetadata,
    statistics: g.statistics,
    validationRules: g.validationRules.map(ruleMessage),
  });
  g.columns.forEach((c, i) => {
    if (c.defaultValue !== undefined) message.columns[i]!.defaultValue = valueMessage(c.type, c.defaultValue);
  });
  message.embeddingIndexes = g.embeddingIndexes.map((e) => create(EmbeddingIndexSchema, { column: e.column, metric: METRIC[e.metric] }));
  return wireForm(FeatureGroupSchema, message);
}

const METRIC: Record<EmbeddingIndexDecl["metric"], DistanceMetric> = {
  cosine: DistanceMetric.COSINE,
  l2: DistanceMetric.L2,
  inner_product: DistanceMetric.INNER_PRODUCT,
};

/** Drift thresholds as the view's MonitoringConfig. */
function monitoringMessage(m: MonitoringDecl): MonitoringConfig {
  const thresholds = (t: ThresholdsDecl) => create(DriftThresholdsSchema, { psi: t.psi, ks: t.ks, nullShareIncrease: t.nullShareIncrease });
  return create(MonitoringConfigSchema, {
    defaultThresholds: m.default ? thresholds(m.default) : undefined,
    features: Object.entries(m.features).map(([column, t]) => create(FeatureDriftThresholdsSchema, { column, thresholds: thresholds(t) })),
  });
}

function ruleMessage(r: RuleDecl): ValidationRule {
  const policy = r.policy === "warn" ? ValidationPolicy.WARN : ValidationPolicy.FAIL;
  const item = { ...r.columnType, list: false } as DataType;
  const rule = ((): ValidationRule["rule"] => {
    switch (r.rule.kind) {
      case "between":
        return { case: "between", value: { $typeName: "granary.metadata.v1.BetweenRule", min: r.rule.min, max: r.rule.max } };
      case "not_null":
        return { case: "notNull", value: { $typeName: "granary.metadata.v1.NotNullRule" } };
      case "unique":
        return { case: "unique", value: { $typeName: "granary.metadata.v1.UniqueRule" } };
      case "values_in_set":
        return { case: "valuesInSet", value: { $typeName: "granary.metadata.v1.ValuesInSetRule", values: r.rule.values.map((v) => valueMessage(item, v)) } };
      case "regex_match":
        return { case: "regexMatch", value: { $typeName: "granary.metadata.v1.RegexMatchRule", pattern: r.rule.pattern } };
    }
  })();
  return create(ValidationRuleSchema, { name: r.name, column: r.column, policy, rule });
}

/** A literal (a default, a value of a set) as a Value message of the column type. */
export function valueMessage(type: DataType, plain: PlainValue): Value {
  return plainToValue(type, plain);
}

/** A group a view's query reads: its name, version and columns (from the file or the server). */
export type GroupLookup = (name: string, version: number | undefined) => FeatureGroupMessage | undefined;

/**
 * The view version a declaration describes. Problems (an unknown group or column, a filter value
 * that does not fit its column) are added to `problems` at their paths, and undefined is returned.
 */
export function viewMessage(project: string, v: ViewDecl, lookup: GroupLookup, problems: Problem[]): FeatureViewMessage | undefined {
  const before = problems.length;
  const query = buildQuery(v.query, lookup, problems);
  if (!query || problems.length > before) return undefined;
  try {
    const message = featureViewMessage(project, {
      name: v.name,
      version: v.version,
      description: v.description,
      query,
      labels: v.labels,
      transformations: v.transformations,
      onDemand: v.onDemand.map((o) => ({ name: o.name, type: o.type, expression: o.expression, requestParameters: o.requestParameters })),
      inferenceHelperColumns: v.inferenceHelperColumns,
      trainingHelperColumns: v.trainingHelperColumns,
      tags: v.tags,
    });
    if (v.monitoring) message.monitoring = monitoringMessage(v.monitoring);
    return wireForm(FeatureViewSchema, message);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    problems.push({ path: v.path, message: err.message });
    return undefined;
  }
}

function buildQuery(q: QueryDecl, lookup: GroupLookup, problems: Problem[]): Query | undefined {
  const group = lookup(q.group, q.version);
  if (!group) {
    problems.push({
      path: [...q.path, "group"],
      message: `feature group "${q.group}"${q.version ? ` version ${q.version}` : ""} is neither declared in this file nor on the server`,
    });
    return undefined;
  }
  const names = group.columns.map((c) => c.name);
  const checkColumns = (columns: readonly string[], field: string) => {
    columns.forEach((c, i) => {
      if (names.includes(c)) return;
      const hint = suggest(c, names);
      problems.push({
        path: [...q.path, field, i],
        message: `"${c}" is not a column of feature group ${group.name} v${group.version}${hint ? ` (did you mean "${hint}"?)` : ""}`,
      });
    });
  };
  let query: Query;
  switch (q.selection.mode) {
    case "all":
      query = Query.of(group, SelectionMode.ALL);
      break;
    case "features":
      query = Query.of(group, SelectionMode.EXCEPT, [...group.primaryKey, ...(group.eventTime ? [group.eventTime] : [])]);
      break;
    case "include":
      checkColumns(q.selection.columns, "select");
      query = Query.of(group, SelectionMode.INCLUDE, q.selection.columns);
      break;
    case "except":
      checkColumns(q.selection.columns, "select_except");
      query = Query.of(group, SelectionMode.EXCEPT, q.selection.columns);
      break;
  }
  for (const j of q.joins) {
    const right = buildQuery(j.query, lookup, problems);
    if (!right) continue;
    query = query.join(right, { on: j.on, leftOn: j.leftOn, rightOn: j.rightOn, prefix: j.prefix, type: j.type });
  }
  if (q.filter) {
    try {
      query = query.filter(filterExpr(q.filter));
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      problems.push({ path: [...q.path, "filter"], message: err.message });
    }
  }
  return query;
}

function filterExpr(f: FilterDecl): FilterExpr {
  if (f.kind !== "condition") {
    const [first, ...rest] = f.filters.map(filterExpr);
    return rest.length === 0 ? first! : f.kind === "and" ? first!.and(...rest) : first!.or(...rest);
  }
  const column = feature(f.column);
  switch (f.op) {
    case "eq":
      return column.eq(f.value!);
    case "ne":
      return column.ne(f.value!);
    case "lt":
      return column.lt(f.value!);
    case "le":
      return column.le(f.value!);
    case "gt":
      return column.gt(f.value!);
    case "ge":
      return column.ge(f.value!);
    case "in":
      return column.in(f.values!);
    case "is_null":
      return column.isNull();
    case "is_not_null":
      return column.isNotNull();
  }
}

/**
 * The message as the server will hold it: through the binary wire form and back, so that float
 * values are rounded to 32 bits exactly as they are once sent (else a re-apply would see a change).
 */
function wireForm<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): MessageShape<Desc> {
  return fromBinary(schema, toBinary(schema, message));
}
