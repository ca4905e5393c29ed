import { ConnectError } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ValidationPolicy, ValidationReportSchema, type ValidationReport } from "@granary/proto/metadata";
import type { Value } from "@granary/proto/types";
import type { Services } from "./services.js";
import type { FeatureValue } from "./values.js";

/**
 * The validation report of an insert refused by a FAIL rule (FAILED_PRECONDITION), read from the
 * error's standard details; undefined for any other error.
 *
 *     try { await group.insert(rows) } catch (err) { const report = validationReportOf(err) }
 */
export function validationReportOf(err: unknown): ValidationReport | undefined {
  return err instanceof ConnectError ? err.findDetails(ValidationReportSchema)[0] : undefined;
}

/** A stored validation report as a plain object: the outcome of a group's rules on one insert. */
export interface ValidationReportEntry {
  readonly id: string;
  /** The commit the insert made; undefined when a FAIL rule refused it. */
  readonly commitId: bigint | undefined;
  /** False when any rule broke (a broken WARN rule still writes the rows). */
  readonly success: boolean;
  /** False when a FAIL rule broke and nothing was written. */
  readonly ingested: boolean;
  readonly createTime: Date | undefined;
  readonly results: readonly ValidationRuleResult[];
}

export interface ValidationRuleResult {
  readonly rule: string;
  readonly column: string;
  readonly policy: "fail" | "warn" | undefined;
  readonly success: boolean;
  readonly evaluatedCount: number;
  readonly unexpectedCount: number;
  /** A few of the offending values. */
  readonly unexpectedExamples: readonly FeatureValue[];
  readonly message: string;
}

/** A ValidationReport message (an insert's, or validationReportOf's) as a plain object. */
export function plainValidationReport(report: ValidationReport): ValidationReportEntry {
  return {
    id: report.id,
    commitId: report.commitId === 0n ? undefined : report.commitId,
    success: report.success,
    ingested: report.ingested,
    createTime: report.createTime ? timestampDate(report.createTime) : undefined,
    results: report.results.map((r) => ({
      rule: r.rule,
      column: r.column,
      policy: r.policy === ValidationPolicy.FAIL ? "fail" : r.policy === ValidationPolicy.WARN ? "warn" : undefined,
      success: r.success,
      evaluatedCount: Number(r.evaluatedCount),
      unexpectedCount: Number(r.unexpectedCount),
      unexpectedExamples: r.unexpectedExamples.map(featureValueOf),
      message: r.message,
    })),
  };
}

/** The validation reports of a group version, newest first, at most `limit` (default 20). */
export async function listValidationReports(
  services: Services,
  project: string,
  group: { name: string; version: number },
  options: { limit?: number; signal?: AbortSignal } = {},
): Promise<ValidationReportEntry[]> {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number of reports, got ${limit}`);
  const out: ValidationReportEntry[] = [];
  let pageToken = "";
  do {
    const res = await services.metadata.listValidationReports(
      { project, featureGroup: group, pageSize: Math.min(limit - out.length, 1000), pageToken },
      services.unary(options.signal),
    );
    out.push(...res.reports.map(plainValidationReport));
    pageToken = res.nextPageToken;
  } while (pageToken && out.length < limit);
  return out.slice(0, limit);
}

/** A Value message as the SDK's values are (int64 as number when it fits, timestamps and dates as Date). */
export function featureValueOf(value: Value): FeatureValue {
  const { kind } = value;
  switch (kind.case) {
    case undefined:
      return null;
    case "int64Value":
      return kind.value >= BigInt(Number.MIN_SAFE_INTEGER) && kind.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(kind.value) : kind.value;
    case "timestampValue":
      return timestampDate(kind.value);
    case "dateValue":
      return new Date(kind.value * 86_400_000);
    case "listValue":
      return kind.value.values.map(featureValueOf);
    default:
      return kind.value;
  }
}
