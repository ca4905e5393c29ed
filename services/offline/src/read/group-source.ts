import type { FeatureGroup } from "@granary/proto/metadata";
import type { Column } from "@granary/proto/types";
import type { FilesOf } from "../store/commit-files.js";
import { isInsert, type CommitEntry } from "../store/commit-log.js";
import { duckTypeSql, fileList, quoteIdent, quoteString, timestampLiteral, valueLiteral } from "../duck/index.js";
import { timestampMicros } from "../timestamps.js";

/** The hidden column of every commit file: the commit's sequence number. */
export const SEQUENCE_COLUMN = "_seq";

/** The file a row was read from (read_parquet's filename column), where a default is filled in. */
export const FILE_COLUMN = "_file";

export interface GroupSourceOptions {
  /** Group columns to return, in this order; all when undefined. */
  readonly columns?: readonly string[];
  /** Also return the commit sequence number as `_seq`. */
  readonly withSequence?: boolean;
}

/**
 * SQL for the rows of a feature group as a set of commits left them: the rows of every insert
 * commit, minus rows replaced by a later commit with the same primary key and event time, minus
 * rows whose key a later delete commit removed. `filesOf` gives the checked paths of the commits. Append-only groups (no commit with updated rows,
 * no delete) read their files as they are.
 */
export function groupSourceSql(filesOf: FilesOf, group: FeatureGroup, commits: readonly CommitEntry[], options: GroupSourceOptions = {}): string {
  const wanted = options.columns ?? group.columns.map((c) => c.name);
  const byName = new Map(group.columns.map((c) => [c.name, c]));
  const inserts = commits.filter(isInsert).filter((c) => c.files.length > 0);
  const files = (list: readonly CommitEntry[]) => fileList(list.flatMap(filesOf));
  const withFile = needsFileColumn(group, wanted);
  const select = inserts.length === 0 ? [] : wanted.map((name) => `${columnSql(byName.get(name)!, "r", files(inserts))} AS ${quoteIdent(name)}`);
  if (options.withSequence) select.push(`r.${SEQUENCE_COLUMN}`);

  if (inserts.length === 0) {
    const empty = wanted.map((name) => `NULL::${duckTypeSql(byName.get(name)!.type!)} AS ${quoteIdent(name)}`);
    if (options.withSequence) empty.push(`NULL::BIGINT AS ${SEQUENCE_COLUMN}`);
    return `(SELECT ${empty.join(", ")} WHERE false)`;
  }
  // Every file holds the group's columns as they were when it was written. A group changed after
  // its newest commit may have columns no file holds: typed nulls make them read as null.
  const newest = inserts[inserts.length - 1]!;
  const changedSince = group.updateTime !== undefined && timestampMicros(group.updateTime) >= newest.ingestionMicros;
  const typed = [
    ...group.columns.map((c) => `NULL::${duckTypeSql(c.type!)} AS ${quoteIdent(c.name)}`),
    `NULL::BIGINT AS ${SEQUENCE_COLUMN}`,
    ...(withFile ? [`NULL::VARCHAR AS ${FILE_COLUMN}`] : []),
  ];
  const scan = `read_parquet(${files(inserts)}, union_by_name = true, hive_partitioning = false${withFile ? `, filename = '${FILE_COLUMN}'` : ""})`;
  const from = changedSince ? `(SELECT * FROM ${scan} UNION ALL BY NAME SELECT ${typed.join(", ")} WHERE false)` : scan;

  const keys = group.primaryKey;
  const conditions: string[] = [];
  // Read as of a commit a compaction covers: only the rows (and tombstones) of commits up to it.
  const bound = commits.find((c) => c.readBound !== undefined)?.readBound;
  const upToBound = (alias: string) => (bound === undefined ? "" : ` AND ${alias}.${SEQUENCE_COLUMN} <= ${bound}`);
  if (bound !== undefined) conditions.push(`r.${SEQUENCE_COLUMN} <= ${bound}`);
  const updating = inserts.filter((c) => c.rowsUpdated > 0n);
  if (updating.length > 0) {
    const same = [...keys, ...(group.eventTime ? [group.eventTime] : [])].map((k) => `u.${quoteIdent(k)} = r.${quoteIdent(k)}`);
    conditions.push(
      `NOT EXISTS (SELECT 1 FROM read_parquet(${files(updating)}, hive_partitioning = false) u WHERE ${same.join(" AND ")} AND u.${SEQUENCE_COLUMN} > r.${SEQUENCE_COLUMN}${upToBound("u")})`,
    );
  }
  const deletes = commits.filter((c) => !isInsert(c) && c.files.length > 0);
  if (deletes.length > 0) {
    const same = keys.map((k) => `d.${quoteIdent(k)} = r.${quoteIdent(k)}`);
    conditions.push(
      `NOT EXISTS (SELECT 1 FROM read_parquet(${files(deletes)}, hive_partitioning = false) d WHERE ${same.join(" AND ")} AND d.${SEQUENCE_COLUMN} > r.${SEQUENCE_COLUMN}${upToBound("d")})`,
    );
  }
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
  return `(SELECT ${select.join(", ")} FROM ${from} r${where})`;
}

function hasDefault(column: Column): boolean {
  return column.defaultValue?.kind.case !== undefined;
}

/**
 * A column as stored, with its default filled in for rows of files written before the column
 * existed (AppendFeatures). A null written after the append stays null: whether a row predates
 * the column is a property of its file (its Parquet schema), not of its value. `files` is the SQL
 * list of every file the rows come from; the row's file is in `alias.${FILE_COLUMN}`.
 */
export function columnSql(column: Column, alias: string, files: string): string {
  const ref = `${alias}.${quoteIdent(column.name)}`;
  if (!hasDefault(column)) return ref;
  const fallback = valueLiteral(column.defaultValue, column.type!, `default of ${column.name}`);
  return `CASE WHEN ${alias}.${FILE_COLUMN} IN (${filesWithColumnSql(files, column.name)}) THEN ${ref} ELSE ${fallback} END`;
}

/** The files (of the SQL list `files`) whose schema has a top-level column `name`; files without rows have no row group and are left out, harmlessly. */
function filesWithColumnSql(files: string, name: string): string {
  return `SELECT file_name FROM parquet_metadata(${files}) WHERE split_part(path_in_schema, ', ', 1) = ${quoteString(name)}`;
}

/** True when reading `columns` of the group fills in a default, so the scan must name each row's file. */
export function needsFileColumn(group: FeatureGroup, columns: readonly string[]): boolean {
  return group.columns.some((c) => columns.includes(c.name) && hasDefault(c));
}

/**
 * The latest row of every primary key (greatest event time, then latest commit). With `asOfMicros`,
 * among the rows with event time ≤ it: offline as of t includes rows with event time ≤ t, so a row
 * dated ahead of t (allowed up to GRANARY_MAX_FUTURE_EVENT_TIME_S at write) waits for its time.
 */
export function latestPerKeySql(group: FeatureGroup, source: string, columns: readonly string[], asOfMicros?: bigint): string {
  const order = [...(group.eventTime ? [`${quoteIdent(group.eventTime)} DESC`] : []), `${SEQUENCE_COLUMN} DESC`];
  const where = group.eventTime && asOfMicros !== undefined ? ` WHERE ${quoteIdent(group.eventTime)}::TIMESTAMP <= ${timestampLiteral(asOfMicros)}` : "";
  return `(SELECT ${columns.map(quoteIdent).join(", ")} FROM ${source}${where} QUALIFY row_number() OVER (PARTITION BY ${group.primaryKey.map(quoteIdent).join(", ")} ORDER BY ${order.join(", ")}) = 1)`;
}
