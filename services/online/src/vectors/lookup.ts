import { create } from "@bufbuild/protobuf";
import { isCelError } from "@bufbuild/cel";
import { fromCel, toCel, type PlainValue } from "@granary/cel";
import type { FittedTransformation } from "@granary/transformations";
import { ColumnRole } from "@granary/proto/metadata";
import { DataTypeSchema, ScalarType, ValueStatus, type DataType } from "@granary/proto/types";
import { groupPrefix, KeyEncoder, type KeyValue } from "../store/key-codec.js";
import type { OnlineStore } from "../store/online-store.js";
import { decodeCell, decodeRowInto, type CellSink, type CellValue } from "../store/row-codec.js";
import { ColumnBuilder, LITTLE_ENDIAN } from "./column-builder.js";
import type { ColumnReader } from "./column-reader.js";
import type { LookupResult } from "./encode-vectors.js";
import type { GroupStep, ViewPlan } from "./view-plan.js";

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
  forward: CellSink | undefined = undefined;
  readonly sink: CellSink;
  constructor(readonly type: DataType) {
    this.sink = {
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
  reset(): void {
    this.value = null;
  }
}

/**
 * What reading a group's rows needs beyond its plan step, derived once per step: the key prefix,
 * and where each column sits in a row that holds every column and no null (the usual row), so such
 * a row is decoded without walking its cells.
 */
interface StepLayout {
  readonly prefix: Buffer;
  readonly bitmapBytes: number;
  /** Byte offset of each column in a full row without nulls; undefined when a column is not fixed-width. */
  readonly fixedOffsets: Int32Array | undefined;
  readonly ttlMicros: number | undefined;
}

const FIXED_WIDTH: Partial<Record<ScalarType, number>> = {
  [ScalarType.BOOL]: 1,
  [ScalarType.INT32]: 4,
  [ScalarType.DATE]: 4,
  [ScalarType.INT64]: 8,
  [ScalarType.TIMESTAMP]: 8,
  [ScalarType.FLOAT]: 4,
  [ScalarType.DOUBLE]: 8,
};

const layouts = new WeakMap<GroupStep, StepLayout>();

function layoutOf(step: GroupStep): StepLayout {
  let layout = layouts.get(step);
  if (layout) return layout;
  const n = step.types.length;
  const bitmapBytes = (n + 7) >> 3;
  let fixedOffsets: Int32Array | undefined = new Int32Array(n);
  let offset = 11 + bitmapBytes;
  for (let i = 0; i < n; i++) {
    const width = step.types[i]!.list ? undefined : FIXED_WIDTH[step.types[i]!.scalar];
    if (width === undefined) {
      fixedOffsets = undefined;
      break;
    }
    fixedOffsets[i] = offset;
    offset += width;
  }
  layout = { prefix: groupPrefix(step.group.id), bitmapBytes, fixedOffsets, ttlMicros: step.ttlMicros === undefined ? undefined : Number(step.ttlMicros) };
  layouts.set(step, layout);
  return layout;
}

const TWO_32 = 4294967296;

/**
 * Whether a stored row's event time (int64 little-endian at byte 1) is before a time given as its
 * high word and low word (unsigned): compared word by word, so no number is boxed per row.
 */
function eventBefore(raw: Buffer, high: number, low: number): boolean {
  const rowHigh = raw.readInt32LE(5);
  return rowHigh < high || (rowHigh === high && raw.readUInt32LE(1) < low);
}

/**
 * Everything a lookup of a plan writes into, for a batch size: the output columns, the decode sinks
 * and the per-step state. Built once and reused (pooled per plan and batch size, see withLookup), so
 * a lookup allocates next to nothing: the columns' memory is the response's.
 */
export class LookupScratch {
  readonly rows: number;
  readonly builders: ColumnBuilder[];
  readonly captures: ReadonlyMap<number, CaptureSink>[];
  readonly sinks: (CellSink | undefined)[][];
  readonly stepSlots: number[][];
  readonly keyValues: (KeyValue | null)[][];
  readonly found: boolean[];
  readonly encoder = new KeyEncoder();
  #eventTimes: BigInt64Array[] | undefined;
  #eventTimeBytes: Uint8Array[] | undefined;
  #columns: { name: string; builder: ColumnBuilder }[] | undefined;
  #columnsWithHelpers: boolean | undefined;
  #dirty = false;

  constructor(plan: ViewPlan, rows: number) {
    this.rows = rows;
    this.builders = plan.outputs.map((o) => new ColumnBuilder(o.column.type!, rows));
    this.captures = plan.steps.map((step) => new Map(step.capturedColumns.map((c) => [c, new CaptureSink(step.types[c]!)])));
    this.sinks = plan.steps.map((step, s) =>
      step.types.map((_, c) => {
        const slot = step.outputSlots[c]!;
        const builder = slot >= 0 ? this.builders[slot] : undefined;
        const capture = this.captures[s]!.get(c);
        if (!capture) return builder;
        capture.forward = builder;
        return capture.sink;
      }),
    );
    this.stepSlots = plan.steps.map((step) => [...step.outputSlots].filter((slot) => slot >= 0));
    this.keyValues = plan.steps.map((step) => new Array<KeyValue | null>(step.keySources.length).fill(null));
    this.found = new Array<boolean>(plan.steps.length).fill(false);
  }

  /** Per step, the event time of each row (allocated on first use). */
  eventTimes(steps: number): BigInt64Array[] {
    return (this.#eventTimes ??= Array.from({ length: steps }, () => new BigInt64Array(this.rows)));
  }

  /** The same memory as eventTimes, as bytes: a stored event time is copied in without a BigInt. */
  eventTimeBytes(steps: number): Uint8Array[] {
    return (this.#eventTimeBytes ??= this.eventTimes(steps).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength)));
  }

  /** The output columns of an untransformed lookup, built once per scratch. */
  columns(plan: ViewPlan, includeInferenceHelpers: boolean): { name: string; builder: ColumnBuilder }[] {
    if (this.#columns && this.#columnsWithHelpers === includeInferenceHelpers) return this.#columns;
    this.#columnsWithHelpers = includeInferenceHelpers;
    return (this.#columns = plan.outputs.flatMap((o, slot) =>
      o.column.role === ColumnRole.INFERENCE_HELPER && !includeInferenceHelpers ? [] : [{ name: o.column.name, builder: this.builders[slot]! }],
    ));
  }

  /** Clean for a lookup: columns fresh, event times zero. */
  prepare(): void {
    if (this.#dirty) {
      for (const b of this.builders) b.reset();
      if (this.#eventTimes) for (const t of this.#eventTimes) t.fill(0n);
    }
    this.#dirty = true;
  }
}

/** Scratches kept per plan and batch size; batches above this size are not pooled. */
const POOLED_MAX_ROWS = 1024;
const POOLED_SIZES_PER_PLAN = 16;
const pools = new WeakMap<ViewPlan, Map<number, LookupScratch[]>>();

/**
 * Runs a lookup in a pooled scratch and hands its result to `use`, which must be done with it when
 * it returns (encode the response there): the scratch serves the next lookup of the same size.
 */
export function withLookup<T>(plan: ViewPlan, store: Pick<OnlineStore, "get">, input: LookupInput, use: (result: LookupResult) => T): T {
  const n = input.rowCount;
  let sizes = pools.get(plan);
  if (!sizes) pools.set(plan, (sizes = new Map()));
  const free = sizes.get(n);
  const scratch = free?.pop() ?? new LookupScratch(plan, n);
  try {
    return use(lookupVectors(plan, store, input, scratch));
  } finally {
    if (n <= POOLED_MAX_ROWS) {
      if (free) free.push(scratch);
      else if (sizes.size < POOLED_SIZES_PER_PLAN) sizes.set(n, [scratch]);
    }
  }
}

/**
 * Feature vectors for a batch of entities: per entity, each group of the view is read by key
 * (keys of nested joins come from rows read before), values land in typed columns with a status
 * each, then passed features, on-demand features and transformations are applied. The result lives
 * in `scratch` (a fresh one when not given) until the scratch is used again.
 */
export function lookupVectors(plan: ViewPlan, store: Pick<OnlineStore, "get">, input: LookupInput, scratch?: LookupScratch): LookupResult {
  const n = input.rowCount;
  const work = scratch ?? new LookupScratch(plan, n);
  if (work.rows !== n) throw new Error(`a lookup scratch for ${work.rows} rows cannot serve ${n}`);
  work.prepare();
  const { builders, captures, sinks, stepSlots, keyValues, found, encoder } = work;
  const steps = plan.steps;
  const eventTimes = input.includeEventTimes ? work.eventTimes(steps.length) : undefined;
  const eventTimeBytes = input.includeEventTimes ? work.eventTimeBytes(steps.length) : undefined;
  const nowMicros = Number(input.nowMicros);
  const stepLayouts = steps.map(layoutOf);
  // Per step with a TTL, the oldest event time still served, as high and low words (see eventBefore).
  const expiry = steps.map((step, s) => {
    const ttl = stepLayouts[s]!.ttlMicros;
    if (ttl === undefined) return undefined;
    const oldest = nowMicros - ttl;
    const high = Math.floor(oldest / TWO_32);
    return { high, low: oldest - high * TWO_32 };
  });
  // The readers of serving keys each step's key parts name, resolved once per request instead of per row.
  const servingReaders = steps.map((step) =>
    step.keySources.map((src) =>
      src.kind === "serving" ? input.servingKeys.get(src.name) : src.kind === "row" ? input.servingKeys.get(src.servingName) : undefined,
    ),
  );

  for (let r = 0; r < n; r++) {
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s]!;
      const parts = keyValues[s]!;
      const readers = servingReaders[s]!;
      let complete = true;
      for (let p = 0; p < step.keySources.length; p++) {
        const src = step.keySources[p]!;
        let v: CellValue = null;
        if (src.kind === "serving") v = readers[p]?.(r) ?? null;
        else if (src.kind === "key") v = found[src.step] || !steps[src.step]!.group.onlineEnabled ? (keyValues[src.step]![src.part] ?? null) : null;
        else v = readers[p]?.(r) ?? (found[src.step] ? captures[src.step]!.get(src.column)!.value : null);
        parts[p] = v as KeyValue | null;
        if (v === null) complete = false;
      }
      for (const { part, slot } of step.keySlots) if (parts[part] !== null) builders[slot]!.set(r, parts[part]!);
      found[s] = false;
      const stepCaptures = captures[s]!;
      if (stepCaptures.size > 0) for (const capture of stepCaptures.values()) capture.reset();
      if (!complete || !step.group.onlineEnabled) continue;
      const layout = stepLayouts[s]!;
      encoder.beginWith(layout.prefix);
      for (let p = 0; p < parts.length; p++) encoder.add(step.keyTypes[p]!, parts[p]!);
      const raw = store.get(encoder.view());
      if (raw === undefined) continue;
      // An expired row is not decoded: its values stay zero beside the EXPIRED status.
      const oldest = expiry[s];
      if (oldest !== undefined && eventBefore(raw, oldest.high, oldest.low)) {
        for (const slot of stepSlots[s]!) builders[slot]!.mark(r, ValueStatus.EXPIRED);
        continue;
      }
      const stepSinks = sinks[s]!;
      if (layout.fixedOffsets !== undefined && stepCaptures.size === 0 && isFullWithoutNulls(raw, step.types.length, layout.bitmapBytes)) {
        const offsets = layout.fixedOffsets;
        for (let c = 0; c < stepSinks.length; c++) stepSinks[c]?.value(r, raw, offsets[c]!, 0);
      } else {
        decodeRowInto(raw, step.types, stepSinks, r, step.defaults);
      }
      found[s] = true;
      // Copied as the stored 8 bytes (little-endian, as BigInt64Array memory here): exact, no BigInt.
      if (eventTimeBytes) {
        if (LITTLE_ENDIAN) {
          const times = eventTimeBytes[s]!;
          for (let b = 0; b < 8; b++) times[r * 8 + b] = raw[1 + b]!;
        } else eventTimes![s]![r] = raw.readBigInt64LE(1);
      }
    }
  }

  for (const fill of plan.servingFills) {
    const reader = input.servingKeys.get(fill.servingName);
    if (!reader) continue;
    for (let r = 0; r < n; r++) {
      const v = reader(r);
      if (v !== null) builders[fill.slot]!.set(r, v);
    }
  }
  plan.outputs.forEach((o, slot) => {
    const passed = input.passedFeatures.get(o.column.name);
    if (passed) for (let r = 0; r < n; r++) builders[slot]!.set(r, passed(r));
  });
  for (const odf of plan.onDemand) evaluateOnDemand(odf, builders, input, n);

  let columns: { name: string; builder: ColumnBuilder }[];
  if (!input.transformations) columns = work.columns(plan, input.includeInferenceHelpers);
  else {
    columns = [];
    for (let slot = 0; slot < plan.outputs.length; slot++) {
      const column = plan.outputs[slot]!.column;
      if (column.role === ColumnRole.INFERENCE_HELPER && !input.includeInferenceHelpers) continue;
      const fitted = input.transformations.get(column.name);
      columns.push({ name: column.name, builder: fitted ? transform(fitted, builders[slot]!, n) : builders[slot]! });
    }
  }
  const eventTimeColumns = eventTimes ? steps.map((step, s) => ({ name: step.group.name, version: step.group.version, micros: eventTimes[s]! })) : [];
  // Feature logging records what was served before and after the model-dependent transformations.
  const untransformed = input.transformations ? work.columns(plan, input.includeInferenceHelpers) : undefined;
  return { rowCount: n, columns, eventTimes: eventTimeColumns, untransformed };
}

/** Whether a stored row holds every column of its group (none appended since) and no null. */
function isFullWithoutNulls(raw: Buffer, columns: number, bitmapBytes: number): boolean {
  if (raw.readUInt16LE(9) !== columns) return false;
  for (let i = 0; i < bitmapBytes; i++) if (raw[11 + i] !== 0) return false;
  return true;
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
