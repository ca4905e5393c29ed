import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { GranaryError } from "@granary/errors";
import { CommitKind, OnlineSyncState, ValidationPolicy, ValidationReportSchema, type Commit, type FeatureGroup } from "@granary/proto/metadata";
import type { LogEntry } from "@granary/write-log";
import { type DuckConnection, type DuckEngine, quoteIdent, tempName } from "../duck/index.js";
import type { CommitEntry } from "../store/commit-log.js";
import { arrowOfColumnarRows } from "./columnar-rows.js";
import { writeCommit, type CommitWriterDeps } from "./commit-writer.js";
import { commitTable, insertFacts, recordReport, stageRows } from "./insert-rows.js";
import { checkRules, type RulesOutcome } from "./validation-rules.js";

export interface LogCommitDeps extends CommitWriterDeps {
  readonly engine: DuckEngine;
  /** GRANARY_MAX_FUTURE_EVENT_TIME_S, as for inserts. */
  readonly maxFutureEventTimeS?: number | undefined;
}

/** Sends a batch the group refuses to the dead letters with the reason (before the commit is written). */
export type Refuse = (entry: LogEntry, reason: string) => Promise<void>;

export interface LogCommit {
  readonly commit: Commit;
  readonly entry: CommitEntry;
  /** Rows in the commit (after duplicates of (key, event time) were resolved). */
  readonly rows: bigint;
}

/** A staged batch in the group's columns and types, duplicates resolved. */
interface Accepted {
  readonly entry: LogEntry;
  readonly table: string;
}

/**
 * One group's batches of a micro-batch from the write log as one ordinary commit, through the
 * insert path: each batch is staged and checked as an Insert's Arrow would be (columns, types,
 * event-time bounds, null keys), the batches concatenated in log order so that for a repeated
 * (key, event time) the later row wins, the validation rules run, and the commit written by
 * writeCommit with the highest log sequence of `entries` beside its files.
 *
 * A batch the group refuses (schema, a FAIL rule) goes to `refuse` with the reason before anything
 * is written, and the others still commit. A FAIL rule is judged per batch: the batches breaking it
 * on their own are refused; if the rest still breaks it together (a `unique` across batches), the
 * rest is refused with that reason. Resolves undefined when no row is left to commit.
 */
export async function commitLogEntries(
  deps: LogCommitDeps,
  project: string,
  group: FeatureGroup,
  entries: readonly LogEntry[],
  refuse: Refuse,
  signal?: AbortSignal,
): Promise<LogCommit | undefined> {
  const logSequence = entries.reduce((max, e) => (e.sequence > max ? e.sequence : max), 0n);
  const tables: string[] = [];
  const table = (prefix: string) => {
    const name = tempName(prefix);
    tables.push(name);
    return name;
  };
  return deps.engine.withConnection(async (connection) => {
    try {
      let kept: Accepted[] = [];
      for (const entry of entries) {
        if (entry.rows.rowCount === 0) continue;
        try {
          kept.push({ entry, table: await stageEntry(deps, connection, group, entry, table, signal) });
        } catch (err) {
          if (!isAboutTheRows(err)) throw err;
          await refuse(entry, err.message);
        }
      }
      for (;;) {
        if (kept.length === 0) return undefined;
        const stg = await concatenate(connection, group, kept, table("logstg"), signal);
        const facts = await insertFacts(connection, stg, group);
        const rows = await commitTable(connection, group, new Set(group.columns.map((c) => c.name)), facts, stg, table("logins"), signal);
        const outcome = await checkOrRefuse(connection, rows, group, signal);
        if (typeof outcome === "string") {
          for (const k of kept) await refuse(k.entry, outcome);
          return undefined;
        }
        if (outcome?.rejected) {
          kept = await withoutBreakers(connection, group, kept, outcome, refuse, signal);
          continue;
        }
        const written = await writeCommit(
          deps,
          connection,
          project,
          group,
          {
            kind: CommitKind.INSERT,
            table: rows,
            columns: group.columns.map((c) => c.name),
            rows: facts.distinct,
            minEventMicros: facts.minEvent,
            maxEventMicros: facts.maxEvent,
            logSequence,
            // The log itself carries these rows to every online replica.
            onlineSyncState: group.onlineEnabled ? OnlineSyncState.SYNCED : OnlineSyncState.NOT_APPLICABLE,
          },
          signal,
        );
        if (outcome) {
          const report = create(ValidationReportSchema, {
            project,
            featureGroup: { name: group.name, version: group.version },
            success: outcome.success,
            ingested: true,
            results: outcome.results,
          });
          // The commit is durable: a report that cannot be stored is logged, not retried with the rows.
          await recordReport(deps, project, group, report, written.commit.id).catch((err: unknown) =>
            deps.logger.warn({ err, commit: written.commit.id.toString() }, "could not store the validation report of a commit from the write log"),
          );
        }
        return { ...written, rows: facts.distinct };
      }
    } finally {
      if (tables.length > 0) await connection.run(tables.map((t) => `DROP TABLE IF EXISTS ${t}`).join("; ")).catch(() => undefined);
    }
  }, signal);
}

/** One batch staged as an Insert's rows are, then in the group's columns (defaults filled) with duplicates resolved. */
async function stageEntry(
  deps: LogCommitDeps,
  connection: DuckConnection,
  group: FeatureGroup,
  entry: LogEntry,
  table: (prefix: string) => string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const stg = table("logbatch");
  const ipc = arrowOfColumnarRows(entry.rows, group.columns);
  const what = `the write-log batch ${entry.sequence} for "${group.name}" version ${group.version}`;
  const staged = await stageRows(deps, connection, stg, group, once(ipc), signal, what);
  const facts = await insertFacts(connection, stg, group);
  return commitTable(connection, group, new Set(staged.columns.map((c) => c.name)), facts, stg, table("logbatchins"), signal);
}

/** The batches' rows in one table, in log order (`rowid` follows it, so the later row of a repeated key wins). */
async function concatenate(connection: DuckConnection, group: FeatureGroup, kept: readonly Accepted[], into: string, signal: AbortSignal | undefined) {
  const columns = group.columns.map((c) => quoteIdent(c.name)).join(", ");
  await connection.run(`CREATE TEMP TABLE ${into} AS SELECT ${columns} FROM ${kept[0]!.table} LIMIT 0`, signal);
  for (const k of kept) await connection.run(`INSERT INTO ${into} SELECT ${columns} FROM ${k.table}`, signal);
  return into;
}

/** The rules' outcome (undefined without rules), or why no row can be judged (a rule DuckDB cannot run). */
async function checkOrRefuse(connection: DuckConnection, table: string, group: FeatureGroup, signal: AbortSignal | undefined) {
  if (group.validationRules.length === 0) return undefined;
  try {
    return await checkRules(connection, table, group, signal);
  } catch (err) {
    if (err instanceof GranaryError && err.code === Code.FailedPrecondition) return err.message;
    throw err;
  }
}

/** Refuses the batches that break a FAIL rule on their own; all of them when none does alone. */
async function withoutBreakers(
  connection: DuckConnection,
  group: FeatureGroup,
  kept: readonly Accepted[],
  together: RulesOutcome,
  refuse: Refuse,
  signal: AbortSignal | undefined,
): Promise<Accepted[]> {
  const rest: Accepted[] = [];
  let refused = 0;
  for (const k of kept) {
    const alone = kept.length === 1 ? together : await checkRules(connection, k.table, group, signal);
    if (alone.rejected) {
      await refuse(k.entry, brokenRules(alone));
      refused++;
    } else {
      rest.push(k);
    }
  }
  if (refused > 0) return rest;
  const reason = `${brokenRules(together)} (across the batches committed together)`;
  for (const k of kept) await refuse(k.entry, reason);
  return [];
}

function brokenRules(outcome: RulesOutcome): string {
  const broken = outcome.results.filter((r) => !r.success && r.policy === ValidationPolicy.FAIL).map((r) => `rule ${r.rule} on ${r.column}: ${r.message}`);
  return `breaks validation rules with policy FAIL (${broken.join("; ")})`;
}

/** A row problem (a column, a type, a null key, an event time out of bounds): the batch's fault, refused with the reason. */
function isAboutTheRows(err: unknown): err is GranaryError {
  return err instanceof GranaryError && (err.code === Code.InvalidArgument || err.code === Code.OutOfRange);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
