import type { DataType } from "@granary/proto/types";
import { parseAssignments } from "../assignments.js";
import { UsageError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { cellText, formatTable, jsonValue, toJson } from "../output.js";
import { parseRef } from "../refs.js";

export interface GetVectorOptions {
  readonly passed: string[];
  readonly param: string[];
  readonly untransformed?: boolean;
  readonly trainingDataset?: number;
  readonly helpers?: boolean;
}

/**
 * `granary get-vector <view[:version]> key=value…`: one feature vector from the online store, in
 * the view's column order, with each value's status.
 */
export async function getVectorCommand(ctx: CommandContext, viewText: string, keys: readonly string[], options: GetVectorOptions): Promise<void> {
  const ref = parseRef(viewText, "feature view");
  const project = await ctx.project();
  const view = await project.getFeatureView(ref.name, ref.version);
  const keyTypes = new Map<string, DataType>(view.servingKeys.map((k) => [k.name, k.type!]));
  const entry = parseAssignments(keys, keyTypes, "serving key");
  const missing = view.servingKeys.filter((k) => k.required && !(k.name in entry)).map((k) => k.name);
  if (missing.length > 0)
    throw new UsageError(
      `give the serving key${missing.length > 1 ? "s" : ""} ${missing.map((k) => `${k}=…`).join(" ")} of view ${view.name} v${view.version}`,
    );
  const featureTypes = new Map<string, DataType>(view.definition.outputColumns.filter((c) => c.type).map((c) => [c.name, c.type!]));
  const paramTypes = new Map<string, DataType>(view.definition.onDemandFeatures.flatMap((f) => f.requestParameters.map((p) => [p.name, p.type!] as const)));
  const passed = parseAssignments(options.passed, featureTypes, "feature");
  const params = parseAssignments(options.param, paramTypes, "request parameter");

  const result = await view.getFeatureVectorsWithStatus([entry], {
    passedFeatures: Object.keys(passed).length > 0 ? [passed] : undefined,
    requestParameters: Object.keys(params).length > 0 ? [params] : undefined,
    untransformed: options.untransformed,
    trainingDatasetVersion: options.trainingDataset,
    includeInferenceHelpers: options.helpers,
    signal: ctx.signal,
  });
  const vector = result.rows[0] ?? {};
  const statuses = result.statuses[0] ?? {};
  if (ctx.json) {
    ctx.output.out(toJson({ feature_view: { name: view.name, version: view.version }, vector: jsonValue(vector), statuses }));
    return;
  }
  const rows = Object.entries(vector).map(([name, value]) => [name, cellText(value), statuses[name] ?? ""]);
  ctx.output.out(formatTable(["column", "value", "status"], rows));
}
