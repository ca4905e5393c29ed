import { create } from "@bufbuild/protobuf";
import { CommitKind, CommitSchema, OnlineSyncState, type Commit, type FeatureGroup } from "@granary/proto/metadata";
import { inSpan, type Logger } from "@granary/telemetry";
import type { CrashPoint } from "../config.js";
import { timestampFromMicros } from "../timestamps.js";
import { type DuckConnection, fileList, quoteIdent } from "../duck/index.js";
import { groupKey, isInsert, type CommitEntry, type CommitLog } from "../store/commit-log.js";
import type { CommitLayout } from "../store/commit-layout.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import { SEQUENCE_COLUMN } from "../read/group-source.js";
import type { CommitSequencer } from "./commit-sequencer.js";
import { CorruptCommitError } from "../store/commit-files.js";
import { markCommitFailed } from "./commit-failures.js";
import { MAX_PARTITIONS_PER_COMMIT, writeGroupFiles } from "../store/partitions.js";

export interface CommitWriterDeps {
  readonly layout: CommitLayout;
  readonly commits: CommitLog;
  readonly sequencer: CommitSequencer;
  readonly metadata: MetadataWriter;
  readonly crashAt: CrashPoint | undefined;
  readonly logger: Logger;
}

export interface CommitContent {
  readonly kind: CommitKind;
  /** A DuckDB table (on `connection`) holding the commit's rows in the group's column types. */
  readonly table: string;
  /** Columns written to the file: every group column for inserts, the key for deletes. */
  readonly columns: readonly string[];
  readonly rows: bigint;
  readonly minEventMicros: bigint | undefined;
  readonly maxEventMicros: bigint | undefined;
  readonly rowsDeleted?: bigint;
  /** A commit made from the write log: the highest log sequence it includes, recorded with its files (see CommitLayout.writeLogSequence). */
  readonly logSequence?: bigint;
  /** A delete whose keys' rows compaction erases from every file (DeleteRows with erase). */
  readonly erase?: boolean;
  /** The online copy's state; default PENDING for online-enabled groups (the outbox pushes it), else NOT_APPLICABLE. */
  readonly onlineSyncState?: OnlineSyncState;
}

/**
 * Writes one commit with the crash-safe protocol:
 *
 * 1. take the group's next sequence number;
 * 2. write the Parquet files into `.tmp-<sequence>/` (one file, or for an insert into a partitioned
 *    group one directory level per partition column: see writeGroupFiles), fsync every file and
 *    directory, rename the directory into place, fsync the parent: the files are durable but
 *    belong to no commit yet;
 * 3. in sequence order, record the commit in the metadata service (the id comes back);
 * 4. add it to the commit log, where reads find it.
 *
 * A crash after 2 leaves files no commit lists: reads never see them, and start-up deletes them.
 */
export async function writeCommit(
  deps: CommitWriterDeps,
  connection: DuckConnection,
  project: string,
  group: FeatureGroup,
  content: CommitContent,
  signal?: AbortSignal,
): Promise<{ commit: Commit; entry: CommitEntry }> {
  const attributes = {
    "granary.project": project,
    "granary.feature_group": group.name,
    "granary.feature_group.version": group.version,
    "granary.commit.kind": CommitKind[content.kind] ?? String(content.kind),
    "granary.rows": Number(content.rows),
  };
  return inSpan("granary.offline", "offline.commit", attributes, async (span) => {
    const result = await commitOnce(deps, connection, project, group, content, signal);
    span.setAttributes({ "granary.commit.id": Number(result.commit.id), "granary.files": result.commit.files.length });
    return result;
  });
}

async function commitOnce(
  deps: CommitWriterDeps,
  connection: DuckConnection,
  project: string,
  group: FeatureGroup,
  content: CommitContent,
  signal?: AbortSignal,
): Promise<{ commit: Commit; entry: CommitEntry }> {
  const key = groupKey(project, group.name, group.version);
  const ticket = deps.sequencer.take(key, deps.commits.maxSequence(project, group.name, group.version));
  let recording = false;
  const staged = await deps.layout.stage(project, group.name, group.version, ticket.sequence);
  try {
    const columns = content.columns.map(quoteIdent).join(", ");
    // Tombstones hold only the key, and partition columns are never key columns (the catalogue
    // refuses it), so delete files stay unpartitioned: one file per delete commit.
    const layoutOf = content.kind === CommitKind.INSERT ? group : { ...group, partitionKey: [] };
    const select = `SELECT ${columns}, ${ticket.sequence}::BIGINT AS ${SEQUENCE_COLUMN} FROM ${content.table}`;
    // An Insert spanning too many partitions is refused; a write-log micro-batch is bounded by its
    // row count and must not fail for good (its rows would be retried forever).
    const maxPartitions = content.logSequence === undefined ? MAX_PARTITIONS_PER_COMMIT : undefined;
    const written = await writeGroupFiles(connection, layoutOf, select, staged.tmpDir, { signal, maxPartitions });
    if (content.logSequence !== undefined) await deps.layout.writeLogSequence(staged, content.logSequence);
    await deps.layout.publish(staged);
    crashIfAt(deps.crashAt, "after-files", deps.logger);
    await deps.sequencer.turn(ticket);
    const rowsUpdated = content.kind === CommitKind.INSERT ? await updatedRows(deps, connection, project, group, content) : 0n;
    recording = true;
    const commit = await deps.metadata.createCommit(
      create(CommitSchema, {
        project,
        featureGroup: { name: group.name, version: group.version },
        kind: content.kind,
        rowsInserted: content.kind === CommitKind.INSERT ? content.rows - rowsUpdated : 0n,
        rowsUpdated,
        rowsDeleted: content.rowsDeleted ?? 0n,
        files: written.map((f) => `${staged.dir}/${f}`),
        minEventTime: content.minEventMicros === undefined ? undefined : timestampFromMicros(content.minEventMicros),
        maxEventTime: content.maxEventMicros === undefined ? undefined : timestampFromMicros(content.maxEventMicros),
        onlineSyncState: content.onlineSyncState ?? (group.onlineEnabled ? OnlineSyncState.PENDING : OnlineSyncState.NOT_APPLICABLE),
        erase: content.erase ?? false,
      }),
    );
    const entry = deps.commits.apply(commit);
    crashIfAt(deps.crashAt, "after-commit", deps.logger);
    return { commit, entry };
  } catch (err) {
    // Files of a commit whose recording was never attempted can go now. If it was attempted, the
    // record may exist although the call failed: leave the files for start-up to judge.
    if (!recording) await deps.layout.discard(staged);
    throw err;
  } finally {
    deps.sequencer.release(ticket);
  }
}

/**
 * Rows of the insert whose (key, event time) an earlier commit already holds. Only commits whose
 * event-time range overlaps the insert's can hold them, so appending new data scans nothing.
 * A commit with updated rows makes reads check later commits for replaced rows.
 */
async function updatedRows(deps: CommitWriterDeps, connection: DuckConnection, project: string, group: FeatureGroup, content: CommitContent): Promise<bigint> {
  const id = { project, name: group.name, version: group.version };
  // A corrupt earlier commit is marked FAILED (leaving the commit log) and the check runs again
  // without it: one forged record must not block every later insert of the group.
  let candidates: readonly CommitEntry[];
  let filesOf: (c: CommitEntry) => readonly string[];
  for (;;) {
    const earlier = deps.commits.commits(project, group.name, group.version).filter(isInsert);
    candidates = group.eventTime
      ? earlier.filter(
          (c) =>
            c.minEventMicros === undefined ||
            c.maxEventMicros === undefined ||
            content.minEventMicros === undefined ||
            content.maxEventMicros === undefined ||
            (c.minEventMicros <= content.maxEventMicros && c.maxEventMicros >= content.minEventMicros),
        )
      : earlier;
    if (candidates.length === 0) return 0n;
    try {
      filesOf = await deps.layout.files.filesOf(id, candidates, deps.logger);
      break;
    } catch (err) {
      if (!(err instanceof CorruptCommitError)) throw err;
      await markCommitFailed(deps, project, group, err.commit, err.reason);
    }
  }
  const same = [...group.primaryKey, ...(group.eventTime ? [group.eventTime] : [])].map((k) => `o.${quoteIdent(k)} = i.${quoteIdent(k)}`).join(" AND ");
  const files = fileList(candidates.flatMap(filesOf));
  const [row] = await connection.rows(
    `SELECT count(*) AS n FROM ${content.table} i WHERE EXISTS (SELECT 1 FROM read_parquet(${files}, union_by_name = true) o WHERE ${same})`,
  );
  return BigInt(row!.n as bigint);
}

/** Testing only: dies like a killed process at a step of the commit protocol. */
function crashIfAt(crashAt: CrashPoint | undefined, point: CrashPoint, logger: Logger): void {
  if (crashAt !== point) return;
  logger.warn({ point }, "GRANARY_OFFLINE_CRASH_AT: killing the process");
  process.kill(process.pid, "SIGKILL");
}
