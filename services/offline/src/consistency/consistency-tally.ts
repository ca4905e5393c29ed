import { create } from "@bufbuild/protobuf";
import type { PlainValue } from "@granary/cel";
import {
  ConsistencyExampleSchema,
  ConsistencyReportSchema,
  FeatureConsistencySchema,
  MissingEntitiesSchema,
  type ConsistencyExample,
  type ConsistencyReport,
  type FeatureConsistency,
  type MissingEntities,
} from "@granary/proto/offline";
import { ValueStatus, type DataType } from "@granary/proto/types";
import { valueOf } from "./column-values.js";
import { sameValue, type Tolerance } from "./compare-values.js";
import type { ValueColumn } from "./entities.js";

/** One side's value of a feature for one entity. */
export interface SideValue {
  readonly value: PlainValue | null;
  readonly status: ValueStatus;
}

/** A feature the check reads, or the reason it cannot compare it. */
export interface CheckedFeature {
  readonly name: string;
  readonly type: DataType;
  readonly notCompared?: string | undefined;
}

/** Counts and a few examples, kept as entities are compared batch by batch. */
export class ConsistencyTally {
  readonly #features: { spec: CheckedFeature; result: FeatureConsistency }[];
  readonly #maxExamples: number;
  readonly #tolerance: Tolerance;
  readonly missingOnline: MissingEntities = create(MissingEntitiesSchema);
  readonly missingOffline: MissingEntities = create(MissingEntitiesSchema);
  missingBoth = 0n;
  checked = 0n;
  compared = 0n;
  mismatchedEntities = 0n;
  mismatches = 0n;
  onlineAhead = 0n;

  constructor(features: readonly CheckedFeature[], tolerance: Tolerance, maxExamples: number) {
    this.#features = features.map((spec) => ({
      spec,
      result: create(FeatureConsistencySchema, { name: spec.name, type: spec.type, notComparedReason: spec.notCompared ?? "" }),
    }));
    this.#tolerance = tolerance;
    this.#maxExamples = maxExamples;
  }

  get features(): readonly CheckedFeature[] {
    return this.#features.map((f) => f.spec);
  }

  /** An entity found on at most one side: counted, not compared. */
  missing(key: () => ConsistencyExample["entity"], online: boolean, offline: boolean): void {
    this.checked++;
    if (!online && !offline) {
      this.missingBoth++;
      return;
    }
    const side = online ? this.missingOffline : this.missingOnline;
    side.count++;
    if (side.examples.length < this.#maxExamples)
      side.examples.push(
        create(ConsistencyExampleSchema, {
          entity: key(),
          onlineStatus: online ? ValueStatus.PRESENT : ValueStatus.NOT_FOUND,
          offlineStatus: offline ? ValueStatus.PRESENT : ValueStatus.NOT_FOUND,
        }),
      );
  }

  /** An entity found on both sides, feature by feature (`value(name)` gives both sides' values). */
  compare(key: () => ConsistencyExample["entity"], value: (name: string) => { online: SideValue; offline: SideValue }, ahead: boolean): void {
    this.checked++;
    this.compared++;
    if (ahead) this.onlineAhead++;
    let mismatched = false;
    for (const { spec, result } of this.#features) {
      if (spec.notCompared) continue;
      const { online, offline } = value(spec.name);
      result.compared++;
      if (sameValue(spec.type, online.value, offline.value, this.#tolerance)) continue;
      mismatched = true;
      result.mismatches++;
      this.mismatches++;
      if (result.examples.length < this.#maxExamples) {
        result.examples.push(
          create(ConsistencyExampleSchema, {
            entity: key(),
            onlineValue: valueOf(spec.type, online.value),
            offlineValue: valueOf(spec.type, offline.value),
            onlineStatus: online.status,
            offlineStatus: offline.status,
          }),
        );
      }
    }
    if (mismatched) this.mismatchedEntities++;
  }

  report(fields: Pick<ConsistencyReport, "featureView" | "asOfTime" | "modelVersion" | "trainingDatasetVersion">): ConsistencyReport {
    return create(ConsistencyReportSchema, {
      ...fields,
      entitiesChecked: this.checked,
      entitiesCompared: this.compared,
      entitiesMismatched: this.mismatchedEntities,
      mismatches: this.mismatches,
      missingOnline: this.missingOnline,
      missingOffline: this.missingOffline,
      missingBoth: this.missingBoth,
      onlineRowsAhead: this.onlineAhead,
      features: this.#features.map((f) => f.result),
    });
  }
}

/** The serving key of entity i, for examples. */
export function entityKey(keys: readonly ValueColumn[], i: number): ConsistencyExample["entity"] {
  return keys.map(
    (k) =>
      ({ $typeName: "granary.offline.v1.EntityKeyPart", name: k.name, value: valueOf(k.type, k.values[i] ?? null) }) as ConsistencyExample["entity"][number],
  );
}
