import { create, toBinary } from "@bufbuild/protobuf";
import { ColumnDataSchema, ColumnarRowsSchema, type ColumnData, type ColumnarRows } from "@granary/proto/types";

/**
 * A batch cut into row ranges whose encoded ColumnarRows fit `maxBytes` each (a message of the log
 * is capped at 1 MiB, NATS's default max_payload), in row order; the batch itself when it fits.
 * Parts are sized from the batch's bytes per row, with a margin, then halved until they fit (rows
 * of very different sizes). A single row larger than `maxBytes` is returned as its own part for the
 * log to refuse with RESOURCE_EXHAUSTED.
 */
export function splitRows(rows: ColumnarRows, maxBytes: number): ColumnarRows[] {
  const size = toBinary(ColumnarRowsSchema, rows).byteLength;
  if (size <= maxBytes || rows.rowCount <= 1) return [rows];
  const perPart = Math.max(1, Math.floor((rows.rowCount * maxBytes * 0.9) / size));
  const parts: ColumnarRows[] = [];
  for (let start = 0; start < rows.rowCount; start += perPart) {
    const part = sliceRows(rows, start, Math.min(rows.rowCount, start + perPart));
    if (part.rowCount > 1 && toBinary(ColumnarRowsSchema, part).byteLength > maxBytes) parts.push(...splitRows(part, maxBytes));
    else parts.push(part);
  }
  return parts;
}

/** Rows [start, end) of a batch, every column cut alike. */
export function sliceRows(rows: ColumnarRows, start: number, end: number): ColumnarRows {
  return create(ColumnarRowsSchema, {
    rowCount: end - start,
    columns: rows.columns.map((c) => ({ name: c.name, data: c.data ? sliceColumn(c.data, start, end) : undefined })),
  });
}

function sliceColumn(data: ColumnData, start: number, end: number): ColumnData {
  const nullIndexes = data.nullIndexes.filter((i) => i >= start && i < end).map((i) => i - start);
  const v = data.values;
  if (v.case === undefined) return create(ColumnDataSchema, { nullIndexes });
  if (v.case === "lists") {
    const offsets = v.value.offsets.slice(start, end + 1);
    const first = offsets[0] ?? 0;
    const items = v.value.items ? sliceColumn(v.value.items, first, offsets[offsets.length - 1] ?? first) : undefined;
    return create(ColumnDataSchema, { values: { case: "lists", value: { offsets: offsets.map((o) => o - first), items } }, nullIndexes });
  }
  // Every other case is a message with one repeated `values` field.
  const values = (v.value as { values: unknown[] }).values.slice(start, end);
  return create(ColumnDataSchema, { values: { case: v.case, value: { values } } as never, nullIndexes });
}
