import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { eventTimeBounds } from "@granary/arrow";
import { toConnectError } from "@granary/errors";
import { FeatureGroupSchema } from "@granary/proto/metadata";
import { ColumnarRowsSchema, DataTypeSchema, ScalarType } from "@granary/proto/types";
import { KeyEncoder, MAX_KEY_BYTES } from "../store/key-codec.js";
import { LmdbOnlineStore } from "../store/lmdb-online-store.js";
import { decodeCell, decodeRowInto } from "../store/row-codec.js";
import { keysOf, storedRowsOf } from "./stored-rows.js";

const STRING = create(DataTypeSchema, { scalar: ScalarType.STRING });
const group = create(FeatureGroupSchema, {
  id: 7n,
  name: "notes",
  version: 1,
  columns: [
    { name: "id", type: STRING },
    { name: "note", type: STRING },
  ],
  primaryKey: ["id"],
});
const NOW = 1_700_000_000_000_000n;
const bounds = eventTimeBounds(NOW, 86_400);
const rowsOf = (ids: string[], notes: string[]) =>
  create(ColumnarRowsSchema, {
    rowCount: ids.length,
    columns: [
      { name: "id", data: { values: { case: "strings", value: { values: ids } } } },
      { name: "note", data: { values: { case: "strings", value: { values: notes } } } },
    ],
  });

let dir: string;
let store: LmdbOnlineStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "granary-stored-rows-"));
  store = new LmdbOnlineStore({ path: dir, mapSizeBytes: 16 * 1024 * 1024 });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The note stored under a string key, decoded as a lookup decodes it. */
function noteOf(id: string): string | undefined {
  const raw = store.get(new KeyEncoder().begin(group.id).add(STRING, id).finish());
  if (!raw) return undefined;
  let note: string | undefined;
  const sink = (set: boolean) => ({
    value: (_row: number, buf: Buffer, offset: number) => void (set && (note = decodeCell(STRING, buf, offset) as string)),
    missing: () => {},
  });
  decodeRowInto(raw, [STRING, STRING], [sink(false), sink(true)], 0);
  return note;
}

describe("online writes: NUL and long keys", () => {
  // Decision: NUL is accepted in string keys and values online. Keys escape 0x00 (key-codec.ts) and
  // values are length-prefixed, so a NUL round-trips and never makes two keys collide.
  it("stores and finds string keys and values holding NUL, apart from the key without it", async () => {
    await store.upsert(storedRowsOf(group, rowsOf(["a\u0000b", "a", "a\u0000"], ["x\u0000y", "plain", "end\u0000"]), NOW, bounds), "committed");
    expect(noteOf("a\u0000b")).toBe("x\u0000y");
    expect(noteOf("a")).toBe("plain");
    expect(noteOf("a\u0000")).toBe("end\u0000");
    expect(noteOf("ab")).toBeUndefined();
    expect(await store.delete(keysOf(group, rowsOf(["a\u0000b"], ["-"])), "committed")).toBe(1);
    expect(noteOf("a\u0000b")).toBeUndefined();
    expect(noteOf("a")).toBe("plain");
  });

  it("refuses a key longer than the store takes with INVALID_ARGUMENT naming the row and key, before writing", () => {
    const long = "k".repeat(MAX_KEY_BYTES);
    for (const refuse of [() => storedRowsOf(group, rowsOf(["ok", long], ["1", "2"]), NOW, bounds), () => keysOf(group, rowsOf(["ok", long], ["1", "2"]))]) {
      const sent = toConnectError(captured(refuse));
      expect(sent.code).toBe(Code.InvalidArgument);
      expect(sent.rawMessage).toContain('row 1: the primary key ("id")');
    }
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a refusal");
}
