import type { TransformationName } from "@granary/client";
import { parseFilterCondition, type FilterDecl } from "./filter-text.js";
import { checkType } from "./check-group.js";
import type { JoinDecl, MonitoringDecl, OnDemandDecl, QueryDecl, SelectionDecl, ThresholdsDecl, ViewDecl } from "./manifest-types.js";
import type { At } from "./yaml-checker.js";

const VIEW_FIELDS = [
  "name",
  "version",
  "description",
  "query",
  "labels",
  "transformations",
  "on_demand",
  "inference_helper_columns",
  "training_helper_columns",
  "tags",
  "monitoring",
] as const;
const MONITORING_FIELDS = ["default", "features"] as const;
const THRESHOLD_FIELDS = ["psi", "ks", "null_share_increase"] as const;
const SELECT_FIELDS = ["select", "select_all", "select_except", "select_features"] as const;
const QUERY_FIELDS = ["group", "version", ...SELECT_FIELDS, "joins", "filter"] as const;
const JOIN_FIELDS = [...QUERY_FIELDS, "on", "left_on", "right_on", "prefix", "type"] as const;
const ON_DEMAND_FIELDS = ["name", "type", "expression", "request_parameters"] as const;
export const TRANSFORMATION_NAMES: readonly TransformationName[] = ["min_max_scaler", "standard_scaler", "robust_scaler", "label_encoder", "one_hot_encoder"];

/** One entry of feature_views: its query (nested joins, filters), labels, transformations and on-demand features. */
export function checkView(at: At): ViewDecl | undefined {
  const f = at.object(VIEW_FIELDS, "a feature view mapping");
  if (!f) return undefined;
  const before = at.problems.length;
  const name = f["name"]!.identifier("feature view name");
  const version = f["version"]!.int({ min: 1 }) ?? 1;
  const description = f["description"]!.string();
  const query = f["query"]!.present ? checkQuery(f["query"]!, QUERY_FIELDS) : f["query"]!.fail("is required: the group the view reads, its columns and joins");
  const labels = f["labels"]!.strings() ?? [];
  const transformations: Record<string, TransformationName> = {};
  for (const [column, t] of f["transformations"]!.entries() ?? []) {
    const fn = t.choice(TRANSFORMATION_NAMES);
    if (fn) transformations[column] = fn;
  }
  const onDemand = (f["on_demand"]!.list() ?? []).map(checkOnDemand);
  const inferenceHelperColumns = f["inference_helper_columns"]!.strings() ?? [];
  const trainingHelperColumns = f["training_helper_columns"]!.strings() ?? [];
  const tags = f["tags"]!.strings() ?? [];
  const monitoring = checkMonitoring(f["monitoring"]!);
  if (name === undefined || !query || at.problems.length > before) return undefined;
  return {
    path: at.path,
    name,
    version,
    description,
    query,
    labels,
    transformations,
    onDemand: onDemand as OnDemandDecl[],
    inferenceHelperColumns,
    trainingHelperColumns,
    tags,
    ...(monitoring ? { monitoring } : {}),
  };
}

/** `monitoring: { default: { psi, ks, null_share_increase }, features: { <column>: { … } } }`: drift thresholds. */
function checkMonitoring(at: At): MonitoringDecl | undefined {
  if (!at.present) return undefined;
  const f = at.object(MONITORING_FIELDS, "a mapping (default, features) of drift thresholds");
  if (!f) return undefined;
  const thresholds = (t: At): ThresholdsDecl | undefined => {
    const g = t.object(THRESHOLD_FIELDS, "a mapping of thresholds (psi, ks, null_share_increase)");
    if (!g) return undefined;
    const value = (x: At) => {
      const n = x.number();
      return n !== undefined && n < 0 ? x.fail(`must not be negative, got ${n}`) : n;
    };
    const psi = value(g["psi"]!);
    const ks = value(g["ks"]!);
    const nullShareIncrease = value(g["null_share_increase"]!);
    return { ...(psi !== undefined ? { psi } : {}), ...(ks !== undefined ? { ks } : {}), ...(nullShareIncrease !== undefined ? { nullShareIncrease } : {}) };
  };
  const features: Record<string, ThresholdsDecl> = {};
  for (const [column, t] of f["features"]!.entries() ?? []) {
    const x = thresholds(t);
    if (x) features[column] = x;
  }
  const defaults = f["default"]!.present ? thresholds(f["default"]!) : undefined;
  return { ...(defaults ? { default: defaults } : {}), features };
}

function checkQuery(at: At, fields: readonly string[]): QueryDecl | undefined {
  const f = at.object(fields, "a query mapping (group, select…, joins, filter)");
  if (!f) return undefined;
  const before = at.problems.length;
  const groupText = f["group"]!.string({ required: true });
  let group: string | undefined;
  let version = f["version"]!.int({ min: 1 });
  if (groupText !== undefined) {
    const m = /^([a-z][a-z0-9_]{0,62})(?::(\d+))?$/.exec(groupText);
    if (!m) f["group"]!.fail(`"${groupText}" is not a feature group: write name or name:version`);
    else {
      group = m[1]!;
      if (m[2] !== undefined) {
        if (version !== undefined && version !== Number(m[2])) f["version"]!.fail(`contradicts the version in group "${groupText}"`);
        version = Number(m[2]);
        if (version < 1) f["group"]!.fail("versions start at 1");
      }
    }
  }
  const given = SELECT_FIELDS.filter((k) => f[k]!.value !== undefined);
  let selection: SelectionDecl = { mode: "all" };
  if (given.length > 1) at.fail(`choose one of ${given.join(", ")}`);
  else if (given[0] === "select") selection = { mode: "include", columns: f["select"]!.strings({ nonEmpty: true }) ?? [] };
  else if (given[0] === "select_except") selection = { mode: "except", columns: f["select_except"]!.strings({ nonEmpty: true }) ?? [] };
  else if (given[0] === "select_all" || given[0] === "select_features") {
    const k = f[given[0]]!;
    if (k.value !== true) k.fail("write true (or leave it out: every column is the default)");
    selection = { mode: given[0] === "select_all" ? "all" : "features" };
  }
  const joins: JoinDecl[] = [];
  for (const j of f["joins"]!.list() ?? []) {
    const join = checkJoin(j);
    if (join) joins.push(join);
  }
  const filter = f["filter"]!.present ? checkFilter(f["filter"]!) : undefined;
  if (group === undefined || at.problems.length > before) return undefined;
  return { path: at.path, group, version, selection, joins, filter };
}

function checkJoin(at: At): JoinDecl | undefined {
  const query = checkQuery(at, JOIN_FIELDS);
  const v = at.value as Record<string, unknown> | null;
  if (!query || v === null || typeof v !== "object") return undefined;
  const before = at.problems.length;
  const on = at.at("on", v["on"]).strings() ?? [];
  const leftOn = at.at("left_on", v["left_on"]).strings() ?? [];
  const rightOn = at.at("right_on", v["right_on"]).strings() ?? [];
  if (on.length > 0 && (leftOn.length > 0 || rightOn.length > 0)) at.fail("give either on, or left_on and right_on");
  if (leftOn.length !== rightOn.length) at.fail(`left_on names ${leftOn.length} columns and right_on ${rightOn.length}: give as many of each`);
  const prefix = at.at("prefix", v["prefix"]).string();
  if (prefix !== undefined && !/^[a-z][a-z0-9_]*$/.test(prefix))
    at.at("prefix", prefix).fail(`prefix "${prefix}" must start with a lower-case letter and hold lower-case letters, digits or _`);
  const type = at.at("type", v["type"]).choice(["left", "inner"] as const) ?? "left";
  if (at.problems.length > before) return undefined;
  return { query, on, leftOn, rightOn, prefix, type };
}

function checkFilter(at: At): FilterDecl | undefined {
  const v = at.value;
  if (typeof v === "string") {
    const parsed = parseFilterCondition(v);
    return typeof parsed === "string" ? at.fail(parsed) : parsed;
  }
  if (Array.isArray(v)) {
    const filters = at.list()!.map(checkFilter);
    if (filters.length === 0) return at.fail("list at least one condition");
    return filters.every((x) => x !== undefined) ? { kind: "and", filters: filters as FilterDecl[] } : undefined;
  }
  const f = at.object(["and", "or"], 'a condition ("amount > 100"), a list of conditions (all must hold), or a mapping with and / or');
  if (!f) return undefined;
  const kinds = (["and", "or"] as const).filter((k) => f[k]!.value !== undefined);
  if (kinds.length !== 1) return at.fail("give either and or or");
  const kind = kinds[0]!;
  const items = f[kind]!.list({ nonEmpty: true });
  if (!items) return undefined;
  const filters = items.map(checkFilter);
  return filters.every((x) => x !== undefined) ? { kind, filters: filters as FilterDecl[] } : undefined;
}

function checkOnDemand(at: At): OnDemandDecl | undefined {
  const f = at.object(ON_DEMAND_FIELDS, "an on-demand feature mapping (name, type, expression, request_parameters)");
  if (!f) return undefined;
  const before = at.problems.length;
  const name = f["name"]!.identifier("on-demand feature name");
  const type = f["type"]!.string({ required: true });
  if (type !== undefined) checkType(f["type"]!);
  const expression = f["expression"]!.string({ required: true, nonEmpty: true });
  const params: { name: string; type: string }[] = [];
  const p = f["request_parameters"]!;
  if (Array.isArray(p.value)) {
    for (const item of p.list()!) {
      const pf = item.object(["name", "type"], "a parameter mapping (name, type)");
      if (!pf) continue;
      const pn = pf["name"]!.identifier("request parameter name");
      const pt = checkType(pf["type"]!) && (pf["type"]!.value as string);
      if (pn && pt) params.push({ name: pn, type: pt });
    }
  } else {
    for (const [pn, pt] of p.entries() ?? []) {
      if (!/^[a-z][a-z0-9_]{0,62}$/.test(pn)) pt.fail(`request parameter name "${pn}" must be a lower-case identifier`);
      else if (checkType(pt)) params.push({ name: pn, type: pt.value as string });
    }
  }
  if (name === undefined || type === undefined || expression === undefined || at.problems.length > before) return undefined;
  return { name, type, expression, requestParameters: params };
}
