import { create } from "@bufbuild/protobuf";
import { isCelError } from "@bufbuild/cel";
import { fromCel, toCel, type PlainValue } from "@granary/cel";
import type { FittedTransformation } from "@granary/transformations";
import { ColumnRole } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType, ValueStatus, type DataType } from "@granary/proto/types";
import { KeyEncoder, type KeyValue } from "../store/key-codec.js";
import type { OnlineStore } from "../store/online-store.js";
import { decodeCell, decodeRowInto, type CellSink, type CellValue } from "../store/row-codec.js";
import { ColumnBuilder } from "./column-builder.js";
import type { ColumnReader } from "./column-reader.js";
import type { LookupResult } from "./encode-vectors.js";
import type { ViewPlan } from "./view-plan.js";

export interface LookupInput {
  readonly rowCount: number;
  readonly servingKeys: ReadonlyMap<string, ColumnReader>;
  readonly passedFeatures: ReadonlyMap<string, ColumnReader>;
  readonly requestParameters: ReadonlyMap<string, ColumnReader>;
  readonly includeEventTimes: boolean;
  readonly includeInferenceHelpers: boolean;
  /** Fitted transformations by output column; undefined returns untransformed values. */
  readonly transformations: ReadonlyMap<string, FittedTransformation> | undefined;
  readonly nowMicros: bigint;
}

/** Remembers the current row's values of columns later steps take their keys from. */
class CaptureSink {
  value: CellValue = null;
  constructor(
    readonly type: DataType,
    readonly forward: CellSink | undefined,
  ) {}
  reset(): void {
    this.value = null;
  }
  get sink(): CellSink {
    return {
      value: (row, buf, offset, length) => {
        this.value = decodeCell(this.type, buf, offset);
        this.forward?.value(row, buf, offset, length);
      },
      missing: (row) => {
        this.value = null;
        this.forward?.missing(row);
      },
    };
  }
}

/**
 * Feature vectors for a batch of entities: per entity, each group of the view is read by key
 * (keys of nested joins come from rows read before), values land in typed columns with a status
 * each, then passed features, on-demand features and transformations are applied.
 */
export function lookupVectors(plan: ViewPlan, store: Pick<OnlineStore, "get">, input: LookupInput): LookupResult {
  const n = input.rowCount;
  const builders = plan.outputs.map((o) => new ColumnBuilder(o.column.type!, n));
  const captures = plan.steps.map((step) => new Map(step.capturedColumns.map((c) => [c, new CaptureSink(step.types[c]!, undefined)])));
  const sinks: (CellSink | undefined)[][] = plan.steps.map((step, s) =>
    step.types.map((_, c) => {
      const slot = step.outputSlots[c]!;
      const builder = slot >= 0 ? builders[slot] : undefined;
      const capture = captures[s]!.get(c);
      if (!capture) return builder;
      (capture as { forward: CellSink | undefined }).forward = builder;
      return capture.sink;
    }),
  );
  const stepSlots = plan.steps.map((step) => [...step.outputSlots].filter((slot) => slot >= 0));
  const eventTimes = plan.steps.map(() => (input.includeEventTimes ? new BigInt64Array(n) : undefined));
  const keyValues: (KeyValue | null)[][] = plan.steps.map((step) => new Array(step.keySources.length).fill(null));
  const found: boolean[] = new Array(plan.steps.length).fill(false);
  const encoder = new KeyEncoder();

  for (let r = 0; r < n; r++) {
    for (let s = 0; s < plan.steps.length; s++) {
      const step = plan.steps[s]!;
      const parts = keyValues[s]!;
      let complete = true;
      for (let p = 0; p < step.keySources.length; p++) {
        const src = step.keySources[p]!;
        let v: CellValue = null;
        if (src.kind === "serving") v = input.servingKeys.get(src.name)?.(r) ?? null;
        else if (src.kind === "key") v = found[src.step] || !plan.steps[src.step]!.group.onlineEnabled ? (keyValues[src.step]![src.part] ?? null) : null;
        else v = input.servingKeys.get(src.servingName)?.(r) ?? (found[src.step] ? captures[src.step]!.get(src.column)!.value : null);
        parts[p] = v as KeyValue | null;
        if (v === null) complete = false;
      }
      for (const { part, slot } of step.keySlots) if (parts[part] !== null) builders[slot]!.set(r, parts[part]!);
      found[s] = false;
      for (const capture of captures[s]!.values()) capture.reset();
      if (!complete || !step.group.onlineEnabled) continue;
      encoder.begin(step.group.id);
      for (let p = 0; p < parts.length; p++) encoder.add(step.keyTypes[p]!, parts[p]!);
      const raw = store.get(encoder.view());
      if (raw === undefined) continue;
      const eventMicros = decodeRowInto(raw, step.types, sinks[s]!, r, step.defaults);
      if (step.ttlMicros !== undefined && eventMicros < input.nowMicros - step.ttlMicros) {
        for (const slot of stepSlots[s]!) builders[slot]!.mark(r, ValueStatus.EXPIRED);
        for (const capture of captures[s]!.values()) capture.reset();
        continue;
      }
      found[s] = true;
      const times = eventTimes[s];
      if (times) times[r] = eventMicros;
    }
  }

  plan.outputs.forEach((o, slot) => {
    const passed = input.passedFeatures.get(o.column.name);
    if (passed) for (let r = 0; r < n; r++) builders[slot]!.set(r, passed(r));
  });
  for (const odf of plan.onDemand) evaluateOnDemand(odf, builders, input, n);

  const columns: { name: string; builder: ColumnBuilder }[] = [];
  for (let slot = 0; slot < plan.outputs.length; slot++) {
    const column = plan.outputs[slot]!.column;
    if (column.role === ColumnRole.INFERENCE_HELPER && !input.includeInferenceHelpers) continue;
    const fitted = input.transformations?.get(column.name);
    columns.push({ name: column.name, builder: fitted ? transform(fitted, builders[slot]!, n) : builders[slot]! });
  }
  const eventTimeColumns = input.includeEventTimes
    ? plan.steps.map((step, s) => ({ name: step.group.name, version: step.group.version, micros: eventTimes[s]! }))
    : [];
  return { rowCount: n, columns, eventTimes: eventTimeColumns };
}

function evaluateOnDemand(odf: ViewPlan["onDemand"][number], builders: ColumnBuilder[], input: LookupInput, n: number): void {
  const out = builders[odf.slot]!;
  const bindings: Record<string, unknown> = {};
  for (let r = 0; r < n; r++) {
    let complete = true;
    for (const [name, slot] of odf.inputs) {
      const b = builders[slot]!;
      const v = b.get(r);
      bindings[name] = v === null ? null : toCel(b.type, v as PlainValue);
    }
    for (const [name, type] of odf.parameters) {
      const v = input.requestParameters.get(name)?.(r) ?? null;
      if (v === null) complete = false;
      else bindings[name] = toCel(type, v as PlainValue);
    }
    if (!complete || odf.expression.inputs.size === 0) {
      out.set(r, null);
      continue;
    }
    // Inputs the expression does not read may be null; a null it reads, or a runtime error such as
    // a division by zero, makes the result null.
    const result = odf.expression.evaluate(bindings as never);
    out.set(r, isCelError(result) ? null : safeFromCel(odf.expression.output, result));
  }
}

function safeFromCel(type: DataType, value: unknown): CellValue {
  try {
    if (value === null || value === undefined) return null;
    return fromCel(type, value) as CellValue;
  } catch {
    return null;
  }
}

const DOUBLE = create(DataTypeSchema, { scalar: ScalarType.DOUBLE });
const INT64 = create(DataTypeSchema, { scalar: ScalarType.INT64 });
const FLOAT_LIST = create(DataTypeSchema, { scalar: ScalarType.FLOAT, list: true });

/** The transformed copy of a column; the fetched values are never changed in place. */
function transform(fitted: FittedTransformation, source: ColumnBuilder, n: number): ColumnBuilder {
  const valid = source.statuses;
  switch (fitted.outputKind) {
    case "double": {
      const out = new ColumnBuilder(DOUBLE, n);
      const input = source.f64 ?? source.f32 ?? source.i32 ?? source.i64;
      if (input) fitted.applyColumn(input, valid, out.f64!);
      out.statuses.set(valid);
      return out;
    }
    case "int64": {
      const out = new ColumnBuilder(INT64, n);
      for (let r = 0; r < n; r++) {
        const v = source.get(r);
        out.statuses[r] = valid[r]!;
        if (v !== null) out.i64![r] = BigInt(fitted.applyValue(v as string | number | bigint | boolean));
      }
      return out;
    }
    case "one_hot": {
      const out = new ColumnBuilder(FLOAT_LIST, n);
      for (let r = 0; r < n; r++) {
        const v = source.get(r);
        out.statuses[r] = valid[r]!;
        if (v !== null) out.objects![r] = Array.from(fitted.applyValue(v as string | number | bigint | boolean));
      }
      return out;
    }
  }
}
