import { metrics, type Attributes } from "@opentelemetry/api";
import { inSpanSync, lazily } from "@granary/telemetry";
import type { StoredRow } from "./store/online-store.js";
import type { ViewPlan } from "./vectors/view-plan.js";

// Labels are catalogue names (project, view, group), never entity keys: their count is the
// catalogue's size. The freshness map is bounded all the same.
const MAX_GROUPS = 10_000;

/** Newest event time written per (project, feature group), observed by the freshness gauge. */
const newest = new Map<string, { readonly attributes: Attributes; micros: bigint }>();

/** Lookups and entities per feature view, added up here and read by the SDK at collection. */
interface ViewCounts {
  readonly attributes: Attributes;
  lookups: number;
  entities: number;
}

const viewCounts = new Map<string, ViewCounts>();
const countsOfPlan = new WeakMap<ViewPlan, ViewCounts>();

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
  // Observable counters: a lookup adds to two numbers, and the SDK reads the totals when it
  // collects; a synchronous counter's add (attribute hashing per call) cost more than the rest of
  // the telemetry of a lookup.
  meter
    .createObservableCounter("granary.online.lookups", { unit: "{lookup}", description: "Feature-vector lookups (one per request) per feature view" })
    .addCallback((result) => {
      for (const c of viewCounts.values()) result.observe(c.lookups, c.attributes);
    });
  meter
    .createObservableCounter("granary.online.lookup.entities", { unit: "{entity}", description: "Entities looked up per feature view" })
    .addCallback((result) => {
      for (const c of viewCounts.values()) result.observe(c.entities, c.attributes);
    });
  return {
    rows: meter.createCounter("granary.online.rows", {
      unit: "{row}",
      description: "Rows written to the online store per feature group; granary.write.result: written or ignored (older than the stored row)",
    }),
  };
});

/** The counts of a plan's view; a plan rebuilt after a catalogue change finds the same ones. */
function countsOf(project: string, plan: ViewPlan): ViewCounts {
  let counts = countsOfPlan.get(plan);
  if (counts) return counts;
  instruments();
  const key = `${project}\u0000${plan.view.name}\u0000${plan.view.version}`;
  counts = viewCounts.get(key);
  if (!counts) {
    counts = {
      attributes: { "granary.project": project, "granary.feature_view": plan.view.name, "granary.feature_view.version": plan.view.version },
      lookups: 0,
      entities: 0,
    };
    if (viewCounts.size < MAX_GROUPS) viewCounts.set(key, counts);
  }
  countsOfPlan.set(plan, counts);
  return counts;
}

/**
 * A lookup of a batch of entities: the synchronous LMDB reads of every group of the view, in an
 * `lmdb.read` span under the call's, counted per feature view.
 */
export function lookupInSpan<T>(project: string, plan: ViewPlan, entities: number, read: () => T): T {
  const counts = countsOf(project, plan);
  counts.lookups++;
  counts.entities += entities;
  return inSpanSync("granary.online", "lmdb.read", counts.attributes, (span) => {
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
