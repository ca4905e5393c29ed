import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { eventTimeBounds } from "@granary/arrow";
import { DEFAULT_MAX_FUTURE_EVENT_TIME_S } from "@granary/config";
import { InvalidArgumentError } from "@granary/errors";
import { CommitKind, CommitSchema, ValidationPolicy, ValidationReportSchema, type FeatureGroup, type ValidationReport } from "@granary/proto/metadata";
import type { InsertResponse } from "@granary/proto/offline";
import { type DuckConnection, type DuckEngine, type StagedInput, quoteIdent, valueLiteral, duckTypeSql, stageArrowInput, tempName } from "../duck/index.js";
import type { StatisticsUpdater } from "../stats/statistics-updater.js";
import type { CommitEntry } from "../store/commit-log.js";
import { writeCommit, type CommitWriterDeps } from "./commit-writer.js";
import { waitBounded } from "./bounded-wait.js";
import type { OnlinePusher } from "./online-pusher.js";
import { checkRules } from "./validation-rules.js";

export interface InsertDeps extends CommitWriterDeps {
  readonly engine: DuckEngine;
  readonly pusher: OnlinePusher;
  /** How long an insert waits for its online push and statistics before answering (they go on after). */
  readonly onlinePushWaitMs: number;
  /** Recomputes a group's statistics after each of its commits. */
  readonly statistics: StatisticsUpdater;
  /** GRANARY_MAX_FUTURE_EVENT_TIME_S; the common config's default when not given. */
  readonly maxFutureEventTimeS?: number | undefined;
  /**
   * With the write log: resolves once every batch the log holds is in history, so an Insert or
   * DeleteRows is ordered after the rows pushed before it, in history as online (LogIngester.barrier).
   */
  readonly logBarrier?: ((signal?: AbortSignal) => Promise<void>) | undefined;
}

/**
 * One insert: the Arrow stream staged in DuckDB and checked against the group's schema, converted
 * to the group's types, duplicates of (primary key, event time) resolved (the last row wins), the
 * group's validation rules run, then one commit written (see writeCommit). Then, before answering
 * (or in the background, if that takes longer than the configured wait), the group's statistics
 * are brought to the new commit when enabled, and for online-enabled groups the rows pushed online.
 */
export async function insertRows(
  deps: InsertDeps,
  project: string,
  group: FeatureGroup,
  chunks: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<InsertResponse> {
  const stg = tempName("stg");
  const ins = tempName("ins");
  await deps.logBarrier?.(signal);
  const { commit, entry, report } = await deps.engine.withConnection(async (connection) => {
    try {
      const staged = await stageRows(deps, connection, stg, group, chunks, signal);
      const facts = await insertFacts(connection, stg, group);
      const table = await commitTable(connection, group, new Set(staged.columns.map((c) => c.name)), facts, stg, ins, signal);
      const checked = await validate(deps, connection, project, group, table, signal);
      const content = {
        kind: CommitKind.INSERT,
        table,
        columns: group.columns.map((c) => c.name),
        rows: facts.distinct,
        minEventMicros: facts.minEvent,
        maxEventMicros: facts.maxEvent,
      };
      const written = await writeCommit(deps, connection, project, group, content, signal);
      return { ...written, report: checked && (await recordReport(deps, project, group, checked, written.commit.id)) };
    } finally {
      await connection.run(`DROP TABLE IF EXISTS ${stg}; DROP TABLE IF EXISTS ${ins}`).catch(() => undefined);
    }
  }, signal);

  await waitBounded(afterCommit(deps, project, group, entry), deps.onlinePushWaitMs);
  return {
    $typeName: "granary.offline.v1.InsertResponse",
    commitId: commit.id,
    rowsInserted: commit.rowsInserted,
    rowsUpdated: commit.rowsUpdated,
    validationReport: report,
  };
}

/** The primary key and the event time: what identifies a row of the group. */
export function keyColumns(group: FeatureGroup): string[] {
  return [...group.primaryKey, ...(group.eventTime ? [group.eventTime] : [])];
}

/** The Arrow stream into temporary table `table`, checked against the group's schema and event-time bounds. */
export async function stageRows(
  deps: Pick<InsertDeps, "maxFutureEventTimeS">,
  connection: DuckConnection,
  table: string,
  group: FeatureGroup,
  chunks: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
  what = `the insert into "${group.name}" version ${group.version}`,
): Promise<StagedInput> {
  const staged = await stageArrowInput(
    connection,
    table,
    chunks,
    {
      allowed: new Map(group.columns.map((c) => [c.name, c])),
      required: keyColumns(group),
      what,
      eventTime: group.eventTime
        ? { column: group.eventTime, bounds: eventTimeBounds(BigInt(Date.now()) * 1000n, deps.maxFutureEventTimeS ?? DEFAULT_MAX_FUTURE_EVENT_TIME_S) }
        : undefined,
    },
    signal,
  );
  if (staged.rows === 0) throw new InvalidArgumentError("the insert has no rows");
  return staged;
}

/**
 * The table holding the commit's content: the staged one, unless columns are missing (filled with
 * their default or null) or a (key, event time) repeats (the last row wins), which `ins` resolves.
 */
export async function commitTable(
  connection: DuckConnection,
  group: FeatureGroup,
  present: ReadonlySet<string>,
  facts: InsertFacts,
  stg: string,
  ins: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const duplicates = facts.distinct < facts.rows;
  if (!duplicates && group.columns.every((c) => present.has(c.name))) return stg;
  const last = duplicates ? ` QUALIFY row_number() OVER (PARTITION BY ${keyColumns(group).map(quoteIdent).join(", ")} ORDER BY rowid DESC) = 1` : "";
  await connection.run(`CREATE TEMP TABLE ${ins} AS SELECT ${groupColumnsSql(group, present)} FROM ${stg}${last}`, signal);
  return ins;
}

/** Every column of the group, in order: the staged ones as they are, the missing ones filled with their default or null. */
function groupColumnsSql(group: FeatureGroup, present: ReadonlySet<string>): string {
  return group.columns
    .map((c) => {
      if (present.has(c.name)) return quoteIdent(c.name);
      const fill = c.defaultValue?.kind.case ? valueLiteral(c.defaultValue, c.type!, `default of ${c.name}`) : `NULL::${duckTypeSql(c.type!)}`;
      return `${fill} AS ${quoteIdent(c.name)}`;
    })
    .join(", ");
}

/** The group's validation rules over the rows; rows breaking a FAIL rule are refused, the report stored. */
async function validate(
  deps: InsertDeps,
  connection: DuckConnection,
  project: string,
  group: FeatureGroup,
  table: string,
  signal: AbortSignal | undefined,
): Promise<ValidationReport | undefined> {
  if (group.validationRules.length === 0) return undefined;
  const outcome = await checkRules(connection, table, group, signal);
  const report = create(ValidationReportSchema, {
    project,
    featureGroup: { name: group.name, version: group.version },
    success: outcome.success,
    ingested: !outcome.rejected,
    results: outcome.results,
  });
  if (outcome.rejected) {
    const stored = await deps.metadata.createValidationReport(report);
    throw rejection(group, stored);
  }
  return report;
}

/** Stores the report of an ingested insert with its commit, and links the commit to it. */
export async function recordReport(
  deps: Pick<CommitWriterDeps, "metadata" | "commits" | "logger">,
  project: string,
  group: FeatureGroup,
  report: ValidationReport,
  commitId: bigint,
): Promise<ValidationReport> {
  report.commitId = commitId;
  const stored = await deps.metadata.createValidationReport(report);
  const link = create(CommitSchema, {
    project,
    featureGroup: { name: group.name, version: group.version },
    id: commitId,
    validationReportId: stored.id,
  });
  await deps.metadata.updateCommit(link, ["validation_report_id"]).then(
    (updated) => deps.commits.apply(updated),
    (err: unknown) => deps.logger.warn({ err, commit: commitId.toString() }, "could not link the validation report to its commit"),
  );
  return stored;
}

export interface InsertFacts {
  readonly rows: bigint;
  /** Distinct (primary key, event time) values. */
  readonly distinct: bigint;
  readonly minEvent: bigint | undefined;
  readonly maxEvent: bigint | undefined;
}

/** Counts and event-time bounds of the staged rows; a null in the key or event time refuses the insert. */
export async function insertFacts(connection: DuckConnection, table: string, group: FeatureGroup): Promise<InsertFacts> {
  const keys = keyColumns(group).map(quoteIdent);
  const et = group.eventTime ? quoteIdent(group.eventTime) : undefined;
  const micros = (e: string) => `epoch_us(${e}::TIMESTAMP)`;
  const distinct = keys.length === 1 ? `count(DISTINCT ${keys[0]})` : `count(DISTINCT (${keys.join(", ")}))`;
  const [row] = await connection.rows(
    `SELECT count(*) AS n, ${distinct} AS d, count(*) FILTER (WHERE ${keys.map((k) => `${k} IS NULL`).join(" OR ")}) AS bad` +
      (et ? `, ${micros(`min(${et})`)} AS lo, ${micros(`max(${et})`)} AS hi` : "") +
      ` FROM ${table}`,
  );
  const nullKeys = BigInt(row!.bad as bigint);
  if (nullKeys > 0n) {
    throw new InvalidArgumentError(
      `${nullKeys} rows have a null in the primary key${group.eventTime ? " or event time" : ""} (${keyColumns(group).join(", ")})`,
    );
  }
  const big = (v: unknown) => (v === null || v === undefined ? undefined : BigInt(v as bigint));
  return { rows: BigInt(row!.n as bigint), distinct: BigInt(row!.d as bigint), minEvent: big(row!.lo), maxEvent: big(row!.hi) };
}

/** What follows a commit: statistics when enabled, the online push for online-enabled groups. */
export function afterCommit(deps: InsertDeps, project: string, group: FeatureGroup, entry: CommitEntry): Promise<unknown>[] {
  const work: Promise<unknown>[] = [];
  if (group.statisticsConfig?.enabled) work.push(deps.statistics.refresh(project, group.name, group.version));
  if (group.onlineEnabled) work.push(deps.pusher.push(project, group, entry));
  return work;
}

function rejection(group: FeatureGroup, report: ValidationReport): ConnectError {
  const broken = report.results.filter((r) => !r.success && r.policy === ValidationPolicy.FAIL).map((r) => `${r.rule} on ${r.column}: ${r.message}`);
  // The report travels in the standard error details (google.rpc.Status in grpc-status-details-bin):
  // connect-es reads it with err.findDetails(ValidationReportSchema), grpcio with rpc_status.from_call.
  return new ConnectError(
    `the insert into "${group.name}" version ${group.version} breaks validation rules with policy FAIL (${broken.join("; ")}); nothing was written; validation report ${report.id}`,
    Code.FailedPrecondition,
    undefined,
    [{ desc: ValidationReportSchema, value: report }],
  );
}
