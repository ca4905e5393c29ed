import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "@granary/errors";
import { predictionColumn, requestParameterColumn, transformedColumn, type LoggingSchema } from "@granary/catalogue-rules";
import type { LogFeaturesRequest } from "@granary/proto/offline";
import { ColumnarRowsSchema, ScalarType, type ColumnData, type ColumnarRows, type DataType, type NamedColumn } from "@granary/proto/types";
import { columnDataOf, columnDataReader } from "../consistency/column-values.js";

/** Which wire arrays (ColumnData cases) a column of each scalar type accepts; values are converted to the column's type. */
const ACCEPTED: Record<ScalarType, readonly string[]> = {
  [ScalarType.UNSPECIFIED]: [],
  [ScalarType.BOOL]: ["bools"],
  [ScalarType.INT32]: ["int32s"],
  [ScalarType.INT64]: ["int64s", "int32s"],
  [ScalarType.FLOAT]: ["floats", "doubles"],
  [ScalarType.DOUBLE]: ["doubles", "floats", "int32s", "int64s"],
  [ScalarType.STRING]: ["strings"],
  [ScalarType.BYTES]: ["bytes"],
  [ScalarType.TIMESTAMP]: ["timestamps"],
  [ScalarType.DATE]: ["dates"],
};

interface Part {
  readonly field: string;
  readonly columns: readonly NamedColumn[];
  /** The caller's name → the type the logging group holds it as. */
  readonly types: ReadonlyMap<string, DataType>;
  /** The caller's name → the logging group's column. */
  readonly target: (name: string) => string;
  readonly what: string;
}

/**
 * The request's vectors as rows of the logging group: each named column checked (known name, one
 * value per row, a type that converts to the group's) and converted; log_id a new UUID per row,
 * log_time, model, versions and source repeated on every row. Columns the caller left out are not
 * in the result (the insert fills them with null). Throws INVALID_ARGUMENT naming the first bad
 * column, before anything is written.
 */
export function logRows(req: LogFeaturesRequest, schema: LoggingSchema, logTimeMicros: bigint): ColumnarRows {
  const n = req.rowCount;
  if (n < 1) throw new InvalidArgumentError("row_count must be 1 or more", { field: "row_count" });
  const parts: Part[] = [
    { field: "serving_keys", columns: req.servingKeys, types: schema.servingKeys, target: (c) => c, what: "a serving key" },
    { field: "untransformed", columns: req.untransformed, types: schema.untransformed, target: (c) => c, what: "an output column (not a label)" },
    {
      field: "transformed",
      columns: req.transformed,
      types: schema.transformed,
      target: transformedColumn,
      what: "an output column with a model-dependent transformation",
    },
    {
      field: "request_parameters",
      columns: req.requestParameters,
      types: schema.requestParameters,
      target: requestParameterColumn,
      what: "a request parameter of the view's on-demand features",
    },
    { field: "predictions", columns: req.predictions, types: schema.predictions, target: predictionColumn, what: "a label of the view" },
  ];
  const out = new Map<string, ColumnData>();
  for (const part of parts) {
    const seen = new Set<string>();
    part.columns.forEach((column, i) => {
      const field = `${part.field}[${i}]`;
      const type = part.types.get(column.name);
      if (!type) {
        const known = [...part.types.keys()];
        throw new InvalidArgumentError(
          `${field}: "${column.name}" is not ${part.what}${known.length ? ` (expected one of ${known.join(", ")})` : " (the view has none)"}`,
          { field: `${field}.name` },
        );
      }
      if (seen.has(column.name)) throw new InvalidArgumentError(`${field}: "${column.name}" is given twice`, { field: `${field}.name` });
      seen.add(column.name);
      checkData(column.data, type, n, `${field} ("${column.name}")`);
      const read = columnDataReader(column.data, type);
      out.set(
        part.target(column.name),
        columnDataOf(
          type,
          Array.from({ length: n }, (_, r) => read(r)),
        ),
      );
    });
  }
  const repeat = (type: DataType, value: unknown) =>
    columnDataOf(
      type,
      Array.from({ length: n }, () => value as never),
    );
  const t = (scalar: ScalarType) => ({ scalar, list: false, dimension: 0 }) as DataType;
  out.set(
    "log_id",
    columnDataOf(
      t(ScalarType.STRING),
      Array.from({ length: n }, () => randomUUID()),
    ),
  );
  out.set("log_time", repeat(t(ScalarType.TIMESTAMP), logTimeMicros));
  out.set("model", repeat(t(ScalarType.STRING), req.model === "" ? null : req.model));
  out.set("model_version", repeat(t(ScalarType.INT32), req.modelVersion === 0 ? null : req.modelVersion));
  out.set("training_dataset_version", repeat(t(ScalarType.INT32), req.trainingDatasetVersion === 0 ? null : req.trainingDatasetVersion));
  out.set("source", repeat(t(ScalarType.STRING), req.source === "" ? "client" : req.source));
  return create(ColumnarRowsSchema, { rowCount: n, columns: [...out].map(([name, data]) => ({ name, data })) });
}

/** One value per row, of a type that converts to `type`, null indexes in range. */
function checkData(data: ColumnData | undefined, type: DataType, n: number, what: string): void {
  const bad = (message: string) => new InvalidArgumentError(`${what}: ${message}; nothing was logged`);
  const values = data?.values;
  for (const i of data?.nullIndexes ?? []) if (i >= n) throw bad(`null index ${i} is not below row_count ${n}`);
  if (!values?.case) {
    if ((data?.nullIndexes.length ?? 0) !== n) throw bad(`has no values (send ${n}, or list every row in null_indexes)`);
    return;
  }
  const expected = `${type.list ? "a list of " : ""}${ScalarType[type.scalar].toLowerCase()}`;
  if (type.list) {
    if (values.case !== "lists") throw bad(`has ${values.case}, the column holds ${expected}`);
    const { offsets, items } = values.value;
    if (offsets.length !== n + 1) throw bad(`has ${Math.max(offsets.length - 1, 0)} lists (offsets), row_count is ${n}`);
    for (let i = 1; i < offsets.length; i++) if (offsets[i]! < offsets[i - 1]!) throw bad("offsets must not decrease");
    const itemCount = offsets[n]! - offsets[0]!;
    checkData(items, { ...type, list: false } as DataType, itemCount + offsets[0]!, `${what} items`);
    if (type.dimension > 0) {
      const nulls = new Set(data!.nullIndexes);
      for (let i = 0; i < n; i++) {
        const len = offsets[i + 1]! - offsets[i]!;
        if (!nulls.has(i) && len !== type.dimension) throw bad(`row ${i} has ${len} values, the column's dimension is ${type.dimension}`);
      }
    }
    return;
  }
  if (!ACCEPTED[type.scalar].includes(values.case)) throw bad(`has ${values.case}, the column holds ${expected}`);
  const count = (values.value as { values: ArrayLike<unknown> }).values.length;
  if (count !== n) throw bad(`has ${count} values, row_count is ${n}`);
}
