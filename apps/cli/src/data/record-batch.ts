import * as arrow from "apache-arrow";
import type { PlainValue } from "@granary/cel";
import { arrowTypeOf, buildColumn } from "@granary/arrow";
import type { DataType } from "@granary/proto/types";

/** A column of a feature group that a file provides. */
export interface TypedColumn {
  readonly name: string;
  readonly type: DataType;
}

/** Columns of values (as the engine holds them) as one Arrow record batch of the columns' types. */
export function recordBatchOf(columns: readonly TypedColumn[], values: readonly (readonly (PlainValue | null)[])[]): arrow.RecordBatch {
  const fields = columns.map((c) => new arrow.Field(c.name, arrowTypeOf(c.type), true));
  const children = columns.map((c, i) => buildColumn(c.type, values[i]!));
  const length = values[0]?.length ?? 0;
  const data = arrow.makeData({ type: new arrow.Struct(fields), length, nullCount: 0, children });
  return new arrow.RecordBatch(new arrow.Schema(fields), data);
}
