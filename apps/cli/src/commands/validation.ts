import { ValidationPolicy, type ValidationReport } from "@granary/proto/metadata";
import type { CommandContext } from "../context.js";
import { cellText, formatCount, formatTable, toJson } from "../output.js";
import { parseRef } from "../refs.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Value } from "@granary/proto/types";
import { timeText } from "./list.js";

export interface ValidationOptions {
  readonly limit?: number;
}

const policyText = (p: ValidationPolicy) => (p === ValidationPolicy.WARN ? "warn" : "fail");

/** `granary validation <group[:version]> [--limit N]`: the latest validation reports of a feature group, newest first. */
export async function validationCommand(ctx: CommandContext, groupText: string, options: ValidationOptions): Promise<void> {
  const ref = parseRef(groupText, "feature group");
  const project = await ctx.project();
  const group = await project.getFeatureGroup(ref.name, ref.version);
  const limit = options.limit ?? 5;
  const { metadata, unary } = ctx.granary.services;
  const res = await metadata.listValidationReports(
    { project: project.name, featureGroup: { name: group.name, version: group.version }, pageSize: limit },
    unary(),
  );
  const reports = res.reports.slice(0, limit);
  if (ctx.json) {
    ctx.output.out(toJson({ feature_group: { name: group.name, version: group.version }, reports: reports.map(reportJson) }));
    return;
  }
  const label = `${group.name} v${group.version}`;
  if (group.definition.validationRules.length === 0 && reports.length === 0) {
    ctx.output.out(`${label} has no validation rules (declare validation_rules in its YAML and granary apply it)`);
    return;
  }
  if (reports.length === 0) {
    ctx.output.out(`${label}: no validation reports yet (one is written at each insert)`);
    return;
  }
  const blocks = reports.map((r) => {
    const failed = r.results.filter((x) => !x.success);
    const head = `${timeText(r.createTime)}  commit ${r.commitId || "none"}  ${r.success ? "passed" : `${failed.length} of ${r.results.length} rules failed`}${r.ingested ? "" : "  (rows refused, nothing written)"}`;
    const table = formatTable(
      ["rule", "column", "policy", "result", "unexpected", "examples"],
      r.results.map((x) => [
        x.rule,
        x.column,
        policyText(x.policy),
        x.success ? "ok" : "FAILED",
        `${formatCount(Number(x.unexpectedCount))} of ${formatCount(Number(x.evaluatedCount))}`,
        x.unexpectedExamples
          .slice(0, 3)
          .map((v) => cellText(plainValue(v)))
          .join(", ") || x.message,
      ]),
    );
    return `${head}\n${table
      .split("\n")
      .map((l) => `  ${l}`)
      .join("\n")}`;
  });
  ctx.output.out([`validation reports of ${label}, newest first:`, ...blocks].join("\n\n"));
}

function reportJson(r: ValidationReport) {
  return {
    created: timeText(r.createTime) || null,
    commit: r.commitId ? r.commitId.toString() : null,
    success: r.success,
    ingested: r.ingested,
    results: r.results.map((x) => ({
      rule: x.rule,
      column: x.column,
      policy: policyText(x.policy),
      success: x.success,
      evaluated: Number(x.evaluatedCount),
      unexpected: Number(x.unexpectedCount),
      examples: x.unexpectedExamples.map(plainValue),
      message: x.message,
    })),
  };
}

/** An example value of a report as JSON-able data. */
function plainValue(value: Value): unknown {
  const { kind } = value;
  switch (kind.case) {
    case undefined:
      return null;
    case "timestampValue":
      return timestampDate(kind.value);
    case "dateValue":
      return new Date(kind.value * 86_400_000).toISOString().slice(0, 10);
    case "listValue":
      return kind.value.values.map(plainValue);
    default:
      return kind.value;
  }
}
