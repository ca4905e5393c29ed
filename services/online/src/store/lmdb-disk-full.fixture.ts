import { GranaryError } from "@granary/errors";
import { create } from "@bufbuild/protobuf";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { KeyEncoder } from "./key-codec.js";
import { LmdbOnlineStore } from "./lmdb-online-store.js";
import { RowEncoder } from "./row-codec.js";

/**
 * Run by lmdb-errors.test.ts under a file-size limit (ulimit -f): writes until the store's file
 * cannot grow, as on a full disk, and prints what the writes were answered as JSON. Exits 0 unless
 * the failure escaped (an unhandled rejection ends the process with another status).
 */
const path = process.argv[2]!;
const store = new LmdbOnlineStore({ path, mapSizeBytes: 64 * 1024 });
const INT64 = create(DataTypeSchema, { scalar: ScalarType.INT64 });
const STRING = create(DataTypeSchema, { scalar: ScalarType.STRING });
const keys = new KeyEncoder();
const rows = new RowEncoder([INT64, STRING]);
const filler = "x".repeat(1000);
const answers: { batch: number; name: string; code: number | undefined; message: string }[] = [];
let stored = 0;
for (let batch = 0; batch < 2000 && answers.length < 2; batch++) {
  const batchRows = Array.from({ length: 100 }, (_, i) => {
    const id = BigInt(batch * 100 + i);
    return { key: keys.begin(1n).add(INT64, id).finish(), value: rows.encode(1n, [id, filler]), eventMicros: 1n };
  });
  try {
    await store.upsert(batchRows, "committed");
    if (answers.length === 0) stored = batch + 1;
  } catch (err) {
    answers.push({ batch, name: (err as Error).name, code: err instanceof GranaryError ? err.code : undefined, message: (err as Error).message });
  }
}
const readBack = store.get(keys.begin(1n).add(INT64, 0n).finish()) !== undefined;
process.stdout.write(`${JSON.stringify({ stored, answers, readBack })}\n`);
process.exit(0);
