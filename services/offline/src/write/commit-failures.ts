import { create } from "@bufbuild/protobuf";
import { CommitSchema, CommitState, OnlineSyncState } from "@granary/proto/metadata";
import type { Logger } from "@granary/telemetry";
import type { CommitEntry, CommitLog } from "../store/commit-log.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";

export interface CommitFailureDeps {
  readonly metadata: MetadataWriter;
  readonly commits: CommitLog;
  readonly logger: Logger;
}

/**
 * Marks a commit whose record can never be completed (its files are missing, empty or outside its
 * group: see CorruptCommitError) FAILED with its reason, in the catalogue and in the commit log,
 * so reads skip it and later commits of the group no longer depend on it. Its files, if any, are
 * left alone: nothing is deleted on a suspicion. A pending online push of it is parked.
 */
export async function markCommitFailed(
  deps: CommitFailureDeps,
  project: string,
  group: { name: string; version: number },
  commit: CommitEntry,
  reason: string,
): Promise<void> {
  const paths = ["state", "failure_reason", ...(commit.onlineSyncState === OnlineSyncState.PENDING ? ["online_sync_state"] : [])];
  const updated = await deps.metadata.updateCommit(
    create(CommitSchema, {
      project,
      featureGroup: { name: group.name, version: group.version },
      id: commit.id,
      state: CommitState.FAILED,
      failureReason: reason,
      onlineSyncState: OnlineSyncState.PARKED,
    }),
    paths,
  );
  deps.commits.apply(updated);
  deps.logger.warn(
    { project, group: group.name, version: group.version, commit: commit.id.toString(), reason },
    "marked a commit FAILED: its record cannot be completed; reads skip it and later commits go on",
  );
}
