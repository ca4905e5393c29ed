import { checkEventTime, type EventTimeBounds } from "@granary/arrow";
import { InvalidArgumentError } from "@granary/errors";
import type { FeatureGroup } from "@granary/proto/metadata";
import { ScalarType, type ColumnarRows, type DataType } from "@granary/proto/types";
import { columnReader, type ColumnReader } from "../vectors/column-reader.js";
import { KeyEncoder, MAX_KEY_BYTES, type KeyValue } from "../store/key-codec.js";
import type { StoredRow } from "../store/online-store.js";
import { RowEncoder, cellOf, type CellValue } from "../store/row-codec.js";

const MICROS_PER_DAY = 86_400_000_000n;

/**
 * Turns a request's rows into stored rows for a group, checking every row first: an unknown
 * column, a wrong type, a missing key or event time fails the whole batch with INVALID_ARGUMENT
 * naming the first bad row and column, before anything is written. Event times outside `bounds`
 * (before year 1, or past now plus the allowed skew) are refused the same way.
 */
export function storedRowsOf(group: FeatureGroup, rows: ColumnarRows, nowMicros: bigint, bounds: EventTimeBounds): StoredRow[] {
  const n = rows.rowCount;
  const byName = new Map(group.columns.map((c, i) => [c.name, i]));
  const readers: (ColumnReader | undefined)[] = new Array(group.columns.length);
  for (const column of rows.columns) {
    const index = byName.get(column.name);
    if (index === undefined) {
      throw new InvalidArgumentError(`column "${column.name}" is not in feature group "${group.name}" version ${group.version}`);
    }
    if (readers[index]) throw new InvalidArgumentError(`column "${column.name}" is given twice`);
    readers[index] = columnReader(column.name, column.data, group.columns[index]!.type!, n);
  }
  const types = group.columns.map((c) => c.type!);
  const keyColumns = group.primaryKey.map((name) => byName.get(name)!);
  for (const k of keyColumns) {
    if (!readers[k]) throw new InvalidArgumentError(`primary-key column "${group.columns[k]!.name}" is missing`);
  }
  const eventIndex = group.eventTime === "" ? undefined : byName.get(group.eventTime);
  if (eventIndex !== undefined && !readers[eventIndex]) {
    throw new InvalidArgumentError(`event-time column "${group.eventTime}" is missing`);
  }
  const defaults = group.columns.map((c) => (c.defaultValue ? cellOf(c.defaultValue) : null));

  const keys = new KeyEncoder();
  const encoder = new RowEncoder(types);
  const values: CellValue[] = new Array(types.length);
  const out: StoredRow[] = new Array(n);
  for (let r = 0; r < n; r++) {
    keys.begin(group.id);
    for (const k of keyColumns) {
      const v = readers[k]!(r);
      if (v === null) throw new InvalidArgumentError(`row ${r}: primary-key column "${group.columns[k]!.name}" is null`);
      keys.add(types[k]!, v as KeyValue);
    }
    for (let c = 0; c < types.length; c++) values[c] = readers[c] ? readers[c]!(r) : defaults[c]!;
    let eventMicros = nowMicros;
    if (eventIndex !== undefined) {
      const t = values[eventIndex];
      if (t === null || t === undefined) throw new InvalidArgumentError(`row ${r}: event-time column "${group.eventTime}" is null`);
      eventMicros = types[eventIndex]!.scalar === ScalarType.DATE ? BigInt(t as number) * MICROS_PER_DAY : (t as bigint);
      checkEventTime(group.eventTime, r, eventMicros, bounds);
    }
    out[r] = { key: checkedKey(keys, r, group.primaryKey), value: encoder.encode(eventMicros, values), eventMicros };
  }
  return out;
}

/** The primary keys of rows to delete, encoded as stored. */
export function keysOf(group: FeatureGroup, rows: ColumnarRows): Buffer[] {
  const byName = new Map(group.columns.map((c) => [c.name, c.type!]));
  const readers = group.primaryKey.map((name) => {
    const column = rows.columns.find((c) => c.name === name);
    if (!column) throw new InvalidArgumentError(`primary-key column "${name}" is missing`);
    return { name, type: byName.get(name)! as DataType, read: columnReader(name, column.data, byName.get(name)!, rows.rowCount) };
  });
  const keys = new KeyEncoder();
  return Array.from({ length: rows.rowCount }, (_, r) => {
    keys.begin(group.id);
    for (const k of readers) {
      const v = k.read(r);
      if (v === null) throw new InvalidArgumentError(`row ${r}: primary-key column "${k.name}" is null`);
      keys.add(k.type, v as KeyValue);
    }
    return checkedKey(keys, r, group.primaryKey);
  });
}

/**
 * The encoded key, refused when longer than the store takes (a long string key): the row could
 * never be stored nor found, so the caller hears which row, before anything is written.
 */
function checkedKey(keys: KeyEncoder, row: number, columns: readonly string[]): Buffer {
  const key = keys.finish();
  checkKeyLength(key.length, row, columns);
  return key;
}

/** Refuses a key longer than the store takes (see checkedKey). */
export function checkKeyLength(length: number, row: number, columns: readonly string[]): void {
  if (length > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(
      `row ${row}: the primary key (${columns.map((c) => `"${c}"`).join(", ")}) is ${length} bytes once encoded; the online store takes at most ${MAX_KEY_BYTES}`,
    );
  }
}
