import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  CommitKind,
  CommitSchema,
  CompactionStatsSchema,
  OnlineSyncState,
  type Commit,
  type CompactionStats,
  type FeatureGroup,
} from "@granary/proto/metadata";
import type { DuckConnection, DuckEngine } from "../duck/index.js";
import { fileList, quoteIdent, quoteString } from "../duck/index.js";
import { columnSql, FILE_COLUMN, needsFileColumn, SEQUENCE_COLUMN } from "../read/group-source.js";
import type { FilesOf } from "../store/commit-files.js";
import { groupKey, isInsert, type CommitEntry, type CommitLog } from "../store/commit-log.js";
import type { CommitLayout } from "../store/commit-layout.js";
import { groupPath, sequenceName } from "../store/commit-paths.js";
import { writeGroupFiles } from "../store/partitions.js";
import { durationMicros, timestampFromMicros } from "../timestamps.js";
import type { CommitWriterDeps } from "../write/commit-writer.js";

export interface CompactionDeps extends CommitWriterDeps {
  readonly engine: DuckEngine;
  /** Size of the row files a compaction writes. */
  readonly fileBytes: number;
}

/** What one compaction did (its COMPACTION commit, or nothing when there was nothing to compact). */
export interface CompactionResult {
  readonly commit: Commit | undefined;
  readonly stats: CompactionStats;
  readonly seconds: number;
  /** The directories it replaced: delete them once no read needs them (removeReplaced). */
  readonly replaced: readonly string[];
}

/** The file a compaction writes its tombstones to, beside its row files. */
export const TOMBSTONE_FILE = "tombstones.parquet";

/**
 * Compacts a feature group version: the files of the newest compaction and of every later commit,
 * up to the last commit before the first one still PENDING online (a push reads its commit's own
 * files), are rewritten as row files of about `fileBytes` and one tombstone file, recorded as a
 * COMPACTION commit. Every row keeps its commit's sequence number, so reads as of any kept commit
 * see exactly what they saw before (see readableCommits). On the way out go:
 *
 * - rows of keys a delete with `erase` removed (all their versions before it), and the tombstones
 *   of those deletes: the keys' bytes leave every file;
 * - with the group's offline_retention, rows replaced (same key and event time) or deleted by a
 *   commit ingested longer ago than the retention, and tombstones that old: no read the retention
 *   allows can see them. Reads as of a commit older than that are refused from then on.
 *
 * The commit is written with the insert protocol (staged directory, fsync, rename, recorded in
 * sequence order), so a crash leaves either the old files or the new commit. The replaced
 * directories are returned, not deleted: reads that started before may still scan them.
 */
export async function compactGroup(deps: CompactionDeps, project: string, group: FeatureGroup, signal?: AbortSignal): Promise<CompactionResult> {
  const started = performance.now();
  const id = { project, name: group.name, version: group.version };
  const readable = deps.commits.commits(project, group.name, group.version);
  const parts = readable.filter((c) => c.part);
  const previous = parts[0]?.part;
  const fresh: CommitEntry[] = [];
  for (const c of readable) {
    if (c.part) continue;
    if (c.onlineSyncState === OnlineSyncState.PENDING) break;
    fresh.push(c);
  }
  const empty = create(CompactionStatsSchema, {});
  if (fresh.length === 0) return { commit: undefined, stats: empty, seconds: (performance.now() - started) / 1000, replaced: [] };
  const through = fresh[fresh.length - 1]!.id;
  const inputs = [...parts, ...fresh];
  const covered = [...(previous?.covered ?? []), ...fresh];
  const filesOf = await deps.layout.files.filesOf(id, inputs, deps.logger);

  // Retention: rows replaced or deleted by a commit ingested before the horizon go.
  const retention = group.offlineRetention ? durationMicros(group.offlineRetention) : undefined;
  const horizon = retention === undefined ? undefined : BigInt(Date.now()) * 1000n - retention;
  let expiry: bigint | undefined;
  if (horizon !== undefined) for (const c of covered) if (c.ingestionMicros < horizon) expiry = c.sequence;
  const previousRetained = previous?.compaction.compaction!.retainedFromMicros;
  const retainedFrom = horizon === undefined ? previousRetained : previousRetained !== undefined && previousRetained > horizon ? previousRetained : horizon;
  const erasing = fresh.filter((c) => c.erase && !isInsert(c) && c.files.length > 0);

  const key = groupKey(project, group.name, group.version);
  const ticket = deps.sequencer.take(key, deps.commits.maxSequence(project, group.name, group.version));
  const staged = await deps.layout.stage(project, group.name, group.version, ticket.sequence);
  let recording = false;
  try {
    const written = await deps.engine.withConnection(
      (connection) => writeCompaction(connection, group, inputs, filesOf, { dir: staged.tmpDir, fileBytes: deps.fileBytes, expiry, erasing }, signal),
      signal,
    );
    const logSequence = await highestLogSequence(deps.layout, project, group, inputs);
    if (logSequence !== undefined) await deps.layout.writeLogSequence(staged, logSequence);
    await deps.layout.publish(staged);
    await deps.sequencer.turn(ticket);
    const rel = `${groupPath(project, group.name, group.version)}/${sequenceName(ticket.sequence)}`;
    const bytesBefore = await sizeOf(inputs.flatMap(filesOf));
    const stats = create(CompactionStatsSchema, {
      filesBefore: BigInt(inputs.reduce((n, c) => n + c.files.length, 0)),
      filesAfter: BigInt(written.rowFiles.length + (written.tombstones > 0n ? 1 : 0)),
      rowsBefore: written.rowsBefore,
      rowsAfter: written.rowsAfter,
      bytesBefore,
      bytesAfter: await sizeOf([...written.rowFiles, ...(written.tombstones > 0n ? [TOMBSTONE_FILE] : [])].map((f) => join(staged.finalDir, f))),
      rowsErased: written.rowsErased,
      rowsExpired: written.rowsBefore - written.rowsAfter - written.rowsErased,
      erasedCommits: erasing.map((c) => c.id),
    });
    const events = inputs.filter(isInsert);
    const min = minOf(events.map((c) => c.minEventMicros));
    const max = maxOf(events.map((c) => c.maxEventMicros));
    recording = true;
    const commit = await deps.metadata.createCommit(
      create(CommitSchema, {
        project,
        featureGroup: { name: group.name, version: group.version },
        kind: CommitKind.COMPACTION,
        rowsInserted: written.rowsAfter,
        rowsUpdated: written.superseded,
        files: written.rowFiles.map((f) => `${rel}/${f}`),
        tombstoneFiles: written.tombstones > 0n ? [`${rel}/${TOMBSTONE_FILE}`] : [],
        compactedThrough: through,
        retainedFrom: retainedFrom === undefined ? undefined : timestampFromMicros(retainedFrom),
        minEventTime: min === undefined ? undefined : timestampFromMicros(min),
        maxEventTime: max === undefined ? undefined : timestampFromMicros(max),
        onlineSyncState: OnlineSyncState.NOT_APPLICABLE,
        compaction: stats,
      }),
    );
    deps.commits.apply(commit);
    const replaced = replacedDirs(deps.commits).filter((d) => d.startsWith(`${groupPath(project, group.name, group.version)}/`));
    deps.logger.info(
      {
        project,
        group: group.name,
        version: group.version,
        commit: commit.id.toString(),
        through: through.toString(),
        files: `${stats.filesBefore} → ${stats.filesAfter}`,
        rows: `${stats.rowsBefore} → ${stats.rowsAfter}`,
        erased: stats.rowsErased.toString(),
        expired: stats.rowsExpired.toString(),
      },
      "compacted a feature group",
    );
    return { commit, stats, seconds: (performance.now() - started) / 1000, replaced };
  } catch (err) {
    if (!recording) await deps.layout.discard(staged);
    throw err;
  } finally {
    deps.sequencer.release(ticket);
  }
}

interface WriteOptions {
  readonly dir: string;
  readonly fileBytes: number;
  /** Rows replaced or deleted by a commit with a sequence number up to this go (retention). */
  readonly expiry: bigint | undefined;
  /** Deletes with erase among the inputs: their keys' earlier rows go, and their tombstones. */
  readonly erasing: readonly CommitEntry[];
}

interface Written {
  readonly rowFiles: readonly string[];
  readonly rowsBefore: bigint;
  readonly rowsAfter: bigint;
  readonly rowsErased: bigint;
  readonly tombstones: bigint;
  /** Rows whose (key, event time) a later row of the output holds: reads must keep resolving them. */
  readonly superseded: bigint;
}

async function writeCompaction(
  connection: DuckConnection,
  group: FeatureGroup,
  inputs: readonly CommitEntry[],
  filesOf: FilesOf,
  o: WriteOptions,
  signal: AbortSignal | undefined,
): Promise<Written> {
  const columns = group.columns.map((c) => c.name);
  const inserts = inputs.filter(isInsert).filter((c) => c.files.length > 0);
  const deletes = inputs.filter((c) => !isInsert(c) && c.files.length > 0);
  const insertFiles = fileList(inserts.flatMap(filesOf));
  const keys = group.primaryKey.map(quoteIdent);
  const same = (a: string, b: string, cols: readonly string[]) => cols.map((k) => `${a}.${k} = ${b}.${k}`).join(" AND ");
  const withFile = needsFileColumn(group, columns);
  // Every row with its values as reads see them (defaults of appended columns filled in), and its sequence number.
  const values = group.columns.map((c) => `${columnSql(c, "r", insertFiles)} AS ${quoteIdent(c.name)}`);
  const rows = `(SELECT ${values.join(", ")}, r.${SEQUENCE_COLUMN} FROM read_parquet(${insertFiles}, union_by_name = true, hive_partitioning = false${withFile ? `, filename = '${FILE_COLUMN}'` : ""}) r)`;
  const tombstones = deletes.length > 0 ? `read_parquet(${fileList(deletes.flatMap(filesOf))}, union_by_name = true, hive_partitioning = false)` : undefined;
  const erased = o.erasing.length > 0 ? `read_parquet(${fileList(o.erasing.flatMap(filesOf))}, hive_partitioning = false)` : undefined;

  const gone: string[] = [];
  if (erased) gone.push(`EXISTS (SELECT 1 FROM ${erased} e WHERE ${same("e", "r", keys)} AND e.${SEQUENCE_COLUMN} > r.${SEQUENCE_COLUMN})`);
  if (o.expiry !== undefined) {
    const sameRow = [...keys, ...(group.eventTime ? [quoteIdent(group.eventTime)] : [])];
    const updating = inserts.filter((c) => c.rowsUpdated > 0n);
    if (updating.length > 0) {
      gone.push(
        `EXISTS (SELECT 1 FROM read_parquet(${fileList(updating.flatMap(filesOf))}, union_by_name = true, hive_partitioning = false) u WHERE ${same("u", "r", sameRow)} AND u.${SEQUENCE_COLUMN} > r.${SEQUENCE_COLUMN} AND u.${SEQUENCE_COLUMN} <= ${o.expiry})`,
      );
    }
    if (tombstones) {
      gone.push(
        `EXISTS (SELECT 1 FROM ${tombstones} d WHERE ${same("d", "r", keys)} AND d.${SEQUENCE_COLUMN} > r.${SEQUENCE_COLUMN} AND d.${SEQUENCE_COLUMN} <= ${o.expiry})`,
      );
    }
  }
  const kept = `SELECT ${columns.map(quoteIdent).join(", ")}, ${SEQUENCE_COLUMN} FROM ${rows} r${gone.length > 0 ? ` WHERE NOT (${gone.join(" OR ")})` : ""}`;
  const [before] = await connection.rows(`SELECT count(*) AS n FROM read_parquet(${insertFiles}, hive_partitioning = false)`, signal);
  const rowsBefore = BigInt(before!.n as bigint);
  let rowsErased = 0n;
  if (erased) {
    const [n] = await connection.rows(
      `SELECT count(*) AS n FROM ${rows} r WHERE EXISTS (SELECT 1 FROM ${erased} e WHERE ${same("e", "r", keys)} AND e.${SEQUENCE_COLUMN} > r.${SEQUENCE_COLUMN})`,
      signal,
    );
    rowsErased = BigInt(n!.n as bigint);
  }
  let rowFiles: string[];
  if (group.partitionKey.length > 0) {
    // Partitioned groups keep their Hive layout (one file per partition), so reads still prune.
    rowFiles = await writeGroupFiles(connection, group, kept, o.dir, { signal });
  } else {
    await connection.run(
      `COPY (${kept}) TO ${quoteString(o.dir)} (FORMAT parquet, FILE_SIZE_BYTES ${o.fileBytes}, FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)`,
      signal,
    );
    rowFiles = (await readdir(o.dir)).filter((f) => /^part-\d+\.parquet$/.test(f)).sort((a, b) => Number(a.slice(5, -8)) - Number(b.slice(5, -8)));
  }
  if (rowFiles.length === 0) {
    // Nothing left (everything erased): one empty file keeps the group's schema.
    await connection.run(`COPY (${kept} LIMIT 0) TO ${quoteString(join(o.dir, "part-0.parquet"))} (FORMAT parquet)`, signal);
    rowFiles = ["part-0.parquet"];
  }
  const written = fileList(rowFiles.map((f) => join(o.dir, f)));
  const [after] = await connection.rows(`SELECT count(*) AS n FROM read_parquet(${written}, hive_partitioning = false)`, signal);
  const rowsAfter = BigInt(after!.n as bigint);
  let superseded = 0n;
  if (inserts.some((c) => c.rowsUpdated > 0n)) {
    const sameRow = [...keys, ...(group.eventTime ? [quoteIdent(group.eventTime)] : [])].join(", ");
    const [dup] = await connection.rows(`SELECT count(*) - count(DISTINCT (${sameRow})) AS n FROM read_parquet(${written}, hive_partitioning = false)`, signal);
    superseded = BigInt(dup!.n as bigint);
  }
  let tombstoneRows = 0n;
  if (tombstones) {
    const drop: string[] = [];
    if (o.erasing.length > 0) drop.push(`${SEQUENCE_COLUMN} IN (${o.erasing.map((c) => c.sequence.toString()).join(", ")})`);
    if (o.expiry !== undefined) drop.push(`${SEQUENCE_COLUMN} <= ${o.expiry}`);
    const kept = `SELECT ${keys.join(", ")}, ${SEQUENCE_COLUMN} FROM ${tombstones}${drop.length > 0 ? ` WHERE NOT (${drop.join(" OR ")})` : ""}`;
    const [n] = await connection.rows(`SELECT count(*) AS n FROM (${kept})`, signal);
    tombstoneRows = BigInt(n!.n as bigint);
    if (tombstoneRows > 0n) await connection.run(`COPY (${kept}) TO ${quoteString(join(o.dir, TOMBSTONE_FILE))} (FORMAT parquet)`, signal);
  }
  return { rowFiles, rowsBefore, rowsAfter, rowsErased, tombstones: tombstoneRows, superseded };
}

/** The highest write-log sequence the inputs recorded: kept, so the log consumer's position survives the compaction. */
async function highestLogSequence(layout: CommitLayout, project: string, group: FeatureGroup, inputs: readonly CommitEntry[]): Promise<bigint | undefined> {
  let highest: bigint | undefined;
  for (const sequence of new Set(inputs.map((c) => c.sequence))) {
    const recorded = await layout.logSequenceOf(project, group.name, group.version, sequence);
    if (recorded !== undefined && (highest === undefined || recorded > highest)) highest = recorded;
  }
  return highest;
}

/**
 * Deletes directories a compaction replaced (relative to the data root, built by this service
 * from sequence numbers, never taken from a record), after `graceMs` so that reads which started
 * before it (and still list those files) can finish.
 */
export async function removeReplaced(layout: CommitLayout, dirs: readonly string[], graceMs: number, signal?: AbortSignal): Promise<void> {
  if (dirs.length === 0) return;
  if (graceMs > 0) await sleep(graceMs, signal);
  // Stopping: the next start deletes them, before any read.
  if (signal?.aborted) return;
  for (const dir of dirs) await rm(layout.absolute(dir), { recursive: true, force: true });
}

/**
 * Directories of commits the newest compaction of each group replaced, still on disk: a crash (or
 * a stop) came between the compaction's record and their deletion. Start-up deletes them.
 */
export function replacedDirs(commits: CommitLog): string[] {
  const dirs: string[] = [];
  for (const { key, commits: history } of commits.groups()) {
    let newest: CommitEntry | undefined;
    for (const c of history) if (c.compaction) newest = c;
    if (!newest) continue;
    const [project, name, version] = key.split("/") as [string, string, string];
    const base = groupPath(project, name, Number(version));
    const through = newest.compaction!.through;
    // Never a directory a live commit (or the compaction itself) is read from, whatever a record claims.
    const live = new Set(history.filter((c) => c === newest || (!c.compaction && c.id > through)).map((c) => c.sequence));
    for (const c of history) {
      if (live.has(c.sequence)) continue;
      if (c.compaction || c.id <= through) dirs.push(`${base}/${sequenceName(c.sequence)}`);
    }
  }
  return dirs;
}

async function sizeOf(paths: readonly string[]): Promise<bigint> {
  let total = 0n;
  for (const p of paths) total += BigInt((await stat(p)).size);
  return total;
}

function minOf(values: readonly (bigint | undefined)[]): bigint | undefined {
  let min: bigint | undefined;
  for (const v of values) if (v !== undefined && (min === undefined || v < min)) min = v;
  return min;
}

function maxOf(values: readonly (bigint | undefined)[]): bigint | undefined {
  let max: bigint | undefined;
  for (const v of values) if (v !== undefined && (max === undefined || v > max)) max = v;
  return max;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
