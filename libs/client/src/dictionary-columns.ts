// Dictionary-encoded columns (pandas categoricals, Parquet dictionary pages) as the plain columns
// the services take. The wire carries plain Arrow only, so the SDK decodes them before sending:
// every write path (insert, deleteRows, spines) goes through ipcPayloads, which calls this.
import * as arrow from "apache-arrow";

/** Whether any column of the schema is dictionary-encoded. */
export function hasDictionaries(schema: arrow.Schema): boolean {
  return schema.fields.some((f) => arrow.DataType.isDictionary(f.type));
}

/** The schema with each dictionary-encoded field replaced by its value type (names, nullability and metadata kept). */
export function plainSchema(schema: arrow.Schema): arrow.Schema {
  if (!hasDictionaries(schema)) return schema;
  return new arrow.Schema(
    schema.fields.map((f) => (arrow.DataType.isDictionary(f.type) ? new arrow.Field(f.name, f.type.dictionary, f.nullable, f.metadata) : f)),
    schema.metadata,
  );
}

/** The batch with its dictionary-encoded columns decoded to plain ones; the batch itself when it has none. */
export function withoutDictionaries(batch: arrow.RecordBatch): arrow.RecordBatch {
  if (!hasDictionaries(batch.schema)) return batch;
  const schema = plainSchema(batch.schema);
  const children = batch.schema.fields.map((f, i) => {
    const column = batch.getChildAt(i)!;
    return arrow.DataType.isDictionary(f.type) ? decode(column as arrow.Vector<arrow.Dictionary>) : column.data[0]!;
  });
  return new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: batch.numRows, children }));
}

function decode(column: arrow.Vector<arrow.Dictionary>): arrow.Data {
  const type = column.type.dictionary;
  if ((arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) && column.data.length === 1 && column.data[0]!.dictionary?.data.length === 1) {
    return decodeVariableWidth(column, type);
  }
  // Other value types (rare: numbers, large strings) and chunked dictionaries go through a builder.
  return arrow.vectorFromArray([...column], type).data[0]!;
}

/**
 * Strings and binaries by copying each value's bytes once: a categorical column of millions of
 * rows decodes without a JS string per row.
 */
function decodeVariableWidth(column: arrow.Vector<arrow.Dictionary>, type: arrow.Utf8 | arrow.Binary): arrow.Data {
  const data = column.data[0]!;
  const dictionary = data.dictionary!.data[0]!;
  const dictOffsets = dictionary.valueOffsets as Int32Array;
  const dictBytes = dictionary.values as Uint8Array;
  // A sliced Data's values start at its first row already; only the validity bitmap is read through data.offset (getValid).
  const indices = data.values as ArrayLike<number | bigint>;
  const n = data.length;
  const valid = (i: number) => data.getValid(i);
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (valid(i)) {
      const k = Number(indices[i]);
      total += dictOffsets[k + 1]! - dictOffsets[k]!;
    }
    offsets[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    if (!valid(i)) continue;
    const k = Number(indices[i]);
    bytes.set(dictBytes.subarray(dictOffsets[k]!, dictOffsets[k + 1]!), offsets[i]!);
  }
  const nullBitmap = data.nullCount > 0 ? bitmapOf(n, valid) : undefined;
  const props = { length: n, nullCount: data.nullCount, nullBitmap, valueOffsets: offsets, data: bytes };
  return arrow.DataType.isUtf8(type) ? arrow.makeData({ type, ...props }) : arrow.makeData({ type, ...props });
}

function bitmapOf(n: number, valid: (i: number) => boolean): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (valid(i)) bitmap[i >> 3]! |= 1 << (i & 7);
  return bitmap;
}
