import { isUtf8 } from "node:buffer";
import * as arrow from "apache-arrow";
import { checkEventTime, type EventTimeBounds } from "@granary/arrow";
import { InvalidArgumentError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import { ScalarType, type DataType } from "@granary/proto/types";
import { KeyEncoder, MAX_KEY_BYTES, groupPrefix, type KeyValue } from "../store/key-codec.js";
import type { StoredRow } from "../store/online-store.js";
import { ROW_FORMAT, RowEncoder, cellOf, encodeRowDefaults, type CellValue, type RowDefaults } from "../store/row-codec.js";
import { arrowCellReader, type ArrowRows } from "../vectors/arrow-rows.js";
import { checkKeyLength } from "./stored-rows.js";

const MICROS_PER_DAY = 86_400_000_000n;
/** Format, event time, column count (row-codec.ts). */
const HEADER = 11;

/**
 * Arrow rows (readArrowRows) as stored rows, the bytes written straight from Arrow's buffers into
 * one buffer per request (column by column), without a JavaScript value per cell. The result is
 * byte for byte what storedRowsOf makes of the same rows as ColumnarRows (arrowToColumnarRows),
 * with the same checks naming the same first bad row: a null key or event time, an event time out
 * of `bounds`, a key too long to store. Types without a fast path here (float16, large and view
 * strings, date64, other timestamp units, strings starting with a byte-order mark, invalid UTF-8)
 * go through that cell-by-cell conversion, column chunk by column chunk.
 */
export function storedRowsOfArrow(group: FeatureGroup, rows: ArrowRows, nowMicros: bigint, bounds: EventTimeBounds): StoredRow[] {
  const n = rows.rowCount;
  const types = group.columns.map((c) => c.type!);
  const byName = new Map(group.columns.map((c, i) => [c.name, i]));
  const fieldOf = new Int32Array(types.length).fill(-1);
  for (const f of rows.fields) fieldOf[byName.get(f.name)!] = f.field;
  const keyColumns = group.primaryKey.map((name) => byName.get(name)!);
  const eventIndex = group.eventTime === "" ? undefined : byName.get(group.eventTime);
  const defaults = encodeRowDefaults(
    types,
    group.columns.map((c) => (c.defaultValue ? cellOf(c.defaultValue) : null)),
  );

  const out: StoredRow[] = new Array(n);
  const keys = new KeyEncoder();
  const prefix = groupPrefix(group.id);
  let base = 0;
  for (const batch of rows.table.batches) {
    const m = batch.numRows;
    const dataOf = (c: number) => batch.data.children[fieldOf[c]!]!;
    // Row by row first, as storedRowsOf checks them: the key, then the event time, then the key's length.
    // Fixed-width keys without nulls and µs event times without nulls are read from their arrays.
    const direct = directKey(
      keyColumns.map((k) => [types[k]!, dataOf(k)]),
      prefix.length,
    );
    const keyReaders = direct ? [] : keyColumns.map((k) => arrowCellReader(dataOf(k), types[k]!));
    const eventData = eventIndex === undefined ? undefined : dataOf(eventIndex);
    const eventMicrosArray = eventData && directMicros(types[eventIndex!]!, eventData);
    const eventReader = eventData && !eventMicrosArray ? arrowCellReader(eventData, types[eventIndex!]!) : undefined;
    const eventIsDate = eventIndex !== undefined && types[eventIndex]!.scalar === ScalarType.DATE;
    // Every key of the batch in one buffer; each row's key is a view of it.
    let keyBuf = direct ? directKeys(direct, prefix, m) : Buffer.allocUnsafe(m * (prefix.length + 8 * keyColumns.length) + 64);
    const keyEnds = new Int32Array(m);
    let keyLength = 0;
    const events: bigint[] = new Array(m);
    for (let i = 0; i < m; i++) {
      const r = base + i;
      if (!direct) {
        keys.beginWith(prefix);
        for (let k = 0; k < keyColumns.length; k++) {
          const v = keyReaders[k]!(i);
          if (v === null) throw new InvalidArgumentError(`row ${r}: primary-key column "${group.columns[keyColumns[k]!]!.name}" is null`);
          keys.add(types[keyColumns[k]!]!, v as KeyValue);
        }
      }
      let eventMicros = nowMicros;
      if (eventMicrosArray) {
        eventMicros = eventMicrosArray[i]!;
        checkEventTime(group.eventTime, r, eventMicros, bounds);
      } else if (eventReader) {
        const t = eventReader(i);
        if (t === null) throw new InvalidArgumentError(`row ${r}: event-time column "${group.eventTime}" is null`);
        eventMicros = eventIsDate ? BigInt(t as number) * MICROS_PER_DAY : (t as bigint);
        checkEventTime(group.eventTime, r, eventMicros, bounds);
      }
      events[i] = eventMicros;
      if (direct) {
        keyLength += direct.length;
        keyEnds[i] = keyLength;
        continue;
      }
      const key = keys.view();
      checkKeyLength(key.length, r, group.primaryKey);
      if (keyLength + key.length > keyBuf.length) {
        const larger = Buffer.allocUnsafe(Math.max(keyBuf.length * 2, keyLength + key.length));
        keyBuf.copy(larger, 0, 0, keyLength);
        keyBuf = larger;
      }
      keyLength += key.copy(keyBuf, keyLength);
      keyEnds[i] = keyLength;
    }
    const values = encodeBatch(types, (c) => (fieldOf[c]! < 0 ? undefined : dataOf(c)), m, events, defaults);
    for (let i = 0; i < m; i++) {
      const key = keyBuf.subarray(i === 0 ? 0 : keyEnds[i - 1]!, keyEnds[i]!);
      out[base + i] = { key, value: values[i]!, eventMicros: events[i]! };
    }
    base += m;
  }
  return out;
}

/** Key columns read from their arrays: each column's 32-bit words and width, and the key's length. */
interface DirectKey {
  readonly columns: readonly { readonly words: Uint32Array; readonly width: 4 | 8 }[];
  readonly length: number;
}

/**
 * The key columns as words when every one is fixed-width (int64, µs timestamp, int32, day date),
 * without nulls, and the key fits the store; else undefined (the KeyEncoder path).
 */
function directKey(columns: readonly [DataType, arrow.Data][], prefixLength: number): DirectKey | undefined {
  const out: { words: Uint32Array; width: 4 | 8 }[] = [];
  let length = prefixLength;
  for (const [type, data] of columns) {
    if (data.offset !== 0 || data.nullCount !== 0) return undefined;
    const values = data.values as unknown;
    const input = data.type as arrow.DataType;
    let width: 4 | 8;
    if (type.scalar === ScalarType.INT64 && values instanceof BigInt64Array) width = 8;
    else if (type.scalar === ScalarType.TIMESTAMP && directMicros(type, data)) width = 8;
    else if (type.scalar === ScalarType.INT32 && values instanceof Int32Array) width = 4;
    else if (type.scalar === ScalarType.DATE && arrow.DataType.isDate(input) && input.unit === arrow.DateUnit.DAY && values instanceof Int32Array) width = 4;
    else return undefined;
    const array = values as BigInt64Array | Int32Array;
    out.push({ words: new Uint32Array(array.buffer, array.byteOffset, (array.length * width) >> 2), width });
    length += width;
  }
  return length > MAX_KEY_BYTES ? undefined : { columns: out, length };
}

/** The keys of `m` rows, `key.length` bytes apart, as KeyEncoder writes them (big-endian, sign bit flipped). */
function directKeys(key: DirectKey, prefix: Buffer, m: number): Buffer {
  const buf = Buffer.allocUnsafe(m * key.length);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < m; i++) prefix.copy(buf, i * key.length);
  let at = prefix.length;
  for (const { words, width } of key.columns) {
    for (let i = 0, p = at; i < m; i++, p += key.length) {
      if (width === 8) {
        view.setUint32(p, (words[2 * i + 1]! ^ 0x80000000) >>> 0);
        view.setUint32(p + 4, words[2 * i]!);
      } else {
        view.setUint32(p, (words[i]! ^ 0x80000000) >>> 0);
      }
    }
    at += width;
  }
  return buf;
}

/** A µs timestamp column without nulls as its array of microseconds; else undefined. */
function directMicros(type: DataType, data: arrow.Data): BigInt64Array | undefined {
  const input = data.type as arrow.DataType;
  if (type.scalar !== ScalarType.TIMESTAMP || data.offset !== 0 || data.nullCount !== 0) return undefined;
  if (!arrow.DataType.isTimestamp(input) || input.unit !== arrow.TimeUnit.MICROSECOND) return undefined;
  return data.values instanceof BigInt64Array ? data.values : undefined;
}

/** Per present column of the first batch, whether it is written straight from Arrow's buffers or cell by cell (tests). */
export function arrowColumnPaths(group: FeatureGroup, rows: ArrowRows): Record<string, "direct" | "cells"> {
  const batch = rows.table.batches[0];
  const paths: Record<string, "direct" | "cells"> = {};
  if (!batch) return paths;
  for (const f of rows.fields) {
    const plan = planOf(f.column.type!, batch.data.children[f.field], -1, undefined);
    paths[f.name] = plan.kind === "cells" ? "cells" : "direct";
  }
  return paths;
}

/** How one column chunk is written: straight from its buffers, or through encoded cells. */
type ColumnPlan =
  | { readonly kind: "copy"; readonly width: 4 | 8; readonly words: Uint32Array; readonly valid: Validity }
  | { readonly kind: "int-to-64"; readonly src: ArrayLike<number>; readonly valid: Validity }
  | { readonly kind: "int-to-32"; readonly src: ArrayLike<number>; readonly valid: Validity }
  | { readonly kind: "float-to-64"; readonly src: Float32Array; readonly valid: Validity }
  | { readonly kind: "bool"; readonly bits: Uint8Array; readonly valid: Validity }
  | { readonly kind: "bytes"; readonly offsets: Int32Array; readonly src: Uint8Array; readonly valid: Validity }
  | { readonly kind: "cells"; readonly cells: (Buffer | null)[] }
  | { readonly kind: "default"; readonly offset: number; readonly length: number }
  | { readonly kind: "null" };

type Validity = ((i: number) => boolean) | undefined;

/** The row values of one record batch, each a view into one buffer. */
function encodeBatch(
  types: readonly DataType[],
  dataOf: (column: number) => arrow.Data | undefined,
  m: number,
  events: readonly bigint[],
  defaults: RowDefaults | undefined,
): Buffer[] {
  const width = types.length;
  const head = HEADER + ((width + 7) >> 3);
  const plans = types.map((type, c) => planOf(type, dataOf(c), c, defaults));
  const sizes = new Int32Array(m).fill(head);
  for (const plan of plans) addSizes(plan, sizes, m);
  const starts = new Int32Array(m + 1);
  for (let i = 0; i < m; i++) starts[i + 1] = starts[i]! + sizes[i]!;
  const buf = Buffer.alloc(starts[m]!);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const at = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const s = starts[i]!;
    buf[s] = ROW_FORMAT;
    view.setBigInt64(s + 1, events[i]!, true);
    view.setUint16(s + 9, width, true);
    at[i] = s + head;
  }
  for (let c = 0; c < width; c++) writeColumn(plans[c]!, buf, view, starts, at, m, c, defaults);
  const values: Buffer[] = new Array(m);
  for (let i = 0; i < m; i++) values[i] = buf.subarray(starts[i]!, starts[i + 1]!);
  return values;
}

function planOf(type: DataType, data: arrow.Data | undefined, column: number, defaults: RowDefaults | undefined): ColumnPlan {
  if (!data) {
    const offset = defaults ? defaults.offsets[column]! : -1;
    return offset < 0 ? { kind: "null" } : { kind: "default", offset, length: defaults!.lengths[column]! };
  }
  const input = data.type as arrow.DataType;
  const valid = validity(data);
  const values = data.values as ArrayBufferView | undefined;
  const bytes = values && new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  // Fixed-width values as 32-bit words (Arrow's reader aligns them): copied without a JavaScript number.
  const words = () => new Uint32Array(values!.buffer, values!.byteOffset, values!.byteLength >> 2);
  // Arrow's IPC reader makes generic types (Float, Int, Date_ with a unit): tell them by their arrays.
  if (data.offset === 0 && bytes) {
    const array = data.values as unknown;
    switch (type.scalar) {
      case ScalarType.DOUBLE:
        if (array instanceof Float64Array) return { kind: "copy", width: 8, words: words(), valid };
        if (array instanceof Float32Array) return { kind: "float-to-64", src: array, valid };
        break;
      case ScalarType.FLOAT:
        if (array instanceof Float32Array) return { kind: "copy", width: 4, words: words(), valid };
        break;
      case ScalarType.INT64:
        if (array instanceof BigInt64Array) return { kind: "copy", width: 8, words: words(), valid };
        if (arrow.DataType.isInt(input) && input.bitWidth <= 32) return { kind: "int-to-64", src: array as ArrayLike<number>, valid };
        break;
      case ScalarType.INT32:
        if (arrow.DataType.isInt(input) && input.bitWidth <= 32) return { kind: "int-to-32", src: array as ArrayLike<number>, valid };
        break;
      case ScalarType.DATE:
        if (arrow.DataType.isDate(input) && input.unit === arrow.DateUnit.DAY && array instanceof Int32Array) return { kind: "int-to-32", src: array, valid };
        break;
      case ScalarType.TIMESTAMP:
        if (arrow.DataType.isTimestamp(input) && input.unit === arrow.TimeUnit.MICROSECOND && array instanceof BigInt64Array)
          return { kind: "copy", width: 8, words: words(), valid };
        break;
      case ScalarType.BOOL:
        if (arrow.DataType.isBool(input)) return { kind: "bool", bits: bytes, valid };
        break;
      case ScalarType.STRING:
      case ScalarType.BYTES: {
        const offsets = data.valueOffsets;
        if (!(offsets instanceof Int32Array) || !(arrow.DataType.isUtf8(input) || arrow.DataType.isBinary(input))) break;
        if (type.scalar === ScalarType.STRING && !rawUtf8(offsets, bytes, data.length)) break;
        return { kind: "bytes", offsets, src: bytes, valid };
      }
      case ScalarType.UNSPECIFIED:
        break;
    }
  }
  return { kind: "cells", cells: encodedCells(type, data) };
}

/**
 * Whether a chunk's strings may be stored as their bytes: valid UTF-8 and none starting with a
 * byte-order mark, which decoding (the cell-by-cell path) would drop.
 */
function rawUtf8(offsets: Int32Array, bytes: Uint8Array, length: number): boolean {
  if (!isUtf8(bytes.subarray(offsets[0]!, offsets[length]!))) return false;
  for (let i = 0; i < length; i++) {
    const s = offsets[i]!;
    if (offsets[i + 1]! - s >= 3 && bytes[s] === 0xef && bytes[s + 1] === 0xbb && bytes[s + 2] === 0xbf) return false;
  }
  return true;
}

function validity(data: arrow.Data): Validity {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.byteLength === 0 || data.nullCount === 0) return undefined;
  const o = data.offset;
  return (i) => ((bitmap[(o + i) >> 3]! >> ((o + i) & 7)) & 1) === 1;
}

/** Each cell's bytes as the row encoder writes them (null for null): the general path. */
function encodedCells(type: DataType, data: arrow.Data): (Buffer | null)[] {
  const read = arrowCellReader(data, type);
  const encoder = new RowEncoder([type]);
  const cells: (Buffer | null)[] = new Array(data.length);
  // One column: the header and a one-byte null bitmap come first.
  for (let i = 0; i < data.length; i++) {
    const v = read(i) as CellValue;
    cells[i] = v === null ? null : encoder.encode(0n, [v]).subarray(HEADER + 1);
  }
  return cells;
}

function addSizes(plan: ColumnPlan, sizes: Int32Array, m: number): void {
  let fixed = 0;
  switch (plan.kind) {
    case "null":
      return;
    case "default":
      for (let i = 0; i < m; i++) sizes[i] = sizes[i]! + plan.length;
      return;
    case "cells":
      for (let i = 0; i < m; i++) sizes[i] = sizes[i]! + (plan.cells[i]?.length ?? 0);
      return;
    case "bytes": {
      const { offsets, valid } = plan;
      for (let i = 0; i < m; i++) if (!valid || valid(i)) sizes[i] = sizes[i]! + 4 + offsets[i + 1]! - offsets[i]!;
      return;
    }
    case "copy":
      fixed = plan.width;
      break;
    case "int-to-64":
    case "float-to-64":
      fixed = 8;
      break;
    case "int-to-32":
      fixed = 4;
      break;
    case "bool":
      fixed = 1;
      break;
  }
  const valid = plan.valid;
  for (let i = 0; i < m; i++) if (!valid || valid(i)) sizes[i] = sizes[i]! + fixed;
}

function writeColumn(
  plan: ColumnPlan,
  buf: Buffer,
  view: DataView,
  starts: Int32Array,
  at: Int32Array,
  m: number,
  c: number,
  defaults: RowDefaults | undefined,
): void {
  const nullByte = HEADER + (c >> 3);
  const nullBit = 1 << (c & 7);
  const setNull = (i: number) => (buf[starts[i]! + nullByte]! |= nullBit);
  switch (plan.kind) {
    case "null":
      for (let i = 0; i < m; i++) setNull(i);
      return;
    case "default":
      for (let i = 0; i < m; i++) {
        defaults!.buf.copy(buf, at[i]!, plan.offset, plan.offset + plan.length);
        at[i] = at[i]! + plan.length;
      }
      return;
    case "cells":
      for (let i = 0; i < m; i++) {
        const cell = plan.cells[i];
        if (!cell) setNull(i);
        else at[i] = at[i]! + cell.copy(buf, at[i]!);
      }
      return;
    case "copy": {
      const { words, width, valid } = plan;
      for (let i = 0; i < m; i++) {
        if (valid && !valid(i)) {
          setNull(i);
          continue;
        }
        const p = at[i]!;
        if (width === 8) {
          view.setUint32(p, words[2 * i]!, true);
          view.setUint32(p + 4, words[2 * i + 1]!, true);
        } else {
          view.setUint32(p, words[i]!, true);
        }
        at[i] = p + width;
      }
      return;
    }
    case "int-to-64": {
      const { src, valid } = plan;
      for (let i = 0; i < m; i++) {
        if (valid && !valid(i)) {
          setNull(i);
          continue;
        }
        const v = src[i]!;
        view.setUint32(at[i]!, v >>> 0, true);
        view.setInt32(at[i]! + 4, v < 0 ? -1 : 0, true);
        at[i] = at[i]! + 8;
      }
      return;
    }
    case "int-to-32": {
      const { src, valid } = plan;
      for (let i = 0; i < m; i++) {
        if (valid && !valid(i)) setNull(i);
        else {
          view.setInt32(at[i]!, src[i]!, true);
          at[i] = at[i]! + 4;
        }
      }
      return;
    }
    case "float-to-64": {
      const { src, valid } = plan;
      for (let i = 0; i < m; i++) {
        if (valid && !valid(i)) setNull(i);
        else {
          view.setFloat64(at[i]!, src[i]!, true);
          at[i] = at[i]! + 8;
        }
      }
      return;
    }
    case "bool": {
      const { bits, valid } = plan;
      for (let i = 0; i < m; i++) {
        if (valid && !valid(i)) setNull(i);
        else {
          buf[at[i]!] = (bits[i >> 3]! >> (i & 7)) & 1;
          at[i] = at[i]! + 1;
        }
      }
      return;
    }
    case "bytes": {
      const { offsets, src, valid } = plan;
      for (let i = 0; i < m; i++) {
        if (valid && !valid(i)) {
          setNull(i);
          continue;
        }
        const s = offsets[i]!;
        const e = offsets[i + 1]!;
        const p = buf.writeUInt32LE(e - s, at[i]!);
        buf.set(src.subarray(s, e), p);
        at[i] = p + e - s;
      }
      return;
    }
  }
}
