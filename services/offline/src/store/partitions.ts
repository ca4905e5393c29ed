import { FilterOperator, type FeatureGroup, type Filter } from "@granary/proto/metadata";
import { ScalarType, type Value } from "@granary/proto/types";
import type { FilesOf } from "./commit-files.js";
import { isInsert, type CommitEntry } from "./commit-log.js";
import { isSchemaFile, partitionTextsOfFile } from "./partition-paths.js";

export { writeGroupFiles, MAX_PARTITIONS_PER_COMMIT, type SqlRunner, type WriteGroupFilesOptions } from "./partitioned-copy.js";
export { SCHEMA_FILE, isSchemaFile } from "./partition-paths.js";

/**
 * A partition value as compared: integers and dates (days since the epoch) as bigint, strings
 * (compared by their UTF-8 bytes, as DuckDB compares VARCHAR), booleans; null for null.
 */
export type PartitionValue = bigint | string | boolean | null;

/** The partition values of one file, by column. */
export type PartitionValues = ReadonlyMap<string, PartitionValue>;

/** False when no row with these partition values can match; true when one may. */
export type PartitionPredicate = (values: PartitionValues) => boolean;

const DAY_MICROS = 86_400_000_000n;

/** A partition column's value from its text (DuckDB's VARCHAR cast); undefined when it cannot be read (then nothing is pruned). */
export function partitionValueOf(scalar: ScalarType, text: string | null): PartitionValue | undefined {
  if (text === null) return null;
  switch (scalar) {
    case ScalarType.STRING:
      return text;
    case ScalarType.INT32:
    case ScalarType.INT64:
      return /^-?\d+$/.test(text) ? BigInt(text) : undefined;
    case ScalarType.BOOL:
      return text === "true" ? true : text === "false" ? false : undefined;
    case ScalarType.DATE:
      return dateDays(text);
    default:
      return undefined;
  }
}

/** Days since 1970-01-01 of `YYYY-MM-DD` (years 0000–9999; DuckDB's BC and infinite dates are left unread). */
function dateDays(text: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const at = new Date(0);
  at.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (at.getUTCFullYear() !== Number(m[1]) || at.getUTCMonth() !== Number(m[2]) - 1 || at.getUTCDate() !== Number(m[3])) return undefined;
  return BigInt(Math.round(at.getTime() / 86_400_000));
}

/**
 * The typed partition values of a commit file, from its path (see partitionTextsOfFile), or
 * undefined when the path carries none this service can read: such a file is always read.
 */
export function partitionValuesOf(group: FeatureGroup, file: string): PartitionValues | undefined {
  const texts = partitionTextsOfFile(group.partitionKey, file);
  if (!texts) return undefined;
  const values = new Map<string, PartitionValue>();
  for (let i = 0; i < texts.length; i++) {
    const name = group.partitionKey[i]!;
    const type = group.columns.find((c) => c.name === name)?.type;
    if (!type || type.list) return undefined;
    const value = partitionValueOf(type.scalar, texts[i]!);
    if (value === undefined) return undefined;
    values.set(name, value);
  }
  return values;
}

/** Whether the file at `file` can hold rows `predicate` accepts: true unless its path proves it cannot. */
export function fileMayMatch(group: FeatureGroup, file: string, predicate: PartitionPredicate): boolean {
  const values = partitionValuesOf(group, file);
  return values === undefined || predicate(values);
}

/**
 * Whether a commit's files may be left out of a read by their partition values: only the files of
 * an insert that replaced no row. Tombstones and the files of commits that replaced rows are the
 * sources of the read's anti-joins (a replaced row's successor may sit in another partition:
 * leaving it out would bring the old row back). A compaction's rows part counts as one insert: its
 * `rowsUpdated` is the number of its rows a later row of the same part replaces (rows kept for
 * time travel), so with none it holds no successor and prunes like an append-only insert.
 */
export function prunable(commit: CommitEntry): boolean {
  return isInsert(commit) && commit.rowsUpdated === 0n;
}

/** `filesOf` without the files of prunable commits whose partition values `predicate` refuses. */
export function prunedFilesOf(filesOf: FilesOf, group: FeatureGroup, predicate: PartitionPredicate): FilesOf {
  if (group.partitionKey.length === 0) return filesOf;
  const kept = new WeakMap<CommitEntry, readonly string[]>();
  return (commit) => {
    const files = filesOf(commit);
    if (!prunable(commit)) return files;
    let out = kept.get(commit);
    if (!out) kept.set(commit, (out = files.filter((f) => fileMayMatch(group, f, predicate))));
    return out;
  };
}

export interface PrunedRead {
  /** The commits to read: those given, minus prunable inserts left with no data file. */
  readonly commits: readonly CommitEntry[];
  readonly filesOf: FilesOf;
  /** Data files (schema files not counted) of the insert commits before pruning, and those left to scan. */
  readonly insertFiles: number;
  readonly scannedFiles: number;
}

/**
 * A read of `commits` through prunedFilesOf. A prunable commit left with no data file (only its
 * schema file, which has no rows) is dropped from the list; that is safe because prunable commits
 * are never anti-join sources, and it keeps SQL from scanning an empty list of files.
 */
export function pruneRead(commits: readonly CommitEntry[], filesOf: FilesOf, group: FeatureGroup, predicate: PartitionPredicate | undefined): PrunedRead {
  const dataFiles = (files: readonly string[]) => files.filter((f) => !isSchemaFile(f)).length;
  const insertFiles = commits.filter(isInsert).reduce((n, c) => n + dataFiles(filesOf(c)), 0);
  if (!predicate || group.partitionKey.length === 0) return { commits, filesOf, insertFiles, scannedFiles: insertFiles };
  const pruned = prunedFilesOf(filesOf, group, predicate);
  const kept = commits.filter((c) => !prunable(c) || dataFiles(pruned(c)) > 0);
  const scannedFiles = kept.filter(isInsert).reduce((n, c) => n + dataFiles(pruned(c)), 0);
  return { commits: kept, filesOf: pruned, insertFiles, scannedFiles };
}

/**
 * The partition predicate of a Read filter, or undefined when the filter names no partition
 * column. Every condition on a partition column is judged on the file's value (equality, IN,
 * ranges, IS [NOT] NULL), combined through AND and OR; a condition on any other column, or one
 * whose value cannot be compared, may match. A comparison with a null matches no row, as in SQL.
 */
export function filterPredicate(group: FeatureGroup, filter: Filter | undefined): PartitionPredicate | undefined {
  if (!filter || group.partitionKey.length === 0 || !namesPartitionColumn(filter, group.partitionKey)) return undefined;
  const types = new Map(group.columns.map((c) => [c.name, c.type]));
  return (values) => mayMatch(filter, values, (name) => types.get(name)?.scalar);
}

function namesPartitionColumn(filter: Filter, partitionKey: readonly string[]): boolean {
  const kind = filter.kind;
  if (kind.case === "and" || kind.case === "or") return kind.value.filters.some((f) => namesPartitionColumn(f, partitionKey));
  return kind.case === "condition" && partitionKey.includes(kind.value.column);
}

function mayMatch(filter: Filter, values: PartitionValues, scalarOf: (name: string) => ScalarType | undefined): boolean {
  const kind = filter.kind;
  switch (kind.case) {
    case "and":
      return kind.value.filters.every((f) => mayMatch(f, values, scalarOf));
    case "or":
      return kind.value.filters.length === 0 || kind.value.filters.some((f) => mayMatch(f, values, scalarOf));
    case "condition": {
      const c = kind.value;
      if (!values.has(c.column)) return true;
      const v = values.get(c.column)!;
      const scalar = scalarOf(c.column);
      switch (c.operator) {
        case FilterOperator.IS_NULL:
          return v === null;
        case FilterOperator.IS_NOT_NULL:
          return v !== null;
        case FilterOperator.IN:
          return v !== null && c.values.some((x) => compareWith(v, x, scalar, (d) => d === 0));
        case FilterOperator.EQ:
          return v !== null && compareWith(v, c.value, scalar, (d) => d === 0);
        case FilterOperator.NE:
          return v !== null && compareWith(v, c.value, scalar, (d) => d !== 0);
        case FilterOperator.LT:
          return v !== null && compareWith(v, c.value, scalar, (d) => d < 0);
        case FilterOperator.LE:
          return v !== null && compareWith(v, c.value, scalar, (d) => d <= 0);
        case FilterOperator.GT:
          return v !== null && compareWith(v, c.value, scalar, (d) => d > 0);
        case FilterOperator.GE:
          return v !== null && compareWith(v, c.value, scalar, (d) => d >= 0);
        default:
          return true;
      }
    }
    default:
      return true;
  }
}

/** `test(compare(v, literal))`; true (may match) when the literal cannot be compared with the column's values, false for a null literal. */
function compareWith(v: Exclude<PartitionValue, null>, literal: Value | undefined, scalar: ScalarType | undefined, test: (d: number) => boolean): boolean {
  if (!literal || literal.kind.case === undefined) return false;
  const x = literalOf(literal, scalar);
  if (x === undefined || typeof x !== typeof v) return true;
  return test(compare(v, x));
}

function literalOf(value: Value, scalar: ScalarType | undefined): Exclude<PartitionValue, null> | undefined {
  const kind = value.kind;
  switch (scalar) {
    case ScalarType.STRING:
      return kind.case === "stringValue" ? kind.value : undefined;
    case ScalarType.INT32:
    case ScalarType.INT64:
      return kind.case === "int32Value" || kind.case === "int64Value" ? BigInt(kind.value) : undefined;
    case ScalarType.BOOL:
      return kind.case === "boolValue" ? kind.value : undefined;
    case ScalarType.DATE:
      return kind.case === "dateValue" ? BigInt(kind.value) : undefined;
    default:
      return undefined;
  }
}

function compare(a: Exclude<PartitionValue, null>, b: Exclude<PartitionValue, null>): number {
  if (typeof a === "string") return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b as string, "utf8"));
  if (typeof a === "boolean") return Number(a) - Number(b as boolean);
  return a < (b as bigint) ? -1 : a > (b as bigint) ? 1 : 0;
}

/**
 * The rows a time-range spine takes from its root group: event time in [start, end). Drops the
 * group's prunable insert commits whose recorded event-time range lies outside (their every row
 * would fail the range), and, when the group is partitioned by its DATE event-time column, the
 * files of other days. Commits without a recorded range are kept.
 */
export function pruneEventTimeRange(
  group: FeatureGroup,
  commits: readonly CommitEntry[],
  filesOf: FilesOf,
  startMicros: bigint | undefined,
  endMicros: bigint | undefined,
): { commits: readonly CommitEntry[]; filesOf: FilesOf } {
  if (!group.eventTime || (startMicros === undefined && endMicros === undefined)) return { commits, filesOf };
  const inRange = (micros: bigint) => (startMicros === undefined || micros >= startMicros) && (endMicros === undefined || micros < endMicros);
  const outside = (c: CommitEntry) =>
    c.minEventMicros !== undefined &&
    c.maxEventMicros !== undefined &&
    ((endMicros !== undefined && c.minEventMicros >= endMicros) || (startMicros !== undefined && c.maxEventMicros < startMicros));
  const kept = commits.filter((c) => !prunable(c) || !outside(c));
  const et = group.columns.find((c) => c.name === group.eventTime)?.type;
  if (!group.partitionKey.includes(group.eventTime) || !et || et.list || et.scalar !== ScalarType.DATE) return { commits: kept, filesOf };
  const byDay: PartitionPredicate = (values) => {
    const day = values.get(group.eventTime);
    return typeof day !== "bigint" || inRange(day * DAY_MICROS);
  };
  return pruneRead(kept, filesOf, group, byDay);
}

/**
 * The hook of a point-in-time query whose spine is a time range of its root group: that group's
 * commits and files pruned by pruneEventTimeRange. Only the root is pruned, and only when it is
 * read once (the spine): a group joined again elsewhere in the view needs its other rows.
 */
export function pruneSpineRange(
  groups: readonly FeatureGroup[],
  commitsOf: (group: FeatureGroup) => readonly CommitEntry[],
  filesOf: FilesOf,
  spine: { readonly kind: string; readonly startMicros?: bigint | undefined; readonly endMicros?: bigint | undefined },
): { commitsOf: (group: FeatureGroup) => readonly CommitEntry[]; filesOf: FilesOf } {
  const root = groups[0];
  if (spine.kind !== "range" || !root) return { commitsOf, filesOf };
  const same = (g: FeatureGroup) => g.name === root.name && g.version === root.version;
  if (groups.filter(same).length !== 1) return { commitsOf, filesOf };
  const all = commitsOf(root);
  const pruned = pruneEventTimeRange(root, all, filesOf, spine.startMicros, spine.endMicros);
  if (pruned.commits === all && pruned.filesOf === filesOf) return { commitsOf, filesOf };
  const rootCommits = new Set(all);
  return {
    commitsOf: (g) => (same(g) ? pruned.commits : commitsOf(g)),
    filesOf: (c) => (rootCommits.has(c) ? pruned.filesOf(c) : filesOf(c)),
  };
}
