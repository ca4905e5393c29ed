import { clone, create, equals } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";
import { DistanceMetric, FeatureGroupSchema, type EmbeddingIndex, type FeatureGroup, type ValidationRule } from "@granary/proto/metadata";
import { ScalarType, type Column, type DataType, type Value } from "@granary/proto/types";
import { RE2JS } from "re2js";
import { describeType } from "./describe.js";
import { checkIdentifier } from "./names.js";

/** Types a primary-key column may have: exact, comparable values. */
const KEY_TYPES = new Set([ScalarType.BOOL, ScalarType.INT32, ScalarType.INT64, ScalarType.STRING, ScalarType.BYTES, ScalarType.DATE, ScalarType.TIMESTAMP]);
const NUMERIC_TYPES = new Set([ScalarType.INT32, ScalarType.INT64, ScalarType.FLOAT, ScalarType.DOUBLE]);
/**
 * Types a partition column may have: each value is a directory of every commit, so exact values
 * with few distinct ones (a timestamp would make one directory per instant; floats compare
 * inexactly; bytes and lists have no readable name).
 */
const PARTITION_TYPES = new Set([ScalarType.BOOL, ScalarType.INT32, ScalarType.INT64, ScalarType.STRING, ScalarType.DATE]);
/** Partition columns a group may have: one directory level each. */
export const MAX_PARTITION_COLUMNS = 4;
const MAX_COLUMNS = 4096;
const MAX_TAG_LENGTH = 128;

/**
 * Checks a feature group definition, naming the first field at fault. Server-assigned fields (id,
 * times, etag) are ignored.
 */
export function validateFeatureGroup(fg: FeatureGroup, field = "feature_group"): void {
  checkIdentifier(fg.project, `${field}.project`, "project");
  checkIdentifier(fg.name, `${field}.name`, "feature group name");
  if (fg.version < 1) throw new InvalidArgumentError(`${field}.version must be 1 or more, got ${fg.version}`, { field: `${field}.version` });
  if (fg.columns.length === 0) throw new InvalidArgumentError(`${field}.columns: a feature group needs at least one column`, { field: `${field}.columns` });
  if (fg.columns.length > MAX_COLUMNS) {
    throw new InvalidArgumentError(`${field}.columns: at most ${MAX_COLUMNS} columns, got ${fg.columns.length}`, { field: `${field}.columns` });
  }
  const columns = validateColumns(fg.columns, `${field}.columns`, new Set());
  checkKeyList(fg.primaryKey, columns, `${field}.primary_key`, "primary key", true);
  fg.primaryKey.forEach((name, i) => {
    const type = columns.get(name)?.type;
    if (type && (type.list || !KEY_TYPES.has(type.scalar))) {
      throw new InvalidArgumentError(
        `${field}.primary_key[${i}]: column "${name}" of type ${describeType(type)} cannot be a key (use an integer, string, bytes, bool, date or timestamp column)`,
        { field: `${field}.primary_key[${i}]` },
      );
    }
  });
  if (fg.eventTime !== "") {
    const column = columns.get(fg.eventTime);
    if (!column) throw new InvalidArgumentError(`${field}.event_time: "${fg.eventTime}" is not a column of the group`, { field: `${field}.event_time` });
    const t = column.type;
    if (!t || t.list || (t.scalar !== ScalarType.TIMESTAMP && t.scalar !== ScalarType.DATE)) {
      throw new InvalidArgumentError(`${field}.event_time: column "${fg.eventTime}" must be a timestamp or date, not ${describeType(t)}`, {
        field: `${field}.event_time`,
      });
    }
  }
  checkPartitionKey(fg, columns, `${field}.partition_key`);
  const retention = fg.offlineRetention;
  if (retention && (retention.seconds < 0n || retention.nanos < 0 || (retention.seconds === 0n && retention.nanos === 0))) {
    throw new InvalidArgumentError(`${field}.offline_retention must be positive (leave it unset to keep every version)`, {
      field: `${field}.offline_retention`,
    });
  }
  if (fg.onlineTtl && (fg.onlineTtl.seconds < 0n || fg.onlineTtl.nanos < 0 || (fg.onlineTtl.seconds === 0n && fg.onlineTtl.nanos === 0))) {
    throw new InvalidArgumentError(`${field}.online_ttl must be positive (leave it unset for no expiry)`, { field: `${field}.online_ttl` });
  }
  validateTags(fg.tags, `${field}.tags`);
  for (const [key, value] of Object.entries(fg.customMetadata)) {
    if (key.length === 0 || key.length > 256 || value.length > 65_536) {
      throw new InvalidArgumentError(`${field}.custom_metadata: keys need 1 to 256 characters and values at most 64 KiB ("${truncate(key)}")`, {
        field: `${field}.custom_metadata`,
      });
    }
  }
  fg.statisticsConfig?.columns.forEach((name, i) => {
    if (!columns.has(name)) {
      throw new InvalidArgumentError(`${field}.statistics_config.columns[${i}]: "${truncate(name)}" is not a column of the group`, {
        field: `${field}.statistics_config.columns[${i}]`,
      });
    }
  });
  validateRules(fg.validationRules, columns, `${field}.validation_rules`);
  validateEmbeddingIndexes(fg, columns, `${field}.embedding_indexes`);
}

/**
 * Nearest-neighbour indexes: each over a float-list column of a fixed dimension (an embedding), with
 * a metric, at most one per column, and only on an online-enabled group (the online service keeps them).
 */
function validateEmbeddingIndexes(fg: FeatureGroup, columns: ReadonlyMap<string, Column>, field: string): void {
  if (fg.embeddingIndexes.length === 0) return;
  if (!fg.onlineEnabled) {
    throw new InvalidArgumentError(
      `${field}: embedding indexes are kept by the online service; create the group with online_enabled, or leave embedding_indexes empty`,
      { field },
    );
  }
  const seen = new Set<string>();
  fg.embeddingIndexes.forEach((index: EmbeddingIndex, i) => {
    const f = `${field}[${i}]`;
    const column = columns.get(index.column);
    if (!column?.type) throw new InvalidArgumentError(`${f}.column: "${truncate(index.column)}" is not a column of the group`, { field: `${f}.column` });
    const type = column.type;
    if (!type.list || type.scalar !== ScalarType.FLOAT || type.dimension === 0) {
      throw new InvalidArgumentError(
        `${f}.column: column "${column.name}" is ${describeType(type)}; an index needs an embedding (a float list with a fixed dimension, embedding<N>)`,
        { field: `${f}.column` },
      );
    }
    if (fg.primaryKey.includes(column.name)) throw new InvalidArgumentError(`${f}.column: "${column.name}" is in the primary key`, { field: `${f}.column` });
    if (seen.has(column.name))
      throw new InvalidArgumentError(`${f}.column: column "${column.name}" already has an index; one per column`, { field: `${f}.column` });
    seen.add(column.name);
    if (!(index.metric in DistanceMetric) || index.metric === DistanceMetric.UNSPECIFIED) {
      throw new InvalidArgumentError(`${f}.metric: choose COSINE, L2 or INNER_PRODUCT`, { field: `${f}.metric` });
    }
  });
}

/**
 * Checks columns to append to a group: valid, new, and with a default of the right type when given.
 * Appended columns are nullable: rows written before them read as null or as the default.
 */
export function validateAppendedColumns(existing: readonly Column[], added: readonly Column[], field = "columns"): void {
  const taken = new Set(existing.map((c) => c.name));
  validateColumns(added, field, taken);
}

function validateColumns(columns: readonly Column[], field: string, taken: ReadonlySet<string>): Map<string, Column> {
  const byName = new Map<string, Column>();
  columns.forEach((column, i) => {
    const f = `${field}[${i}]`;
    checkIdentifier(column.name, `${f}.name`, "column name");
    if (byName.has(column.name) || taken.has(column.name)) {
      throw new InvalidArgumentError(`${f}.name: column "${column.name}" is defined twice`, { field: `${f}.name` });
    }
    const type = column.type;
    if (!type || type.scalar === ScalarType.UNSPECIFIED) {
      throw new InvalidArgumentError(`${f}.type: column "${column.name}" needs a type`, { field: `${f}.type` });
    }
    if (type.dimension > 0 && !type.list) {
      throw new InvalidArgumentError(`${f}.type.dimension: only list columns (embeddings) have a dimension`, { field: `${f}.type.dimension` });
    }
    if (column.defaultValue && !valueFitsType(column.defaultValue, type)) {
      throw new InvalidArgumentError(`${f}.default_value: not a ${describeType(type)}`, { field: `${f}.default_value` });
    }
    byName.set(column.name, column);
  });
  return byName;
}

/** The partition key: at most MAX_PARTITION_COLUMNS columns of the group, outside the primary key, of a partition type. */
function checkPartitionKey(fg: FeatureGroup, columns: ReadonlyMap<string, Column>, field: string): void {
  if (fg.partitionKey.length > MAX_PARTITION_COLUMNS) {
    throw new InvalidArgumentError(`${field}: at most ${MAX_PARTITION_COLUMNS} partition columns, got ${fg.partitionKey.length}`, { field });
  }
  checkKeyList(fg.partitionKey, columns, field, "partition key", false);
  fg.partitionKey.forEach((name, i) => {
    const f = `${field}[${i}]`;
    if (fg.primaryKey.includes(name)) {
      throw new InvalidArgumentError(`${f}: "${name}" is in the primary key; partition by a column outside it`, { field: f });
    }
    const type = columns.get(name)!.type;
    if (type && !type.list && type.scalar === ScalarType.TIMESTAMP) {
      throw new InvalidArgumentError(
        `${f}: column "${name}" is a timestamp, which would make one partition per instant; partition by a date column (for example the event day) instead`,
        { field: f },
      );
    }
    if (!type || type.list || !PARTITION_TYPES.has(type.scalar)) {
      throw new InvalidArgumentError(
        `${f}: column "${name}" of type ${describeType(type)} cannot be a partition column (use a date, string, integer or bool column)`,
        {
          field: f,
        },
      );
    }
  });
}

function checkKeyList(names: readonly string[], columns: ReadonlyMap<string, Column>, field: string, what: string, required: boolean): void {
  if (required && names.length === 0) {
    throw new InvalidArgumentError(`${field}: a feature group needs a ${what} of one or more columns`, { field });
  }
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (!columns.has(name)) throw new InvalidArgumentError(`${field}[${i}]: "${truncate(name)}" is not a column of the group`, { field: `${field}[${i}]` });
    if (seen.has(name)) throw new InvalidArgumentError(`${field}[${i}]: "${name}" is listed twice`, { field: `${field}[${i}]` });
    seen.add(name);
  });
}

export function validateTags(tags: readonly string[], field: string): void {
  tags.forEach((tag, i) => {
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH || /[\u0000-\u001f]/.test(tag)) {
      throw new InvalidArgumentError(`${field}[${i}]: a tag has 1 to ${MAX_TAG_LENGTH} printable characters`, { field: `${field}[${i}]` });
    }
  });
}

function validateRules(rules: readonly ValidationRule[], columns: ReadonlyMap<string, Column>, field: string): void {
  const names = new Set<string>();
  rules.forEach((rule, i) => {
    const f = `${field}[${i}]`;
    checkIdentifier(rule.name, `${f}.name`, "rule name");
    if (names.has(rule.name)) throw new InvalidArgumentError(`${f}.name: rule "${rule.name}" is defined twice`, { field: `${f}.name` });
    names.add(rule.name);
    const column = columns.get(rule.column);
    if (!column?.type) throw new InvalidArgumentError(`${f}.column: "${truncate(rule.column)}" is not a column of the group`, { field: `${f}.column` });
    if (rule.policy === 0) throw new InvalidArgumentError(`${f}.policy: choose FAIL or WARN`, { field: `${f}.policy` });
    const type = column.type;
    switch (rule.rule.case) {
      case "between": {
        const { min, max } = rule.rule.value;
        if (type.list || !NUMERIC_TYPES.has(type.scalar)) {
          throw new InvalidArgumentError(`${f}.between: column "${column.name}" is ${describeType(type)}, not numeric`, { field: `${f}.between` });
        }
        if (min === undefined && max === undefined) throw new InvalidArgumentError(`${f}.between: give min, max or both`, { field: `${f}.between` });
        if (min !== undefined && max !== undefined && min > max) {
          throw new InvalidArgumentError(`${f}.between: min ${min} is greater than max ${max}`, { field: `${f}.between` });
        }
        break;
      }
      case "valuesInSet":
        if (rule.rule.value.values.length === 0) throw new InvalidArgumentError(`${f}.values_in_set: list at least one value`, { field: `${f}.values_in_set` });
        rule.rule.value.values.forEach((v, j) => {
          if (!valueFitsType(v, { ...type, list: false })) {
            throw new InvalidArgumentError(`${f}.values_in_set.values[${j}]: not a ${describeType(type)}`, { field: `${f}.values_in_set.values[${j}]` });
          }
        });
        break;
      case "regexMatch":
        if (type.list || type.scalar !== ScalarType.STRING) {
          throw new InvalidArgumentError(`${f}.regex_match: column "${column.name}" is ${describeType(type)}, not string`, { field: `${f}.regex_match` });
        }
        {
          const problem = re2SyntaxError(rule.rule.value.pattern);
          if (problem !== undefined) {
            throw new InvalidArgumentError(`${f}.regex_match.pattern: rule "${rule.name}" is not an RE2 regular expression (${problem})`, {
              field: `${f}.regex_match.pattern`,
            });
          }
        }
        break;
      case "notNull":
      case "unique":
        break;
      case undefined:
        throw new InvalidArgumentError(`${f}: choose a rule (between, not_null, unique, values_in_set, regex_match)`, { field: f });
    }
  });
}

/**
 * Why `pattern` is no RE2 expression, or undefined. Inserts run the rule with DuckDB's
 * regexp_matches, which is RE2: lookaround, back-references, possessive and atomic groups that
 * JavaScript's RegExp knows would pass creation and then fail every insert. re2js is a pure
 * JavaScript port of RE2's parser, so it refuses exactly those.
 */
export function re2SyntaxError(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const reason = message.replace(/^error parsing regexp: /, "");
    return reason.length > 200 ? `${reason.slice(0, 197)}...` : reason;
  }
  // re2js follows newer RE2, which accepts (?<name>…); the RE2 bundled with DuckDB does not.
  if (/(?:^|[^\\])(?:\\\\)*\(\?<[^=!]/.test(pattern)) return "named group `(?<name>`: write `(?P<name>` instead";
  return undefined;
}

/** Whether a literal value can stand in a column of the type. Null (no kind) always fits. */
export function valueFitsType(value: Value, type: DataType): boolean {
  const kind = value.kind;
  if (kind.case === undefined) return true;
  if (type.list) {
    return kind.case === "listValue" && kind.value.values.every((v) => valueFitsType(v, { ...type, list: false }));
  }
  switch (type.scalar) {
    case ScalarType.BOOL:
      return kind.case === "boolValue";
    case ScalarType.INT32:
      return kind.case === "int32Value" || (kind.case === "int64Value" && kind.value >= -(2n ** 31n) && kind.value < 2n ** 31n);
    case ScalarType.INT64:
      return kind.case === "int64Value" || kind.case === "int32Value";
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return kind.case === "floatValue" || kind.case === "doubleValue";
    case ScalarType.STRING:
      return kind.case === "stringValue";
    case ScalarType.BYTES:
      return kind.case === "bytesValue";
    case ScalarType.TIMESTAMP:
      return kind.case === "timestampValue";
    case ScalarType.DATE:
      return kind.case === "dateValue";
    case ScalarType.UNSPECIFIED:
      return false;
  }
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

/** The user-given definition: what get-or-create compares. */
export function definitionOf(fg: FeatureGroup): FeatureGroup {
  const copy = clone(FeatureGroupSchema, fg);
  copy.id = 0n;
  copy.createTime = undefined;
  copy.updateTime = undefined;
  copy.etag = "";
  // Who created a version is not part of its definition: the same group created again by
  // someone else is the same group.
  copy.createdBy = "";
  return copy;
}

export function sameDefinition(a: FeatureGroup, b: FeatureGroup): boolean {
  return equals(FeatureGroupSchema, definitionOf(a), definitionOf(b));
}

/** Fields UpdateFeatureGroup may change on an existing version; anything else needs a new version. */
export const MUTABLE_GROUP_FIELDS = [
  "description",
  "tags",
  "custom_metadata",
  "statistics_config",
  "validation_rules",
  "online_ttl",
  "offline_retention",
  "embedding_indexes",
] as const;

/** Applies the mutable fields of `patch` (those in `paths`) onto a copy of `current`. */
export function patchFeatureGroup(current: FeatureGroup, patch: FeatureGroup, paths: readonly string[]): FeatureGroup {
  const next = clone(FeatureGroupSchema, current);
  for (const path of paths) {
    switch (path) {
      case "description":
        next.description = patch.description;
        break;
      case "tags":
        next.tags = [...patch.tags];
        break;
      case "custom_metadata":
        next.customMetadata = { ...patch.customMetadata };
        break;
      case "statistics_config":
        next.statisticsConfig = patch.statisticsConfig;
        break;
      case "validation_rules":
        next.validationRules = [...patch.validationRules];
        break;
      case "online_ttl":
        next.onlineTtl = patch.onlineTtl;
        break;
      case "offline_retention":
        next.offlineRetention = patch.offlineRetention;
        break;
      case "embedding_indexes":
        next.embeddingIndexes = [...patch.embeddingIndexes];
        break;
    }
  }
  return create(FeatureGroupSchema, next);
}
