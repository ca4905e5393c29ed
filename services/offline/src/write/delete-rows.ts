import { InvalidArgumentError } from "@granary/errors";
import { CommitKind, type FeatureGroup } from "@granary/proto/metadata";
import type { DeleteRowsResponse } from "@granary/proto/offline";
import { groupSourceSql } from "../read/group-source.js";
import { quoteIdent, stageArrowInput, tempName } from "../duck/index.js";
import { writeCommit } from "./commit-writer.js";
import { waitBounded } from "./bounded-wait.js";
import type { CommitEntry } from "../store/commit-log.js";
import { afterCommit, type InsertDeps } from "./insert-rows.js";

export interface DeleteDeps extends InsertDeps {
  /** Carries out a delete with erase (lifecycle/Compactor): compacts the group through it. */
  readonly compactor: { erase(project: string, group: FeatureGroup, erase: CommitEntry, signal?: AbortSignal): Promise<unknown> };
}

export interface DeleteOptions {
  /** Erase the keys' rows from the files of every version (GDPR), not only hide them. */
  readonly erase: boolean;
}

/**
 * Deletes every row of the given primary keys (all event times) with a commit of tombstones:
 * reads and point-in-time joins at or after that commit no longer see the keys; time travel to
 * before it still does, until compaction removes the rows past the group's retention. Online,
 * the keys go too.
 *
 * With erase, the delete is recorded as such (so it is carried out even if this call ends first),
 * its online push is awaited (the tombstones are read from its file until then), and the group is
 * compacted through it: every file holding the keys' earlier rows is rewritten without them, their
 * tombstones are dropped, and the replaced files are deleted before the call answers.
 */
export async function deleteRows(
  deps: DeleteDeps,
  project: string,
  group: FeatureGroup,
  chunks: AsyncIterable<Uint8Array>,
  options: DeleteOptions,
  signal?: AbortSignal,
): Promise<DeleteRowsResponse> {
  const stg = tempName("dstg");
  const del = tempName("del");
  const keyColumns = group.primaryKey.map((k) => group.columns.find((c) => c.name === k)!);
  await deps.logBarrier?.(signal);
  const { commit, entry } = await deps.engine.withConnection(async (connection) => {
    try {
      const staged = await stageArrowInput(
        connection,
        stg,
        chunks,
        { allowed: new Map(keyColumns.map((c) => [c.name, c])), required: group.primaryKey, what: `the delete from "${group.name}" version ${group.version}` },
        signal,
      );
      if (staged.rows === 0) throw new InvalidArgumentError("the delete lists no keys");
      await connection.run(`CREATE TEMP TABLE ${del} AS SELECT DISTINCT ${staged.columns.map((c) => quoteIdent(c.name)).join(", ")} FROM ${stg}`, signal);
      const keys = group.primaryKey.map(quoteIdent);
      const [facts] = await connection.rows(`SELECT count(*) AS n, count(*) FILTER (WHERE ${keys.map((k) => `${k} IS NULL`).join(" OR ")}) AS bad FROM ${del}`);
      if (BigInt(facts!.bad as bigint) > 0n) throw new InvalidArgumentError("a key to delete has a null part");
      const commits = deps.commits.commits(project, group.name, group.version);
      const source = groupSourceSql(
        await deps.layout.files.filesOf({ project, name: group.name, version: group.version }, commits, deps.logger),
        group,
        commits,
        { columns: group.primaryKey },
      );
      const on = keys.map((k) => `r.${k} = d.${k}`).join(" AND ");
      const [existing] = await connection.rows(`SELECT count(*) AS n FROM ${source} r SEMI JOIN ${del} d ON ${on}`, signal);
      return await writeCommit(
        deps,
        connection,
        project,
        group,
        {
          kind: CommitKind.DELETE,
          table: del,
          columns: group.primaryKey,
          rows: BigInt(facts!.n as bigint),
          rowsDeleted: BigInt(existing!.n as bigint),
          minEventMicros: undefined,
          maxEventMicros: undefined,
          erase: options.erase,
        },
        signal,
      );
    } finally {
      await connection.run(`DROP TABLE IF EXISTS ${stg}; DROP TABLE IF EXISTS ${del}`).catch(() => undefined);
    }
  }, signal);
  if (options.erase) {
    // The erasure needs the delete online first; the caller's deadline bounds the wait.
    await Promise.all(afterCommit(deps, project, group, entry));
    await deps.compactor.erase(project, group, entry, signal);
  } else {
    await waitBounded(afterCommit(deps, project, group, entry), deps.onlinePushWaitMs);
  }
  return { $typeName: "granary.offline.v1.DeleteRowsResponse", commitId: commit.id, rowsDeleted: commit.rowsDeleted };
}
