import type { CallOptions, Client } from "@connectrpc/connect";
import type { FeatureVectors, OnlineService } from "@granary/proto/online";
import { ValueStatus, type ColumnData, type ColumnarRows } from "@granary/proto/types";

// The customers group (customer_id, spend, event_time) and the "spend" view over it, as the
// write-log, replica and worker tests use them: request columns, rows and a lookup.

export const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;
export const f64 = (values: number[]): ColumnData => ({ values: { case: "doubles", value: { values } } }) as ColumnData;
export const ts = (micros: bigint[]): ColumnData => ({ values: { case: "timestamps", value: { values: micros } } }) as ColumnData;
export const nowMicros = (): bigint => BigInt(Date.now()) * 1000n;

/** Rows of the customers group: one spend per customer, all at `at`. */
export function spendRows(ids: bigint[], amounts: number[], at = nowMicros()): ColumnarRows {
  return {
    rowCount: ids.length,
    columns: [
      { name: "customer_id", data: i64(ids) },
      { name: "spend", data: f64(amounts) },
      { name: "event_time", data: ts(ids.map(() => at)) },
    ],
  } as unknown as ColumnarRows;
}

/** Each customer's spend from the "spend" view (undefined where not PRESENT). */
export async function spendOf(
  client: Client<typeof OnlineService>,
  project: string,
  ids: bigint[],
  minLogSequence = 0n,
  options?: CallOptions,
): Promise<(number | undefined)[]> {
  const res = await client.getFeatureVectors(
    {
      project,
      featureView: { name: "spend", version: 1 },
      entities: { rowCount: ids.length, servingKeys: [{ name: "customer_id", data: i64(ids) }] },
      options: { minLogSequence },
    },
    options,
  );
  const column = (res.vectors as FeatureVectors).columns.find((c) => c.name === "spend")!;
  const values = (column.values?.values.value as { values: number[] }).values;
  return ids.map((_, i) => (column.statuses[i] === ValueStatus.PRESENT ? values[i] : undefined));
}
