import { InvalidArgumentError, OutOfRangeError } from "@granary/errors";
import type { FeatureGroup, Filter } from "@granary/proto/metadata";
import type { TimeRange } from "@granary/proto/types";
import { filterSql, fileList, quoteIdent, duckTypeSql } from "../duck/index.js";
import { timestampMicros } from "../timestamps.js";
import type { FilesOf } from "../store/commit-files.js";
import { cutCommits, isInsert, upTo, type CommitEntry } from "../store/commit-log.js";
import { columnSql, FILE_COLUMN, groupSourceSql, needsFileColumn, SEQUENCE_COLUMN } from "./group-source.js";

export type AsOf = { kind: "now" } | { kind: "commit"; id: bigint } | { kind: "time"; micros: bigint };

/** The commits a read "as of" sees: exactly those made by then (`commits`: CommitLog.commits). */
export function commitsAsOf(commits: readonly CommitEntry[], asOf: AsOf, what: () => string = () => "the read"): readonly CommitEntry[] {
  switch (asOf.kind) {
    case "now":
      return commits;
    case "commit":
      return upTo(commits, asOf.id, what);
    case "time":
      return cutCommits(commits, (c) => c.ingestionMicros <= asOf.micros, what);
  }
}

/** Requested columns, checked against the group; empty means all, in group order. */
export function checkColumns(group: FeatureGroup, columns: readonly string[], field = "columns"): string[] {
  if (columns.length === 0) return group.columns.map((c) => c.name);
  const known = new Set(group.columns.map((c) => c.name));
  const unknown = columns.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `${field}: ${unknown.map((u) => `"${u}"`).join(", ")} ${unknown.length === 1 ? "is not a column" : "are not columns"} of feature group "${group.name}" version ${group.version}`,
      { field },
    );
  }
  if (new Set(columns).size !== columns.length) throw new InvalidArgumentError(`${field}: a column is listed twice`, { field });
  return [...columns];
}

/** SQL of Read: the group's rows as the chosen commits left them, filtered, limited. */
export function readSql(
  filesOf: FilesOf,
  group: FeatureGroup,
  commits: readonly CommitEntry[],
  columns: readonly string[],
  filter: Filter | undefined,
  limit: bigint,
): string {
  const types = new Map(group.columns.map((c) => [c.name, c.type!]));
  const where = filter
    ? ` WHERE ${filterSql(filter, (name) => (types.has(name) ? { expr: quoteIdent(name), type: types.get(name)! } : undefined), "filter")}`
    : "";
  const source = groupSourceSql(filesOf, group, commits);
  const lim = limit > 0n ? ` LIMIT ${limit}` : "";
  return `SELECT ${columns.map(quoteIdent).join(", ")} FROM ${source} t${where}${lim}`;
}

/**
 * SQL of ReadChanges: the rows of every commit ingested in [start, end), with the commit's id and
 * whether the row is a deletion (tombstones carry only the key), ordered by commit.
 */
export function changesSql(filesOf: FilesOf, group: FeatureGroup, commits: readonly CommitEntry[], window: TimeRange, columns: readonly string[]): string {
  const start = window.start ? timestampMicros(window.start) : undefined;
  const end = window.end ? timestampMicros(window.end) : undefined;
  const within = (c: CommitEntry) => (start === undefined || c.ingestionMicros >= start) && (end === undefined || c.ingestionMicros < end);
  const inWindow = commits.filter((c) => !c.part && within(c) && c.files.length > 0);
  // Commits a compaction covers are read from its parts, by their sequence numbers.
  const compacted = commits.find((c) => c.part)?.part;
  const covered = compacted ? compacted.covered.filter(within) : [];
  const retained = compacted?.compaction.compaction!.retainedFromMicros;
  const expired = retained === undefined ? undefined : covered.find((c) => c.ingestionMicros < retained);
  if (expired) {
    throw new OutOfRangeError(
      `window: commit ${expired.id} of feature group "${group.name}" version ${group.version} was ingested before ${new Date(Number(retained! / 1000n)).toISOString()}, where its history is kept from (offline_retention): start the window at or after it`,
    );
  }
  const parts = covered.length > 0 ? commits.filter((c) => c.part) : [];
  const byName = new Map(group.columns.map((c) => [c.name, c]));
  const withFile = needsFileColumn(group, columns);
  const typed = columns.map((c) => `NULL::${duckTypeSql(byName.get(c)!.type!)} AS ${quoteIdent(c)}`);
  const empty = `SELECT ${[...typed, "NULL::BIGINT AS _commit_id", "NULL::BOOLEAN AS _deleted", ...(withFile ? [`NULL::VARCHAR AS ${FILE_COLUMN}`] : [])].join(", ")} WHERE false`;
  if (inWindow.length === 0 && parts.length === 0) return `SELECT ${[...columns.map(quoteIdent), "_commit_id", "_deleted"].join(", ")} FROM (${empty})`;
  const scan = (files: string) => `read_parquet(${files}, union_by_name = true, hive_partitioning = false${withFile ? `, filename = '${FILE_COLUMN}'` : ""})`;
  const selects = inWindow.map(
    (c) =>
      `SELECT * EXCLUDE (${SEQUENCE_COLUMN}), ${c.id}::BIGINT AS _commit_id, ${isInsert(c) ? "false" : "true"} AS _deleted FROM ${scan(fileList(filesOf(c)))}`,
  );
  if (parts.length > 0) {
    const ids = `(VALUES ${covered.map((c) => `(${c.sequence}::BIGINT, ${c.id}::BIGINT)`).join(", ")}) m(seq, id)`;
    for (const p of parts) {
      selects.push(
        `SELECT p.* EXCLUDE (${SEQUENCE_COLUMN}), m.id AS _commit_id, ${isInsert(p) ? "false" : "true"} AS _deleted FROM ${scan(fileList(filesOf(p)))} p JOIN ${ids} ON m.seq = p.${SEQUENCE_COLUMN}`,
      );
    }
  }
  const union = [empty, ...selects].join(" UNION ALL BY NAME ");
  // Rows of inserts written before a column was appended read its default, as Read does;
  // tombstones carry only the key, so their other columns stay null.
  const inserted = [...inWindow, ...parts].filter(isInsert).flatMap(filesOf);
  const select = columns.map((name) => {
    const value = inserted.length === 0 ? `t.${quoteIdent(name)}` : columnSql(byName.get(name)!, "t", fileList(inserted));
    return value === `t.${quoteIdent(name)}` ? value : `CASE WHEN t._deleted THEN NULL ELSE ${value} END AS ${quoteIdent(name)}`;
  });
  return `SELECT ${[...select, "t._commit_id", "t._deleted"].join(", ")} FROM (${union}) t ORDER BY t._commit_id`;
}
