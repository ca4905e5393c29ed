import { clone } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { FailedPreconditionError, NotFoundError } from "@granary/errors";
import { ChangeKind, CommitSchema, CommitState, OnlineSyncState, type Commit } from "@granary/proto/metadata";
import type { FeatureGroupRef, TimeRange } from "@granary/proto/types";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction } from "./catalogue-transaction.js";
import { requireGroup } from "./feature-groups-store.js";
import { fromRow, toRow } from "./json-resource.js";

/** Records a commit; its id is the next one for the group version. */
export async function createCommit(pool: Pool, commit: Commit): Promise<Commit> {
  return inCatalogueTransaction(pool, async (tx) => {
    const ref = commit.featureGroup!;
    const group = await requireGroup(tx, commit.project, ref.name, ref.version);
    const { rows } = await tx.client.query<{ id: string | null }>("SELECT max(id)::text AS id FROM commits WHERE group_id = $1", [group.id.toString()]);
    const stored = clone(CommitSchema, commit);
    stored.id = BigInt(rows[0]?.id ?? "0") + 1n;
    stored.ingestionTime ??= timestampFromDate(tx.now);
    if (stored.onlineSyncState === OnlineSyncState.UNSPECIFIED) {
      stored.onlineSyncState = group.onlineEnabled ? OnlineSyncState.PENDING : OnlineSyncState.NOT_APPLICABLE;
    }
    await tx.client.query("INSERT INTO commits (group_id, id, ingestion_time, resource) VALUES ($1, $2, $3, $4)", [
      group.id.toString(),
      stored.id.toString(),
      timestampDate(stored.ingestionTime),
      toRow(CommitSchema, stored),
    ]);
    await tx.recordChange({ kind: ChangeKind.CREATED, project: commit.project, resource: { case: "commit", value: stored } });
    return stored;
  });
}

export async function getCommit(pool: Pool, project: string, ref: FeatureGroupRef, id: bigint): Promise<Commit> {
  const { rows } = await pool.query<{ resource: unknown }>(
    `SELECT c.resource FROM commits c JOIN feature_groups g ON g.id = c.group_id
     WHERE g.project = $1 AND g.name = $2 AND g.version = $3 AND c.id = $4`,
    [project, ref.name, ref.version, id.toString()],
  );
  if (!rows[0]) throw new NotFoundError(`commit ${id} of feature group "${ref.name}" version ${ref.version} does not exist`);
  return fromRow(CommitSchema, rows[0].resource);
}

export async function listCommits(
  pool: Pool,
  project: string,
  ref: FeatureGroupRef,
  o: { pageSize: number; pageToken: string; window: TimeRange | undefined },
): Promise<{ items: Commit[]; nextPageToken: string }> {
  const group = await groupId(pool, project, ref);
  const size = pageSizeOf(o.pageSize);
  const start = o.window?.start ? timestampDate(o.window.start) : null;
  const end = o.window?.end ? timestampDate(o.window.end) : null;
  const query = ["commits", project, ref.name, ref.version, start?.toISOString() ?? "", end?.toISOString() ?? ""];
  const after = decodePageToken(o.pageToken, query);
  const { rows } = await pool.query<{ id: string; resource: unknown }>(
    `SELECT id::text AS id, resource FROM commits
     WHERE group_id = $1 AND id > $2 AND ($3::timestamptz IS NULL OR ingestion_time >= $3) AND ($4::timestamptz IS NULL OR ingestion_time < $4)
     ORDER BY id LIMIT $5`,
    [group, String(after?.[0] ?? "0"), start, end, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.id]);
  return { items: page.items.map((r) => fromRow(CommitSchema, r.resource)), nextPageToken: page.nextPageToken };
}

const MUTABLE = ["online_sync_state", "validation_report_id", "state", "failure_reason"] as const;

/**
 * A commit's record is history; only its online sync state and report link move on, and a commit
 * that cannot be completed may be marked FAILED with its reason (never back).
 */
export async function updateCommit(pool: Pool, patch: Commit, paths: readonly string[]): Promise<Commit> {
  return inCatalogueTransaction(pool, async (tx) => {
    const ref = patch.featureGroup!;
    const group = await requireGroup(tx, patch.project, ref.name, ref.version);
    const { rows } = await tx.client.query<{ resource: unknown }>("SELECT resource FROM commits WHERE group_id = $1 AND id = $2 FOR UPDATE", [
      group.id.toString(),
      patch.id.toString(),
    ]);
    if (!rows[0]) throw new NotFoundError(`commit ${patch.id} of feature group "${ref.name}" version ${ref.version} does not exist`);
    const mutable: readonly string[] = MUTABLE;
    const immutable = paths.filter((p) => !mutable.includes(p));
    if (immutable.length > 0) throw new FailedPreconditionError(`${immutable.join(", ")} of a commit cannot change`);
    const next = fromRow(CommitSchema, rows[0].resource);
    const effective: readonly string[] = paths.length > 0 ? paths : ["online_sync_state", "validation_report_id"];
    if (effective.includes("online_sync_state")) next.onlineSyncState = patch.onlineSyncState;
    if (effective.includes("validation_report_id")) next.validationReportId = patch.validationReportId;
    if (effective.includes("state") && patch.state !== next.state) {
      if (patch.state !== CommitState.FAILED) throw new FailedPreconditionError(`commit ${patch.id} can only move to state FAILED, never back`);
      next.state = CommitState.FAILED;
    }
    if (effective.includes("failure_reason")) {
      if (next.state !== CommitState.FAILED && patch.failureReason !== "") throw new FailedPreconditionError("failure_reason is set only on a FAILED commit");
      next.failureReason = patch.failureReason;
    }
    await tx.client.query("UPDATE commits SET resource = $3 WHERE group_id = $1 AND id = $2", [
      group.id.toString(),
      next.id.toString(),
      toRow(CommitSchema, next),
    ]);
    await tx.recordChange({ kind: ChangeKind.UPDATED, project: next.project, resource: { case: "commit", value: next } });
    return next;
  });
}

export async function groupId(pool: Pool, project: string, ref: FeatureGroupRef): Promise<string> {
  const { rows } = await pool.query<{ id: string }>("SELECT id::text AS id FROM feature_groups WHERE project = $1 AND name = $2 AND version = $3", [
    project,
    ref.name,
    ref.version,
  ]);
  if (!rows[0]) throw new NotFoundError(`feature group "${ref.name}" version ${ref.version} does not exist in project "${project}"`);
  return rows[0].id;
}
