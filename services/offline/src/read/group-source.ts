import type { FeatureGroup } from "@granary/proto/metadata";
import type { Column } from "@granary/proto/types";
import type { FilesOf } from "../store/commit-files.js";
import { isInsert, type CommitEntry } from "../store/commit-log.js";
import { duckTypeSql } from "../types/column-types.js";
import { fileList, quoteIdent, timestampMicros, valueLiteral } from "../sql/sql-text.js";

/** The hidden column of every commit file: the commit's sequence number. */
export const SEQUENCE_COLUMN = "_seq";

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
  const select = wanted.map((name) => columnExpr(byName.get(name)!, "r"));
  if (options.withSequence) select.push(`r.${SEQUENCE_COLUMN}`);

  const inserts = commits.filter(isInsert).filter((c) => c.files.length > 0);
  if (inserts.length === 0) {
    const empty = wanted.map((name) => `NULL::${duckTypeSql(byName.get(name)!.type!)} AS ${quoteIdent(name)}`);
    if (options.withSequence) empty.push(`NULL::BIGINT AS ${SEQUENCE_COLUMN}`);
    return `(SELECT ${empty.join(", ")} WHERE false)`;
  }
  const files = (list: readonly CommitEntry[]) => fileList(list.flatMap(filesOf));
  // Every file holds the group's columns as they were when it was written. A group changed after
  // its newest commit may have columns no file holds: typed nulls make them read as null.
  const newest = inserts[inserts.length - 1]!;
  const changedSince = group.updateTime !== undefined && timestampMicros(group.updateTime) >= newest.ingestionMicros;
  const typed = [...group.columns.map((c) => `NULL::${duckTypeSql(c.type!)} AS ${quoteIdent(c.name)}`), `NULL::BIGINT AS ${SEQUENCE_COLUMN}`];
  const scan = `read_parquet(${files(inserts)}, union_by_name = true)`;
  const from = changedSince ? `(SELECT * FROM ${scan} UNION ALL BY NAME SELECT ${typed.join(", ")} WHERE false)` : scan;

  const keys = group.primaryKey;
  const conditions: string[] = [];
  const updating = inserts.filter((c) => c.rowsUpdated > 0n);
  if (updating.length > 0) {
    const same = [...keys, ...(group.eventTime ? [group.eventTime] : [])].map((k) => `u.${quoteIdent(k)} = r.${quoteIdent(k)}`);
    conditions.push(`NOT EXISTS (SELECT 1 FROM read_parquet(${files(updating)}) u WHERE ${same.join(" AND ")} AND u.${SEQUENCE_COLUMN} > r.${SEQUENCE_COLUMN})`);
  }
  const deletes = commits.filter((c) => !isInsert(c) && c.files.length > 0);
  if (deletes.length > 0) {
    const same = keys.map((k) => `d.${quoteIdent(k)} = r.${quoteIdent(k)}`);
    conditions.push(`NOT EXISTS (SELECT 1 FROM read_parquet(${files(deletes)}) d WHERE ${same.join(" AND ")} AND d.${SEQUENCE_COLUMN} > r.${SEQUENCE_COLUMN})`);
  }
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
  return `(SELECT ${select.join(", ")} FROM ${from} r${where})`;
}

/** A column as stored, with its default filled in where rows predate it. */
function columnExpr(column: Column, alias: string): string {
  const ref = `${alias}.${quoteIdent(column.name)}`;
  if (!column.defaultValue?.kind.case) return ref;
  return `COALESCE(${ref}, ${valueLiteral(column.defaultValue, column.type!, `default of ${column.name}`)}) AS ${quoteIdent(column.name)}`;
}

/** The latest row of every primary key (greatest event time, then latest commit). */
export function latestPerKeySql(group: FeatureGroup, source: string, columns: readonly string[]): string {
  const order = [...(group.eventTime ? [`${quoteIdent(group.eventTime)} DESC`] : []), `${SEQUENCE_COLUMN} DESC`];
  return `(SELECT ${columns.map(quoteIdent).join(", ")} FROM ${source} QUALIFY row_number() OVER (PARTITION BY ${group.primaryKey.map(quoteIdent).join(", ")} ORDER BY ${order.join(", ")}) = 1)`;
}
