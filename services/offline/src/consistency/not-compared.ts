import type { ViewPlan } from "../training/view-plan.js";

/**
 * The view's columns the check cannot compare, with the reason: on-demand features lacking a
 * request parameter, and features of an offline-only root group (online never looks the root up:
 * the caller passes those values), with the on-demand features that read either.
 */
export function notComparedFeatures(plan: ViewPlan, givenParameters: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  const root = plan.nodes[0]!;
  if (!root.group.onlineEnabled) {
    const keys = new Set(plan.view.servingKeys.map((k) => k.name));
    for (const { output } of root.outputs) {
      if (!keys.has(output.name)) out.set(output.name, `from the offline-only root group "${root.group.name}": online takes it as a passed feature`);
    }
  }
  for (const f of plan.view.onDemandFeatures) {
    const missing = f.requestParameters.filter((p) => !givenParameters.has(p.name)).map((p) => p.name);
    if (missing.length > 0) {
      out.set(f.name, `needs request parameter${missing.length === 1 ? "" : "s"} ${missing.join(", ")}, not given`);
      continue;
    }
    const reads = [...out.keys()].filter((name) => new RegExp(`\\b${name}\\b`).test(f.expression));
    if (reads.length > 0) out.set(f.name, `reads ${reads.join(", ")}, not compared`);
  }
  return out;
}
