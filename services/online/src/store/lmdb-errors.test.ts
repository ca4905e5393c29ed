import { afterAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { GranaryError, toConnectError } from "@granary/errors";
import { DataTypeSchema, ScalarType } from "@granary/proto/types";
import { KeyEncoder, MAX_KEY_BYTES } from "./key-codec.js";
import { translateLmdbError, translateLmdbFailure } from "./lmdb-errors.js";
import { LmdbOnlineStore } from "./lmdb-online-store.js";
import { RowEncoder } from "./row-codec.js";

const run = promisify(execFile);
const STRING = create(DataTypeSchema, { scalar: ScalarType.STRING });
const dirs: string[] = [];
// No dot in the name: lmdb-js takes a path with an extension for a file, not a directory.
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "granary-lmdb-errors-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An error as lmdb-js's native code makes it: mdb_strerror's text and the return code. */
function lmdbError(message: string, code: number): Error {
  return Object.assign(new Error(message), { code });
}

describe("LMDB failures leave the online store typed", () => {
  it("a disk that fills up → UNAVAILABLE naming the volume, earlier rows still read, the process lives", async () => {
    // A real LMDB under a 2 MiB file-size limit: its file cannot grow, as on a full disk. Node
    // ignores SIGXFSZ, so the write fails instead of killing the process.
    const fixture = fileURLToPath(new URL("./lmdb-disk-full.fixture.ts", import.meta.url));
    const dir = tempDir();
    const { stdout } = await run("bash", ["-c", 'ulimit -f 2048 && exec "$0" --import tsx "$1" "$2"', process.execPath, fixture, dir], { timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as { stored: number; answers: { code: number; message: string }[]; readBack: boolean };
    expect(result.stored).toBeGreaterThan(0);
    expect(result.answers).toHaveLength(2);
    for (const answer of result.answers) {
      // LMDB reports the short write of a filling disk as EIO, later writes as EFBIG/ENOSPC.
      expect([Code.Unavailable, Code.ResourceExhausted]).toContain(answer.code);
      expect(answer.message).toContain("GRANARY_ONLINE_LMDB_PATH");
      expect(answer.message).not.toContain(dir);
    }
    expect(result.readBack).toBe(true);
  }, 90_000);

  it("a key longer than LMDB takes → INVALID_ARGUMENT from a real write; a lookup of it finds nothing", async () => {
    const store = new LmdbOnlineStore({ path: tempDir(), mapSizeBytes: 1024 * 1024 });
    try {
      const key = new KeyEncoder().begin(1n).add(STRING, "k".repeat(MAX_KEY_BYTES)).finish();
      const value = new RowEncoder([STRING]).encode(1n, ["v"]);
      const err = await store.upsert([{ key, value, eventMicros: 1n }], "committed").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(toConnectError(err).code).toBe(Code.InvalidArgument);
      expect(store.get(key)).toBeUndefined();
      // The store goes on.
      const short = new KeyEncoder().begin(1n).add(STRING, "k").finish();
      await store.upsert([{ key: short, value, eventMicros: 1n }], "committed");
      expect(store.get(short)).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it("a closed store → UNAVAILABLE", async () => {
    const store = new LmdbOnlineStore({ path: tempDir(), mapSizeBytes: 1024 * 1024 });
    await store.close();
    const key = new KeyEncoder().begin(1n).add(STRING, "k").finish();
    const err = await store.upsert([{ key, value: new RowEncoder([STRING]).encode(1n, ["v"]), eventMicros: 1n }], "committed").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(toConnectError(err).code).toBe(Code.Unavailable);
  });

  // lmdb-js grows its map on demand (its addition to mdb_page_alloc), so a small mapSize does not
  // fill up: MAP_FULL and READERS_FULL cannot be provoked on a healthy machine. These check the
  // mapping of the errors exactly as lmdb-js's throwLmdbError makes them.
  it.each([
    ["MDB_MAP_FULL: Environment mapsize limit reached", -30792, Code.ResourceExhausted, "GRANARY_ONLINE_MAP_SIZE_MB"],
    ["MDB_READERS_FULL: Environment maxreaders limit reached", -30790, Code.Unavailable, "reader slot"],
    ["MDB_TXN_FULL: Transaction has too many dirty pages", -30788, Code.ResourceExhausted, "fewer rows"],
    ["MDB_CORRUPTED: Located page was wrong type", -30796, Code.DataLoss, "GRANARY_ONLINE_LMDB_PATH"],
    ["No space left on device", 28, Code.ResourceExhausted, "GRANARY_ONLINE_LMDB_PATH"],
    ["Input/output error", 5, Code.Unavailable, "GRANARY_ONLINE_LMDB_PATH"],
  ])("%s (code %s) → gRPC code %s", async (message, code, expected, hint) => {
    const sync = translateLmdbError(lmdbError(message, code));
    expect(sync).toBeInstanceOf(GranaryError);
    expect(toConnectError(sync).code).toBe(expected);
    expect((sync as GranaryError).message).toContain(hint);
    // A failed commit carries its cause on a promise, as lmdb-js's rejectCommit makes it.
    const commitError = Promise.reject(lmdbError(message, code));
    const failed = Object.assign(new Error("Commit failed (see commitError for details)"), { commitError });
    expect(toConnectError(await translateLmdbFailure(failed)).code).toBe(expected);
  });

  it("leaves unknown errors untouched (INTERNAL)", () => {
    const odd = new Error("something else");
    expect(translateLmdbError(odd)).toBe(odd);
  });
});
