import type { PlainValue } from "@granary/cel";
import { parseType } from "@granary/client";
import { ScalarType, type DataType } from "@granary/proto/types";
import { suggest } from "../suggest.js";
import { parseValue, ValueParseError } from "../value-parsing.js";
import type { ColumnDecl, EmbeddingIndexDecl, GroupDecl, RuleDecl, RuleKind } from "./manifest-types.js";
import { describe, type At } from "./yaml-checker.js";

const GROUP_FIELDS = [
  "name",
  "version",
  "description",
  "columns",
  "primary_key",
  "event_time",
  "partition_key",
  "online_enabled",
  "online_ttl",
  "tags",
  "custom_metadata",
  "statistics",
  "validation_rules",
  "embedding_indexes",
] as const;
const INDEX_FIELDS = ["column", "metric"] as const;
const METRICS = ["cosine", "l2", "inner_product"] as const;
const COLUMN_FIELDS = ["name", "type", "description", "default"] as const;
const RULE_KINDS = ["between", "not_null", "unique", "values_in_set", "regex_match"] as const;
const RULE_FIELDS = ["name", "column", "policy", ...RULE_KINDS] as const;
const STATISTICS_FIELDS = ["enabled", "histograms", "correlations", "columns"] as const;
const TYPE_NAMES = ["bool", "int32", "int64", "float", "double", "string", "bytes", "timestamp", "date"];
const NUMERIC = new Set([ScalarType.INT32, ScalarType.INT64, ScalarType.FLOAT, ScalarType.DOUBLE]);
const KEY_TYPES = new Set([ScalarType.BOOL, ScalarType.INT32, ScalarType.INT64, ScalarType.STRING, ScalarType.BYTES, ScalarType.DATE, ScalarType.TIMESTAMP]);

/** One entry of feature_groups, checked column references and all. */
export function checkGroup(at: At): GroupDecl | undefined {
  const f = at.object(GROUP_FIELDS, "a feature group mapping");
  if (!f) return undefined;
  const before = at.problems.length;
  const name = f["name"]!.identifier("feature group name");
  const version = f["version"]!.int({ min: 1 }) ?? 1;
  const description = f["description"]!.string();
  const columnsAt = f["columns"]!.list({ required: true, nonEmpty: true }) ?? [];
  const columns: ColumnDecl[] = [];
  const byName = new Map<string, ColumnDecl>();
  // Columns whose own declaration is wrong: references to them are not reported again.
  const broken = new Set<string>();
  for (const c of columnsAt) {
    const column = checkColumn(c);
    if (!column) {
      const name = (c.value as { name?: unknown } | null)?.name;
      if (typeof name === "string") broken.add(name);
      continue;
    }
    if (byName.has(column.name)) {
      c.at("name", column.name).fail(`column "${column.name}" is declared twice`);
      continue;
    }
    byName.set(column.name, column);
    columns.push(column);
  }
  const columnRef = (a: At, value: string, what: string): ColumnDecl | undefined => {
    const column = byName.get(value);
    if (column || broken.has(value)) return column;
    const hint = suggest(value, [...byName.keys()]);
    return a.fail(`${what} "${value}" is not a column of the group${hint ? ` (did you mean "${hint}"?)` : ""}`);
  };
  const primaryKey = f["primary_key"]!.strings({ required: true, nonEmpty: true }) ?? [];
  primaryKey.forEach((k, i) => {
    const at = Array.isArray(f["primary_key"]!.value) ? f["primary_key"]!.at(i, k) : f["primary_key"]!;
    const column = columnRef(at, k, "primary key");
    if (column && (column.type.list || !KEY_TYPES.has(column.type.scalar)))
      at.fail(`column "${k}" cannot be a key (use an integer, string, bytes, bool, date or timestamp column)`);
  });
  const eventTime = f["event_time"]!.string();
  if (eventTime !== undefined) {
    const column = columnRef(f["event_time"]!, eventTime, "event time");
    if (column && (column.type.list || (column.type.scalar !== ScalarType.TIMESTAMP && column.type.scalar !== ScalarType.DATE))) {
      f["event_time"]!.fail(`column "${eventTime}" must be a timestamp or date to be the event time`);
    }
  }
  const partitionKey = f["partition_key"]!.strings() ?? [];
  partitionKey.forEach((k) => {
    columnRef(f["partition_key"]!, k, "partition key");
    if (primaryKey.includes(k)) f["partition_key"]!.fail(`"${k}" is in the primary key; partition by a column outside it`);
  });
  const onlineEnabled = f["online_enabled"]!.bool() ?? false;
  const onlineTtlMs = checkDuration(f["online_ttl"]!);
  const tags = f["tags"]!.strings() ?? [];
  const customMetadata = f["custom_metadata"]!.stringMap() ?? {};
  const statistics = checkStatistics(f["statistics"]!, (a, c) => columnRef(a, c, "statistics column"));
  const rules: RuleDecl[] = [];
  const ruleNames = new Set<string>();
  for (const r of f["validation_rules"]!.list() ?? []) {
    const rule = checkRule(r, (a, c) => columnRef(a, c, "rule column"));
    if (!rule) continue;
    if (ruleNames.has(rule.name)) r.at("name", rule.name).fail(`rule "${rule.name}" is declared twice`);
    ruleNames.add(rule.name);
    rules.push(rule);
  }
  const embeddingIndexes: EmbeddingIndexDecl[] = [];
  for (const x of f["embedding_indexes"]!.list() ?? []) {
    const index = x.object(INDEX_FIELDS, "an index mapping (column, metric)");
    if (!index) continue;
    const column = index["column"]!.string({ required: true });
    const metric = index["metric"]!.choice(METRICS) ?? "cosine";
    if (column === undefined) continue;
    const declared = columnRef(index["column"]!, column, "indexed column");
    if (declared && !(declared.type.list && declared.type.scalar === ScalarType.FLOAT && declared.type.dimension > 0))
      index["column"]!.fail(`column "${column}" is not an embedding: declare it as embedding<dimension>`);
    if (embeddingIndexes.some((e) => e.column === column)) index["column"]!.fail(`column "${column}" already has an index`);
    embeddingIndexes.push({ column, metric });
  }
  if (embeddingIndexes.length > 0 && !onlineEnabled) f["embedding_indexes"]!.fail("needs online_enabled: true (the online service keeps the indexes)");
  if (name === undefined || at.problems.length > before) return undefined;
  return {
    path: at.path,
    name,
    version,
    description,
    columns,
    primaryKey,
    eventTime,
    partitionKey,
    onlineEnabled,
    onlineTtlMs,
    tags,
    customMetadata,
    statistics,
    validationRules: rules,
    embeddingIndexes,
  };
}

function checkColumn(at: At): ColumnDecl | undefined {
  const f = at.object(COLUMN_FIELDS, "a column mapping (name, type)");
  if (!f) return undefined;
  const name = f["name"]!.identifier("column name");
  const type = checkType(f["type"]!);
  const description = f["description"]!.string();
  let defaultValue: PlainValue | undefined;
  if (type && f["default"]!.present) defaultValue = literal(f["default"]!, type);
  if (name === undefined || type === undefined) return undefined;
  return { name, type, description, defaultValue };
}

/** A column type: parsed as the SDK parses it, with a suggestion for a typo. */
export function checkType(at: At): DataType | undefined {
  const text = at.string({ required: true });
  if (text === undefined) return undefined;
  try {
    return parseType(text);
  } catch {
    const base = /^(?:list|array)<\s*(\w+)\s*>$/i.exec(text.trim())?.[1] ?? text.trim().toLowerCase();
    const hint = suggest(base, TYPE_NAMES);
    const fixed = hint && base !== text.trim().toLowerCase() ? text.replace(base, hint) : hint;
    return at.fail(`unknown type "${text}"${fixed ? ` (did you mean "${fixed}"?)` : ""}: use ${TYPE_NAMES.join(", ")}, list<type> or embedding<dimension>`);
  }
}

/** A YAML literal as a value of the column type (defaults, values_in_set). */
function literal(at: At, type: DataType): PlainValue | undefined {
  const v = at.value;
  if (v === null || v === undefined) return undefined;
  if (typeof v === "object" && !Array.isArray(v)) return at.fail(`must be a value, got ${describe(v)}`);
  const text = Array.isArray(v) ? JSON.stringify(v) : String(v);
  if (typeof v === "boolean" && type.scalar !== ScalarType.BOOL && type.scalar !== ScalarType.STRING) return at.fail(`${v} is not a ${typeText(type)}`);
  try {
    return parseValue(type, text) ?? undefined;
  } catch (err) {
    if (err instanceof ValueParseError) return at.fail(err.message);
    throw err;
  }
}

function typeText(type: DataType): string {
  return type.list ? "list" : (ScalarType[type.scalar] ?? "value").toLowerCase();
}

const DURATION = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d|w))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "7d", "12h", "1h30m", "500ms", or a number of seconds. */
export function checkDuration(at: At): number | undefined {
  const v = at.value;
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") {
    if (!(v > 0)) return at.fail(`must be positive, got ${v}`);
    return Math.round(v * 1000);
  }
  if (typeof v !== "string" || !DURATION.test(v.replace(/\s+/g, "")))
    return at.fail(`must be a duration such as 30s, 15m, 12h, 7d or 1h30m, got ${describe(v)}`);
  let ms = 0;
  for (const m of v.replace(/\s+/g, "").matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (!(ms > 0)) return at.fail("must be positive");
  return Math.round(ms);
}

function checkStatistics(at: At, columnRef: (a: At, c: string) => unknown): GroupDecl["statistics"] {
  if (!at.present) return undefined;
  if (typeof at.value === "boolean") return { enabled: at.value, histograms: false, correlations: false, columns: [] };
  const f = at.object(STATISTICS_FIELDS, "true, false or a mapping (enabled, histograms, correlations, columns)");
  if (!f) return undefined;
  const columns = f["columns"]!.strings() ?? [];
  columns.forEach((c) => columnRef(f["columns"]!, c));
  return { enabled: f["enabled"]!.bool() ?? true, histograms: f["histograms"]!.bool() ?? false, correlations: f["correlations"]!.bool() ?? false, columns };
}

function checkRule(at: At, columnRef: (a: At, c: string) => ColumnDecl | undefined): RuleDecl | undefined {
  const f = at.object(RULE_FIELDS, "a rule mapping (name, column, policy and one of between, not_null, unique, values_in_set, regex_match)");
  if (!f) return undefined;
  const before = at.problems.length;
  const name = f["name"]!.identifier("rule name");
  const columnName = f["column"]!.string({ required: true });
  const column = columnName === undefined ? undefined : columnRef(f["column"]!, columnName);
  const policy = f["policy"]!.choice(["fail", "warn"] as const) ?? "fail";
  const kinds = RULE_KINDS.filter((k) => f[k]!.value !== undefined);
  if (kinds.length !== 1) {
    at.fail(kinds.length === 0 ? `give one of ${RULE_KINDS.join(", ")}` : `give one rule per entry, not ${kinds.join(" and ")}`);
    return undefined;
  }
  const kind = kinds[0]!;
  const k = f[kind]!;
  let rule: RuleKind | undefined;
  switch (kind) {
    case "between": {
      const b = k.object(["min", "max"], "a mapping with min and/or max");
      if (!b) break;
      const min = b["min"]!.number();
      const max = b["max"]!.number();
      if (min === undefined && max === undefined) k.fail("give min, max or both");
      else if (min !== undefined && max !== undefined && min > max) k.fail(`min ${min} is greater than max ${max}`);
      else if (column && (column.type.list || !NUMERIC.has(column.type.scalar))) k.fail(`column "${column.name}" is not numeric`);
      else rule = { kind, min, max };
      break;
    }
    case "not_null":
    case "unique":
      if (k.value !== true) k.fail("write true");
      else rule = { kind };
      break;
    case "values_in_set": {
      const items = k.list({ nonEmpty: true });
      if (!items || !column) break;
      const item = { ...column.type, list: false } as DataType;
      const values = items.map((i) => literal(i, item));
      if (values.every((v) => v !== undefined)) rule = { kind, values: values as PlainValue[] };
      break;
    }
    case "regex_match": {
      const pattern = k.string({ required: true });
      if (pattern === undefined) break;
      try {
        new RegExp(pattern, "u");
        if (column && (column.type.list || column.type.scalar !== ScalarType.STRING)) k.fail(`column "${column.name}" is not a string`);
        else rule = { kind, pattern };
      } catch {
        k.fail(`"${pattern}" is not a valid regular expression`);
      }
      break;
    }
  }
  if (name === undefined || !column || !rule || at.problems.length > before) return undefined;
  return { name, column: column.name, columnType: column.type, policy, rule };
}
