import { create } from "@bufbuild/protobuf";
import type * as arrow from "apache-arrow";
import { CommitKind, CommitSchema, OnlineSyncState, type FeatureGroup } from "@granary/proto/metadata";
import type { Column } from "@granary/proto/types";
import { inSpan, type Logger } from "@granary/telemetry";
import { type DuckEngine, queryBatches, rowsForBytes, fileList, quoteIdent } from "../duck/index.js";
import { ipcBytes } from "@granary/arrow";
import { ResourceExhaustedError } from "@granary/errors";
import { groupKey, type CommitEntry, type CommitLog } from "../store/commit-log.js";
import type { CommitLayout } from "../store/commit-layout.js";
import type { MetadataWriter } from "../upstream/metadata-writer.js";
import { CorruptCommitError } from "../store/commit-files.js";
import { markCommitFailed } from "./commit-failures.js";
import { columnarRowsOf } from "./columnar-rows.js";
import type { OnlineWriter } from "../upstream/online-writer.js";

export interface OnlinePusherDeps {
  readonly engine: DuckEngine;
  readonly layout: CommitLayout;
  readonly commits: CommitLog;
  readonly groupOf: (project: string, name: string, version: number) => FeatureGroup | undefined;
  readonly metadata: MetadataWriter;
  readonly online: OnlineWriter;
  /** Target size of one WriteRows request. */
  readonly requestBytes: number;
  readonly logger: Logger;
  /** Attempts of one commit's push before it is parked (ONLINE_SYNC_STATE_PARKED); default 10. */
  readonly maxAttempts?: number;
  /** First delay between attempts, doubling up to 5 s; default 100 ms. */
  readonly retryDelayMs?: number;
  /** Requests of one commit's push in flight at once; default 4 (see OnlinePusher). */
  readonly requestsInFlight?: number;
}

/** Hard ceiling of one request: under the 4 MiB default receive limit of gRPC servers. */
const MAX_REQUEST = 3.5 * 1024 * 1024;

/**
 * Rows of one request at most: the online service's default GRANARY_ONLINE_MAX_ROWS. A request
 * refused for its size anyway (a lower limit there) is halved until it fits.
 */
const MAX_REQUEST_ROWS = 10_000;

/**
 * Pushes committed rows of online-enabled groups to the online store: over gRPC, or, with a write
 * log, by appending them to it (logOnlineWriter), whence every replica applies them. The outbox is the commit
 * record itself: a commit is created PENDING, and only after its rows are written online (flushed)
 * is it marked SYNCED. At start, every PENDING commit is pushed again: at least once, which the
 * online store tolerates (a row never overwrites a newer one; an equal one replaces it).
 *
 * Pushes of a group run one at a time in commit order, and a commit is pushed only after the ones
 * before it are done, so a replay can never put an older commit's row over a newer commit's
 * equal-time row. A failed push is retried with backoff, but only `maxAttempts` times: a poison
 * entry is then parked (ONLINE_SYNC_STATE_PARKED, visible in ListCommits, logged as an error) and
 * the group's later commits go on; a parked commit is not pushed again at start. A commit whose
 * record is corrupt (CorruptCommitError) is marked FAILED at once: retrying cannot help.
 *
 * Within one commit's push, up to `requestsInFlight` requests run at once, so DuckDB reads and
 * encodes the next rows while the online store applies the previous ones. Their order does not
 * matter: a commit holds one row per key (its newest; deletes, distinct keys), so no two requests
 * of a commit touch the same key. The commit is SYNCED only once every request has succeeded; if
 * one fails, no further request starts, the ones in flight are let finish, and the whole commit is
 * pushed again (the retry never overlaps the failed attempt).
 */
export class OnlinePusher {
  readonly #deps: OnlinePusherDeps;
  readonly #chains = new Map<string, Promise<void>>();
  readonly #stop = new AbortController();

  constructor(deps: OnlinePusherDeps) {
    this.#deps = deps;
  }

  /** Queues a commit's push; resolves once it is SYNCED. */
  push(project: string, group: FeatureGroup, commit: CommitEntry): Promise<void> {
    const key = groupKey(project, group.name, group.version);
    const previous = this.#chains.get(key) ?? Promise.resolve();
    // A parked or failed push ends its own promise with its error, never the chain of the group.
    const next = previous.catch(() => undefined).then(() => this.#untilDone(project, group, commit));
    this.#chains.set(key, next);
    void next
      .finally(() => {
        if (this.#chains.get(key) === next) this.#chains.delete(key);
      })
      .catch(() => {});
    return next;
  }

  /** Queues every commit still PENDING, oldest first (run once the commit log is current). */
  recover(): number {
    let queued = 0;
    for (const { key, commits } of this.#deps.commits.groups()) {
      const [project, name, version] = key.split("/") as [string, string, string];
      const group = this.#deps.groupOf(project, name, Number(version));
      if (!group?.onlineEnabled) continue;
      for (const commit of commits) {
        if (commit.onlineSyncState !== OnlineSyncState.PENDING) continue;
        void this.push(project, group, commit).catch(() => {});
        queued++;
      }
    }
    return queued;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled([...this.#chains.values()]);
  }

  async #untilDone(project: string, group: FeatureGroup, commit: CommitEntry): Promise<void> {
    const attempts = Math.max(1, this.#deps.maxAttempts ?? 10);
    let delay = this.#deps.retryDelayMs ?? 100;
    for (let attempt = 1; ; attempt++) {
      if (this.#stop.signal.aborted) throw new Error("the online push was stopped");
      try {
        await inSpan(
          "granary.offline",
          "offline.online_push",
          {
            "granary.project": project,
            "granary.feature_group": group.name,
            "granary.feature_group.version": group.version,
            "granary.commit.id": Number(commit.id),
            "granary.attempt": attempt,
          },
          async (span) => span.setAttribute("granary.rows", await this.#pushOnce(project, group, commit)),
        );
        return;
      } catch (err) {
        if (this.#stop.signal.aborted) throw err;
        // A commit record whose files may not be read: retrying cannot help, and later commits of
        // the group still get pushed (the refused commit's rows were never legitimately there).
        if (err instanceof CorruptCommitError) {
          await markCommitFailed(this.#deps, project, group, commit, err.reason);
          throw err;
        }
        if (attempt >= attempts) {
          this.#deps.logger.error(
            { err, group: group.name, version: group.version, commit: commit.id.toString(), attempts },
            "online push failed too often; parked (ONLINE_SYNC_STATE_PARKED), later commits go on",
          );
          await this.#park(project, group, commit);
          throw err;
        }
        this.#deps.logger.warn({ err, group: group.name, version: group.version, commit: commit.id.toString(), attempt }, "online push failed; retrying");
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  async #park(project: string, group: FeatureGroup, commit: CommitEntry): Promise<void> {
    const ref = { name: group.name, version: group.version };
    const updated = await this.#deps.metadata.updateCommit(
      create(CommitSchema, { project, featureGroup: ref, id: commit.id, onlineSyncState: OnlineSyncState.PARKED }),
      ["online_sync_state"],
    );
    this.#deps.commits.apply(updated);
  }

  /** Pushes a commit's rows (or deletes its keys) online; returns how many. */
  async #pushOnce(project: string, group: FeatureGroup, commit: CommitEntry): Promise<number> {
    const ref = { name: group.name, version: group.version };
    const files = fileList((await this.#deps.layout.files.filesOf({ project, name: group.name, version: group.version }, [commit], this.#deps.logger))(commit));
    const keys = group.primaryKey.map(quoteIdent).join(", ");
    // Names each batch by its commit and rows: the same on every attempt, for the write log's duplicate window.
    const batchId = `offline-${project}-${group.name}-v${group.version}-c${commit.id}`;
    let offset = 0;
    const window = new RequestWindow(this.#deps.requestsInFlight ?? 4);
    await this.#deps.engine.withConnection(async (connection) => {
      try {
        if (commit.kind === CommitKind.DELETE) {
          const sql = `SELECT DISTINCT ${keys} FROM read_parquet(${files})`;
          const { batches } = await queryBatches(connection, sql, MAX_REQUEST_ROWS, this.#stop.signal);
          const keyColumns = group.primaryKey.map((k) => group.columns.find((c) => c.name === k)!);
          for await (const batch of batches) {
            const msgId = `${batchId}-delete-r${offset}`;
            await window.add(() => this.#delete(project, group, batch, keyColumns, msgId));
            offset += batch.numRows;
          }
          return;
        }
        // Only each key's newest row of the commit can matter online. Picking it is a window over
        // the whole commit, whose first row comes only once every row is read: a commit with one
        // row per key (the usual insert; a hash count says so) is streamed as it is instead.
        const source = `read_parquet(${files}, union_by_name = true)`;
        const distinct = group.primaryKey.length === 1 ? `count(DISTINCT ${keys})` : `count(DISTINCT (${keys}))`;
        const repeated =
          group.eventTime !== "" &&
          (await connection.rows(`SELECT count(*) > ${distinct} AS repeated FROM ${source}`, this.#stop.signal))[0]?.repeated !== false;
        const latest = repeated ? ` QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY ${quoteIdent(group.eventTime)} DESC) = 1` : "";
        const columns = group.columns.map((c) => quoteIdent(c.name)).join(", ");
        const sql = `SELECT ${columns} FROM ${source}${latest}`;
        const hasLists = group.columns.some((c) => c.type?.list);
        const rows = (schema: arrow.Schema) => rowsForBytes(schema, this.#deps.requestBytes, MAX_REQUEST_ROWS);
        const { batches } = await queryBatches(connection, sql, rows, this.#stop.signal);
        for await (const batch of batches) {
          const msgId = `${batchId}-r${offset}`;
          await window.add(() => this.#send(project, group, batch, hasLists, msgId));
          offset += batch.numRows;
        }
      } finally {
        // Every request of this attempt has ended before it does: a retry never runs beside it.
        await window.settled();
      }
      window.check();
    });
    const updated = await this.#deps.metadata.updateCommit(
      create(CommitSchema, { project, featureGroup: ref, id: commit.id, onlineSyncState: OnlineSyncState.SYNCED }),
      ["online_sync_state"],
    );
    this.#deps.commits.apply(updated);
    return offset;
  }

  /** One batch of keys deleted online, halved until each part fits. */
  async #delete(project: string, group: FeatureGroup, batch: arrow.RecordBatch, keyColumns: readonly Column[], msgId: string): Promise<void> {
    try {
      await this.#deps.online.deleteKeys(project, { name: group.name, version: group.version }, columnarRowsOf(batch, keyColumns), `${msgId}-${batch.numRows}`);
    } catch (err) {
      if (!(err instanceof ResourceExhaustedError) || batch.numRows <= 1) throw err;
      const half = Math.ceil(batch.numRows / 2);
      await this.#delete(project, group, batch.slice(0, half), keyColumns, `${msgId}-a`);
      await this.#delete(project, group, batch.slice(half), keyColumns, `${msgId}-b`);
    }
  }

  /** One batch of rows online, halved until each part fits (a request's, or the write log's 1 MiB per message). */
  async #send(project: string, group: FeatureGroup, batch: arrow.RecordBatch, hasLists: boolean, msgId: string): Promise<void> {
    const ref = { name: group.name, version: group.version };
    const halves = async () => {
      const half = Math.ceil(batch.numRows / 2);
      await this.#send(project, group, batch.slice(0, half), hasLists, `${msgId}-a`);
      await this.#send(project, group, batch.slice(half), hasLists, `${msgId}-b`);
    };
    const online = this.#deps.online;
    if (hasLists || !online.writeArrow) {
      try {
        await online.writeColumns(project, ref, columnarRowsOf(batch, group.columns), `${msgId}-${batch.numRows}`);
      } catch (err) {
        if (!(err instanceof ResourceExhaustedError) || batch.numRows <= 1) throw err;
        await halves();
      }
      return;
    }
    const bytes = ipcBytes([batch], batch.schema);
    if (bytes.byteLength > MAX_REQUEST && batch.numRows > 1) return halves();
    try {
      await online.writeArrow(project, ref, bytes);
    } catch (err) {
      if (!(err instanceof ResourceExhaustedError) || batch.numRows <= 1) throw err;
      await halves();
    }
  }
}

/**
 * At most `limit` requests in flight. `add` waits for room; after a failure it starts nothing more
 * and throws, and `check` throws the first failure once `settled` has waited for the rest.
 */
class RequestWindow {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #failure: { readonly err: unknown } | undefined;

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  async add(request: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#limit && !this.#failure) await Promise.race(this.#running);
    this.check();
    const running: Promise<void> = request().then(
      () => void this.#running.delete(running),
      (err: unknown) => {
        this.#failure ??= { err };
        this.#running.delete(running);
      },
    );
    this.#running.add(running);
  }

  async settled(): Promise<void> {
    await Promise.all(this.#running);
  }

  check(): void {
    if (this.#failure) throw this.#failure.err;
  }
}
