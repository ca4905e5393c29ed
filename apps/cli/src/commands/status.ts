import { ConnectError } from "@connectrpc/connect";
import { SERVICE_NAMES, type Granary } from "@granary/client";
import type { GetReplicaStatusResponse } from "@granary/proto/online";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { formatTable, toJson } from "../output.js";

/** Where the online replica stands in the write log, or why that is not known. */
export type WriteLogPosition =
  | {
      readonly replica: string;
      readonly log: string;
      readonly appliedSequence: bigint;
      readonly logSequence: bigint;
      readonly lag: bigint;
      readonly withinBound: boolean;
    }
  | { readonly error: string };

/**
 * `granary status`: the health of the four services, and the online replica's position in the write
 * log; fails unless every service is SERVING.
 */
export async function statusCommand(ctx: CommandContext): Promise<void> {
  const timeoutMs = ctx.options.timeout ?? 2_000;
  const report = await ctx.granary.health(timeoutMs);
  // Only a replica that answers health can say where it stands.
  const writeLog = report.online.status === "UNREACHABLE" ? undefined : await writeLogPosition(ctx.granary, timeoutMs, ctx.signal);
  if (ctx.json) {
    ctx.output.out(toJson(writeLog ? { ...report, online: { ...report.online, write_log: writeLogJson(writeLog) } } : report));
  } else {
    ctx.output.out(
      formatTable(
        ["service", "address", "status"],
        SERVICE_NAMES.map((n) => [n, report[n].address, report[n].error ? `${report[n].status} (${report[n].error})` : report[n].status]),
      ),
    );
    if (writeLog) ctx.output.out(`\n${describeWriteLog(writeLog)}`);
  }
  const down = SERVICE_NAMES.filter((n) => report[n].status !== "SERVING");
  if (down.length > 0) {
    const behind = writeLog && "lag" in writeLog && !writeLog.withinBound ? `; the online replica is ${writeLog.lag} messages behind the write log` : "";
    throw new CliError(
      `${down.length} of ${SERVICE_NAMES.length} services ${down.length === 1 ? "is" : "are"} not serving: ${down.join(", ")}${down.length === SERVICE_NAMES.length ? " (is the suite running? npm start)" : ""}${behind}`,
    );
  }
}

/** GetReplicaStatus of the online service (the replica the address reaches), never throwing. */
export async function writeLogPosition(granary: Granary, timeoutMs: number, signal?: AbortSignal): Promise<WriteLogPosition> {
  try {
    const s: GetReplicaStatusResponse = await granary.services.online.getReplicaStatus({}, { timeoutMs, signal });
    return { replica: s.replica, log: s.log, appliedSequence: s.appliedSequence, logSequence: s.logSequence, lag: s.lag, withinBound: s.withinBound };
  } catch (err) {
    return { error: ConnectError.from(err).message };
  }
}

/** One line: "online write log: jetstream, replica online-0: applied 1240 of 1242, lag 2 (within bound)". */
export function describeWriteLog(position: WriteLogPosition): string {
  if ("error" in position) return `online write log: not known (${position.error})`;
  if (position.log === "none") return "online write log: none (GRANARY_NATS_URL is not set on the online service: writes go to its store directly)";
  const bound = position.withinBound ? "within bound" : "over GRANARY_ONLINE_MAX_LAG: the replica is not ready until it catches up";
  const replica = position.replica ? `, replica ${position.replica}` : "";
  return `online write log: ${position.log}${replica}: applied ${position.appliedSequence} of ${position.logSequence}, lag ${position.lag} (${bound})`;
}

function writeLogJson(position: WriteLogPosition) {
  if ("error" in position) return { error: position.error };
  if (position.log === "none") return { log: "none" };
  return {
    log: position.log,
    replica: position.replica,
    applied_sequence: position.appliedSequence,
    log_sequence: position.logSequence,
    lag: position.lag,
    within_bound: position.withinBound,
  };
}
