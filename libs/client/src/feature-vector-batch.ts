// Online feature vectors as columns (typed arrays, as read off the wire), with row objects built
// only when asked for: a model that reads a Float64Array never pays for 5,000 boxed numbers.
import { create } from "@bufbuild/protobuf";
import type { FeatureVectors } from "@granary/proto/online";
import { DataTypeSchema, ScalarType, ValueStatus, type ColumnData, type DataType, type FeatureGroupRef } from "@granary/proto/types";
import { fromPlain, type FeatureValue, type Row } from "./values.js";
import { statusName, type ValueStatusName } from "./value-status.js";
import { malformed, readFeatureVectors, type WireColumn, type WireColumnData, type WireVectors } from "./vector-wire.js";

/** One output column of a lookup, as sent. */
export interface VectorColumn {
  readonly name: string;
  readonly type: DataType;
  /**
   * The values as sent: doubles a Float64Array, floats a Float32Array, int32 and dates (days since
   * 1970-01-01) an Int32Array, int64 and timestamps (µs since the epoch) a BigInt64Array, bools a
   * Uint8Array of 0/1, strings and bytes arrays. A row whose status is not PRESENT holds the type's
   * zero. A list column holds the items of every row here, row i's at offsets[i] .. offsets[i + 1]
   * (an embedding column is one Float32Array).
   */
  readonly values: Float64Array | Float32Array | Int32Array | BigInt64Array | Uint8Array | readonly unknown[];
  /** List columns: where each row's items start, rowCount + 1 entries. */
  readonly offsets: Uint32Array | undefined;
  /** ValueStatus per row: 1 PRESENT, 2 NULL, 3 NOT_FOUND, 4 EXPIRED. */
  readonly statuses: Uint8Array;
  /** Row i's value as rows hold it: null unless PRESENT; int64 a number (bigint beyond 2^53), timestamps and dates Dates. */
  value(i: number): FeatureValue;
  status(i: number): ValueStatusName;
}

/** When each entity's row of one feature group was written (with the includeEventTimes option). */
export interface VectorEventTimes {
  readonly featureGroup: { readonly name: string; readonly version: number } | undefined;
  /** Microseconds since the epoch; 0 where the row was not found. */
  readonly micros: BigInt64Array;
}

/** A batch of feature vectors, column by column; rows are built on first use. */
export interface FeatureVectorBatch {
  readonly rowCount: number;
  /** In the view's column order. */
  readonly columns: readonly VectorColumn[];
  column(name: string): VectorColumn | undefined;
  /** Entity i's vector as getFeatureVectors() returns it (the same object as rows[i]). */
  row(i: number): Row;
  /** Every row, built on first access. */
  readonly rows: readonly Row[];
  /** The status of one value; undefined for a column the batch does not have. */
  status(i: number, name: string): ValueStatusName | undefined;
  /** Per row, per column, as getFeatureVectorsWithStatus() returns them; built on first access. */
  readonly statuses: readonly Record<string, ValueStatusName>[];
  readonly eventTimes: readonly VectorEventTimes[];
}

/** getFeatureVectorsWithStatus()'s result. */
export interface VectorsWithStatus {
  readonly rows: Row[];
  /** Per row, per column: PRESENT, NULL, NOT_FOUND (no row for the key) or EXPIRED (older than the TTL). */
  readonly statuses: Record<string, ValueStatusName>[];
}

const PRESENT: number = ValueStatus.PRESENT;
const NOT_FOUND: number = ValueStatus.NOT_FOUND;

/** A response's FeatureVectors bytes (undefined: the field was absent) for a request of `expectedRows` entities. */
export function vectorBatch(bytes: Uint8Array | undefined, expectedRows: number): FeatureVectorBatch {
  const wire = readFeatureVectors(bytes ?? new Uint8Array());
  if (wire.rowCount !== expectedRows) throw malformed(`${wire.rowCount} rows for ${expectedRows} entities`);
  return new Batch(wire);
}

/** A protobuf-es FeatureVectors message (from the generated client) as a batch, with the same values. */
export function vectorBatchOfMessage(vectors: FeatureVectors | undefined): FeatureVectorBatch {
  return new Batch({
    rowCount: vectors?.rowCount ?? 0,
    columns: (vectors?.columns ?? []).map((c) => ({
      name: c.name,
      type: c.type ?? create(DataTypeSchema),
      data: c.values && columnDataOfMessage(c.values),
      statuses: Uint8Array.from(c.statuses, (s) => (s >= 0 && s <= 255 ? s : 0)),
    })),
    eventTimes: (vectors?.eventTimes ?? []).map((t) => ({ featureGroup: t.featureGroup, micros: BigInt64Array.from(t.micros) })),
  });
}

function columnDataOfMessage(data: ColumnData): WireColumnData {
  const nullIndexes = Uint32Array.from(data.nullIndexes);
  const v = data.values;
  if (v.case === undefined) return { kind: undefined, values: [], nullIndexes };
  if (v.case === "lists") {
    return { kind: "lists", values: [], offsets: Uint32Array.from(v.value.offsets), items: columnDataOfMessage(v.value.items ?? emptyData()), nullIndexes };
  }
  return { kind: v.case, values: v.value.values, nullIndexes };
}

function emptyData(): ColumnData {
  return { $typeName: "granary.types.v1.ColumnData", values: { case: undefined }, nullIndexes: [] };
}

/** The batch as getFeatureVectorsWithStatus() returns it: rows and statuses are built when first read. */
export function withStatuses<T extends object>(batch: FeatureVectorBatch, extra?: T): VectorsWithStatus & T {
  const out = {};
  lazyField(out, "rows", () => batch.rows);
  lazyField(out, "statuses", () => batch.statuses);
  return Object.assign(out, extra) as VectorsWithStatus & T;
}

/**
 * An enumerable field computed on first read, then a plain writable field: spreading,
 * JSON.stringify, deep equality and assignment see what they saw when it was plain data.
 */
function lazyField(target: object, key: string, compute: () => unknown): void {
  const settle = (value: unknown) => Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      const value = compute();
      settle(value);
      return value;
    },
    set: settle,
  });
}

class Batch implements FeatureVectorBatch {
  readonly rowCount: number;
  readonly columns: readonly Column[];
  readonly eventTimes: readonly VectorEventTimes[];
  #byName: Map<string, Column> | undefined;
  readonly #rows: (Row | undefined)[];
  #allRows: Row[] | undefined;
  #statuses: Record<string, ValueStatusName>[] | undefined;

  constructor(wire: WireVectors) {
    this.rowCount = wire.rowCount;
    this.columns = wire.columns.map((c) => new Column(c));
    this.eventTimes = wire.eventTimes.map((t) => ({ featureGroup: refOf(t.featureGroup), micros: t.micros }));
    this.#rows = [];
  }

  column(name: string): VectorColumn | undefined {
    // A name sent twice reads as the last, as in rows.
    this.#byName ??= new Map(this.columns.map((c) => [c.name, c]));
    return this.#byName.get(name);
  }

  row(i: number): Row {
    if (!Number.isInteger(i) || i < 0 || i >= this.rowCount) throw new RangeError(`row ${i} of a batch of ${this.rowCount}`);
    return (this.#rows[i] ??= this.#build(i));
  }

  get rows(): readonly Row[] {
    if (!this.#allRows) {
      const rows: Row[] = new Array(this.rowCount);
      for (let i = 0; i < this.rowCount; i++) rows[i] = this.#rows[i] ??= this.#build(i);
      this.#allRows = rows;
    }
    return this.#allRows;
  }

  status(i: number, name: string): ValueStatusName | undefined {
    return this.column(name)?.status(i);
  }

  get statuses(): readonly Record<string, ValueStatusName>[] {
    if (!this.#statuses) {
      const out: Record<string, ValueStatusName>[] = new Array(this.rowCount);
      const template = this.#shape();
      for (let i = 0; i < this.rowCount; i++) {
        const status = { ...template } as Record<string, ValueStatusName>;
        for (const c of this.columns) status[c.name] = c.status(i);
        out[i] = status;
      }
      this.#statuses = out;
    }
    return this.#statuses;
  }

  #template: Row | undefined;

  /** Every column name, in order: rows copied from it share one shape (a V8 hidden class), cheaper than adding keys one by one. */
  #shape(): Row {
    return (this.#template ??= Object.fromEntries(this.columns.map((c) => [c.name, null])));
  }

  #build(i: number): Row {
    const row: Row = { ...this.#shape() };
    for (const c of this.columns) row[c.name] = c.value(i);
    return row;
  }
}

function refOf(ref: FeatureGroupRef | undefined): VectorEventTimes["featureGroup"] {
  return ref && { name: ref.name, version: ref.version };
}

class Column implements VectorColumn {
  readonly name: string;
  readonly type: DataType;
  readonly values: VectorColumn["values"];
  readonly offsets: Uint32Array | undefined;
  readonly statuses: Uint8Array;
  readonly #read: (i: number) => FeatureValue;

  constructor(c: WireColumn) {
    this.name = c.name;
    this.type = c.type;
    const listed = c.data?.kind === "lists" ? c.data.items : undefined;
    this.values = (listed ?? c.data)?.values ?? [];
    this.offsets = c.data?.offsets;
    this.statuses = c.statuses;
    this.#read = valueReader(c.data, c.type);
  }

  value(i: number): FeatureValue {
    return this.statuses[i] === PRESENT ? this.#read(i) : null;
  }

  status(i: number): ValueStatusName {
    return statusName(this.statuses[i] ?? NOT_FOUND);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A reader of a column's values, built once per column: the null set, the array and the conversion
 * are resolved up front. The array is read by its wire case and the value converted by the
 * column's type, so that a value is exactly what protobuf-es and fromPlain() would give.
 */
function valueReader(data: WireColumnData | undefined, type: DataType): (i: number) => FeatureValue {
  if (!data || data.kind === undefined) return () => null;
  const nulls = data.nullIndexes.length > 0 ? new Set(data.nullIndexes) : undefined;
  let read: (i: number) => FeatureValue;
  if (data.kind === "lists") {
    const offsets = data.offsets!;
    const item = valueReader(data.items, { ...type, list: false });
    read = (row) => {
      const out: FeatureValue[] = [];
      for (let k = offsets[row]!; k < offsets[row + 1]!; k++) out.push(item(k));
      return out;
    };
  } else read = scalarReader(data, type.scalar);
  return nulls ? (i) => (nulls.has(i) ? null : read(i)) : read;
}

const MS_PER_DAY = 86_400_000;

function scalarReader(data: WireColumnData, scalar: ScalarType): (i: number) => FeatureValue {
  const values = data.values;
  if (values instanceof Uint8Array && data.kind === "bools") return (i) => (i < values.length ? values[i] !== 0 : (undefined as never));
  if (values instanceof BigInt64Array && LITTLE_ENDIAN && (scalar === ScalarType.INT64 || scalar === ScalarType.TIMESTAMP)) {
    // Values within 2^53 are read from their 32-bit halves: no BigInt per value.
    const halves = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    const int64 = (i: number): number | bigint => {
      const n = halves[2 * i + 1]! * 4_294_967_296 + (halves[2 * i]! >>> 0);
      return Number.isSafeInteger(n) ? n : values[i]!;
    };
    if (scalar === ScalarType.INT64) return (i) => (i < values.length ? int64(i) : null);
    return (i) => {
      if (i >= values.length) return null;
      const us = int64(i);
      // Truncated toward zero, as BigInt division (fromPlain) does.
      return typeof us === "number" ? new Date((us - (us % 1000)) / 1000) : fromPlain({ scalar } as DataType, us);
    };
  }
  const array = values as ArrayLike<unknown>;
  if (scalar === ScalarType.DATE && values instanceof Int32Array) return (i) => (i < values.length ? new Date(values[i]! * MS_PER_DAY) : null);
  if (scalar === ScalarType.INT64 || scalar === ScalarType.TIMESTAMP || scalar === ScalarType.DATE) {
    return (i) => fromPlain({ scalar } as DataType, array[i] as never);
  }
  return (i) => array[i] as FeatureValue;
}
