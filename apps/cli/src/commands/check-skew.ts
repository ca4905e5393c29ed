import { consistencySummary, type ConsistencyResult, type Row } from "@granary/client";
import type { DataType } from "@granary/proto/types";
import { parseAssignments } from "../assignments.js";
import { CliError, UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { cellText, formatTable, jsonValue, toJson } from "../output.js";
import { createProgress } from "../progress.js";
import { parseRef } from "../refs.js";

export interface CheckSkewOptions {
  readonly sample?: number;
  readonly seed?: number;
  readonly entity: string[];
  readonly param: string[];
  readonly asOf?: string;
  readonly tolerance?: number;
  readonly absTolerance?: number;
  readonly model?: string;
  readonly examples?: number;
}

/**
 * `granary check-skew <view[:version]>`: compares the view's online vectors with its point-in-time
 * rows offline for a sample of entities (or the given ones), prints a table per feature and
 * exits 1 when any compared value differs.
 */
export async function checkSkewCommand(ctx: CommandContext, viewText: string, options: CheckSkewOptions): Promise<void> {
  const ref = parseRef(viewText, "feature view");
  const asOf = options.asOf === undefined ? undefined : new Date(options.asOf);
  if (asOf && Number.isNaN(asOf.getTime())) throw new UsageError(`--as-of "${options.asOf}" is not an ISO-8601 time`);
  if (options.sample !== undefined && options.entity.length > 0) throw new UsageError("give --sample or --entity, not both");
  const model = options.model === undefined ? undefined : parseModel(options.model);
  const project = await ctx.project();
  const view = await project.getFeatureView(ref.name, ref.version);
  const keyTypes = new Map<string, DataType>(view.servingKeys.map((k) => [k.name, k.type!]));
  const entities: Row[] = options.entity.map((e) => parseAssignments(e.split(","), keyTypes, "serving key"));
  const paramTypes = new Map<string, DataType>(view.definition.onDemandFeatures.flatMap((f) => f.requestParameters.map((p) => [p.name, p.type!] as const)));
  const params = parseAssignments(options.param, paramTypes, "request parameter");

  const progress = createProgress(ctx.output, { label: `${view.name} v${view.version}`, total: options.sample });
  let result: ConsistencyResult;
  try {
    result = await view.checkConsistency({
      sample: options.sample,
      seed: options.seed,
      entities: entities.length > 0 ? entities : undefined,
      asOf,
      tolerance:
        options.tolerance !== undefined || options.absTolerance !== undefined ? { relative: options.tolerance, absolute: options.absTolerance } : undefined,
      requestParameters: Object.keys(params).length > 0 ? params : undefined,
      model,
      maxExamples: options.examples,
      onProgress: (checked) => progress.update(checked, checked),
      signal: ctx.signal,
    });
  } finally {
    progress.stop();
  }
  if (ctx.json) ctx.output.out(toJson(jsonValue(result)));
  else ctx.output.out(render(result));
  if (!result.consistent) {
    throw new CliError(
      `${result.mismatches} value${result.mismatches === 1 ? "" : "s"} differ online and offline in ${result.entitiesMismatched} of ${result.entitiesCompared} entities of ${view.name} v${view.version}`,
    );
  }
}

function render(r: ConsistencyResult): string {
  const [headline, totals] = consistencySummary(r).split("\n");
  const features = formatTable(
    ["feature", "type", "compared", "mismatches", "note"],
    r.features.map((f) => [
      f.name,
      f.type,
      String(f.compared),
      f.notCompared ? "-" : String(f.mismatches),
      f.notCompared ? `not compared: ${f.notCompared}` : "",
    ]),
  );
  const parts = [headline!, totals!.trim(), "", features];
  for (const f of r.features.filter((x) => x.mismatches > 0)) {
    parts.push("", `${f.name}: ${f.mismatches} of ${f.compared} differ`);
    parts.push(
      formatTable(
        ["entity", "online", "offline", "online status", "offline status"],
        f.examples.map((e) => [entityText(e.entity), cellText(e.online), cellText(e.offline), e.onlineStatus, e.offlineStatus]),
      ),
    );
  }
  for (const [side, missing] of [
    ["online", r.missingOnline],
    ["offline", r.missingOffline],
  ] as const) {
    if (missing.count > 0) parts.push("", `missing ${side} (not compared): ${missing.count}, e.g. ${missing.examples.map(entityText).join("; ")}`);
  }
  return parts.join("\n");
}

/** `name:version` or `name@alias`; a bare name means the alias production. */
function parseModel(text: string): { name: string; version?: number; alias?: string } {
  const at = text.indexOf("@");
  if (at >= 0) {
    const alias = text.slice(at + 1);
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(alias)) throw new UsageError(`--model "${text}": the alias must be lower-case letters, digits and _`);
    return { name: parseRef(text.slice(0, at), "model").name, alias };
  }
  const ref = parseRef(text, "model");
  return ref.version ? { name: ref.name, version: ref.version } : { name: ref.name, alias: "production" };
}

function entityText(entity: Row): string {
  return Object.entries(entity)
    .map(([k, v]) => `${k}=${cellText(v)}`)
    .join(",");
}
