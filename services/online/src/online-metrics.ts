import { metrics, type Attributes } from "@opentelemetry/api";
import { inSpanSync, lazily } from "@granary/telemetry";
import type { StoredRow } from "./store/online-store.js";
import type { ViewPlan } from "./vectors/view-plan.js";

// Labels are catalogue names (project, view, group), never entity keys: their count is the
// catalogue's size. The freshness map is bounded all the same.
const MAX_GROUPS = 10_000;

/** Newest event time written per (project, feature group), observed by the freshness gauge. */
const newest = new Map<string, { readonly attributes: Attributes; micros: bigint }>();

const instruments = lazily(() => {
  const meter = metrics.getMeter("granary.online");
  meter
    .createObservableGauge("granary.online.newest_event_time", {
      unit: "s",
      description: "Event time of the newest row written to the online store per feature group, unix seconds: freshness is now minus this",
    })
    .addCallback((result) => {
      for (const { attributes, micros } of newest.values()) result.observe(Number(micros / 1000n) / 1000, attributes);
    });
  return {
    lookups: meter.createCounter("granary.online.lookups", { unit: "{lookup}", description: "Feature-vector lookups (one per request) per feature view" }),
    entities: meter.createCounter("granary.online.lookup.entities", { unit: "{entity}", description: "Entities looked up per feature view" }),
    rows: meter.createCounter("granary.online.rows", {
      unit: "{row}",
      description: "Rows written to the online store per feature group; granary.write.result: written or ignored (older than the stored row)",
    }),
  };
});

const viewAttributes = new WeakMap<ViewPlan, Attributes>();

function attributesOf(project: string, plan: ViewPlan): Attributes {
  let attributes = viewAttributes.get(plan);
  if (!attributes) {
    attributes = { "granary.project": project, "granary.feature_view": plan.view.name, "granary.feature_view.version": plan.view.version };
    viewAttributes.set(plan, attributes);
  }
  return attributes;
}

/**
 * A lookup of a batch of entities: the synchronous LMDB reads of every group of the view, in an
 * `lmdb.read` span under the call's, counted per feature view.
 */
export function lookupInSpan<T>(project: string, plan: ViewPlan, entities: number, read: () => T): T {
  const attributes = attributesOf(project, plan);
  const { lookups, entities: looked } = instruments();
  lookups.add(1, attributes);
  looked.add(entities, attributes);
  return inSpanSync("granary.online", "lmdb.read", attributes, (span) => {
    span.setAttribute("granary.entities", entities);
    return read();
  });
}

/** Counts a write of a group's rows and moves its newest event time forward. */
export function recordWrite(project: string, group: { name: string; version: number }, rows: readonly StoredRow[], written: number, ignored: number): void {
  const attributes = { "granary.project": project, "granary.feature_group": group.name, "granary.feature_group.version": group.version };
  const { rows: counter } = instruments();
  counter.add(written, { ...attributes, "granary.write.result": "written" });
  if (ignored > 0) counter.add(ignored, { ...attributes, "granary.write.result": "ignored" });
  if (rows.length === 0 || written === 0) return;
  let max = rows[0]!.eventMicros;
  for (const row of rows) if (row.eventMicros > max) max = row.eventMicros;
  const key = `${project}\u0000${group.name}\u0000${group.version}`;
  const seen = newest.get(key);
  if (seen) {
    if (max > seen.micros) seen.micros = max;
  } else if (newest.size < MAX_GROUPS) {
    newest.set(key, { attributes, micros: max });
  }
}
