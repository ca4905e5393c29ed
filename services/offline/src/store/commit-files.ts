import { DataLossError } from "@granary/errors";
import type { Logger } from "@granary/telemetry";
import type { CommitEntry } from "./commit-log.js";
import { type ConfinedRoot, ConfinementError } from "./confined-path.js";

/** The checked absolute paths of a commit's files: what SQL may hand to read_parquet. */
export type FilesOf = (commit: CommitEntry) => readonly string[];

/** Commits whose files were checked, with their real absolute paths. */
export type CheckedFiles = ReadonlyMap<CommitEntry, readonly string[]>;

/** The files of checked commits; asking for any other commit is a bug and throws. */
export function filesOf(...checked: CheckedFiles[]): FilesOf {
  return (commit) => {
    for (const map of checked) {
      const files = map.get(commit);
      if (files) return files;
    }
    throw new Error(`commit ${commit.id} was read without its files being checked`);
  };
}

/** A commit record that can never be read: the DataLossError that says which commit, and why (for its FAILED mark). */
export class CorruptCommitError extends DataLossError {
  constructor(
    message: string,
    readonly commit: CommitEntry,
    readonly reason: string,
  ) {
    super(message);
  }
}

export interface GroupId {
  readonly project: string;
  readonly name: string;
  readonly version: number;
}

/** Paths resolved at once while checking a long commit list (realpath runs on libuv's pool). */
const PARALLEL = 32;

/**
 * The one gate between commit records and DuckDB. A commit record comes from the catalogue, and
 * the catalogue takes it from whoever may call CreateCommit: defence in depth, every file it lists
 * must lie inside `<root>/<project>/<group>/v<version>/` of the group it is recorded under, symlinks
 * followed (see ConfinedRoot). Readers get a FilesOf for exactly the commits they checked, so SQL
 * cannot name a file of a commit nobody checked (it throws, and the read fails as INTERNAL).
 *
 * A commit that fails makes the whole read fail with DATA_LOSS, not FAILED_PRECONDITION: the
 * record is corrupt (or forged), no change of the caller's makes the read succeed, and the rows
 * it claims are not there to read; silently skipping it would answer with a wrong set of rows.
 * The message names the commit id and the group, never a path (the recorded path is the
 * attacker's text, the resolved one describes our disk); the warning in the log has the recorded
 * path for the operator.
 *
 * Checked commits are remembered (by entry: a commit applied again is checked again), as files
 * of a published commit never change and only this service writes under the root.
 */
export class CommitFiles {
  readonly #root: ConfinedRoot;
  readonly #checked = new WeakMap<CommitEntry, readonly string[]>();
  readonly #warned = new WeakSet<CommitEntry>();

  constructor(root: ConfinedRoot) {
    this.#root = root;
  }

  /** Checks the commits of one group (all of them, or DataLossError). */
  async check(group: GroupId, commits: readonly CommitEntry[], logger: Logger): Promise<CheckedFiles> {
    const prefix = `${group.project}/${group.name}/v${group.version}/`;
    const unchecked = commits.filter((c) => !this.#checked.has(c));
    for (let i = 0; i < unchecked.length; i += PARALLEL) {
      await Promise.all(unchecked.slice(i, i + PARALLEL).map((c) => this.#checkOne(group, prefix, c, logger)));
    }
    return new Map(commits.map((c) => [c, this.#checked.get(c)!]));
  }

  /** check(), as the FilesOf of those commits. */
  async filesOf(group: GroupId, commits: readonly CommitEntry[], logger: Logger): Promise<FilesOf> {
    return filesOf(await this.check(group, commits, logger));
  }

  async #checkOne(group: GroupId, prefix: string, commit: CommitEntry, logger: Logger): Promise<void> {
    const resolved: string[] = [];
    if (commit.files.length === 0) {
      throw new CorruptCommitError(
        `feature group "${group.name}" version ${group.version} of project "${group.project}" cannot be read: commit ${commit.id} lists no files; the commit record is corrupt or forged`,
        commit,
        "the commit record lists no files",
      );
    }
    for (const file of commit.files) {
      try {
        resolved.push(await this.#root.resolve(file, prefix));
      } catch (err) {
        if (!(err instanceof ConfinementError)) throw err;
        if (!this.#warned.has(commit)) {
          this.#warned.add(commit);
          logger.warn(
            { project: group.project, group: group.name, version: group.version, commit: commit.id.toString(), file, reason: err.reason },
            "refusing to read a commit whose file lies outside its feature group's directory (a corrupt or forged commit record)",
          );
        }
        throw new CorruptCommitError(
          `feature group "${group.name}" version ${group.version} of project "${group.project}" cannot be read: commit ${commit.id} lists ${err.publicReason}; the commit record is corrupt or forged (the server logged the details)`,
          commit,
          `the commit record lists ${err.publicReason}`,
        );
      }
    }
    this.#checked.set(commit, resolved);
  }
}
