import type { FeatureGroup } from "@granary/proto/metadata";
import { create } from "@bufbuild/protobuf";
import { StatisticsSubjectSchema } from "@granary/proto/metadata";
import type { CommitEntry, CommitLog } from "../store/commit-log.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import { CorruptCommitError } from "../store/commit-files.js";
import { groupKey } from "../store/commit-log.js";
import { storeGroupStatistics, type GroupStatisticsDeps } from "./group-statistics.js";

export interface StatisticsUpdaterDeps extends Omit<GroupStatisticsDeps, "metadata"> {
  readonly metadata: Pick<MetadataWriter, "putStatistics" | "hasStatistics">;
  readonly commits: CommitLog;
  /** The group's current definition (its statistics_config may have changed since the commit). */
  readonly groupOf: (project: string, name: string, version: number) => FeatureGroup | undefined;
  /** Waits before retrying a failed computation; after the last, it gives up with a warning. */
  readonly retryMs?: readonly number[];
  /** Computes and stores the statistics (tests replace it). */
  readonly store?: (project: string, group: FeatureGroup, commits: readonly CommitEntry[]) => Promise<unknown>;
}

interface GroupRun {
  running: Promise<void>;
  /** A run queued behind the running one: every refresh asked for meanwhile shares it. */
  queued?: Promise<void> | undefined;
}

/**
 * Keeps the stored statistics of groups with statistics enabled at their latest commit. Every
 * commit asks for a refresh; a group's refreshes run one at a time, and the refreshes asked for
 * while one runs share the next run, which reads the group as of its latest commit then. So a burst
 * of inserts computes statistics a few times, not once per insert, and the last commit is always
 * covered. A run that fails (the metadata service down, DuckDB out of memory) is retried with
 * backoff; a commit record that cannot be read is not.
 */
export class StatisticsUpdater {
  readonly #deps: StatisticsUpdaterDeps;
  readonly #groups = new Map<string, GroupRun>();
  #closed = false;

  constructor(deps: StatisticsUpdaterDeps) {
    this.#deps = deps;
  }

  /** Resolves once statistics covering the group's commits as of now are stored (or given up on); never rejects. */
  refresh(project: string, name: string, version: number): Promise<void> {
    const key = groupKey(project, name, version);
    const run = this.#groups.get(key);
    if (!run) {
      const running = this.#run(project, name, version).finally(() => this.#next(key));
      this.#groups.set(key, { running });
      return running;
    }
    run.queued ??= new Promise<void>((resolve) => {
      void run.running.then(() => {
        const again = this.#run(project, name, version);
        run.running = again.finally(() => this.#next(key));
        run.queued = undefined;
        resolve(again);
      });
    });
    return run.queued;
  }

  /**
   * At start: refreshes every group with statistics enabled whose latest commit has none stored
   * (the process ended between a commit and its statistics), one group at a time. Never rejects.
   */
  async recover(): Promise<number> {
    let refreshed = 0;
    for (const { key, commits } of [...this.#deps.commits.groups()]) {
      // A compaction changes no row: the statistics belong to the last insert or delete.
      const last = commits.findLast((c) => !c.compaction);
      const [project, name, version] = key.split("/");
      const group = this.#deps.groupOf(project!, name!, Number(version));
      if (this.#closed || !last || !group?.statisticsConfig?.enabled) continue;
      const subject = create(StatisticsSubjectSchema, {
        kind: { case: "commit", value: { featureGroup: { name: group.name, version: group.version }, commitId: last.id } },
      });
      try {
        if (await this.#deps.metadata.hasStatistics(project!, subject)) continue;
      } catch (err) {
        this.#deps.logger.warn({ err, project, group: name, version }, "could not check whether the group's latest commit has statistics; computing them");
      }
      await this.refresh(project!, name!, Number(version));
      refreshed++;
    }
    return refreshed;
  }

  /** Waits for the runs in flight; later refreshes do nothing. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const run of [...this.#groups.values()]) await (run.queued ?? run.running);
  }

  #next(key: string): void {
    const run = this.#groups.get(key);
    if (run && !run.queued) this.#groups.delete(key);
  }

  async #run(project: string, name: string, version: number): Promise<void> {
    const retryMs = this.#deps.retryMs ?? [500, 2000, 8000];
    for (let attempt = 0; !this.#closed; attempt++) {
      const group = this.#deps.groupOf(project, name, version);
      if (!group?.statisticsConfig?.enabled) return;
      const commits = this.#deps.commits.commits(project, name, version);
      if (commits.length === 0) return;
      try {
        await (this.#deps.store ?? ((p, g, c) => storeGroupStatistics(this.#deps, p, g, c)))(project, group, commits);
        return;
      } catch (err) {
        const wait = retryMs[attempt];
        const where = { project, group: name, version, commit: commits[commits.length - 1]!.id.toString(), err };
        if (wait === undefined || err instanceof CorruptCommitError) {
          this.#deps.logger.warn(
            { ...where, attempts: attempt + 1 },
            "could not compute the group's statistics at its latest commit; they stay at an earlier commit until the next commit or ComputeStatistics",
          );
          return;
        }
        this.#deps.logger.info({ ...where, attempt: attempt + 1 }, "computing the group's statistics failed; retrying");
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}
