import { afterAll, describe, expect, it } from "@jest/globals";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LmdbOnlineStore } from "./lmdb-online-store.js";

const root = mkdtempSync(join(tmpdir(), "granary-lmdb-preflight-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = (setup?: (d: string) => void): string => {
  const d = join(root, `s${n++}`);
  mkdirSync(d, { recursive: true });
  setup?.(d);
  return d;
};
const MAP = 16 * 1024 * 1024;

// Each of these made lmdb-js 3.5.6 fail mdb_env_open and then touch freed memory: the process died
// with SIGSEGV (foreign or short data.mdb) or its heap was corrupted for a later abort.
describe("the online store refuses files that are not an LMDB environment, without opening them", () => {
  it.each([
    ["a data.mdb of zeros", (d: string) => writeFileSync(join(d, "data.mdb"), Buffer.alloc(64 * 1024))],
    ["a short data.mdb", (d: string) => writeFileSync(join(d, "data.mdb"), Buffer.alloc(100))],
    ["a foreign file as data.mdb", (d: string) => writeFileSync(join(d, "data.mdb"), Buffer.from("PAR1".repeat(4096)))],
    ["a directory as data.mdb", (d: string) => mkdirSync(join(d, "data.mdb"))],
  ])("%s", (_what, setup) => {
    const path = dir(setup);
    expect(() => new LmdbOnlineStore({ path, mapSizeBytes: MAP })).toThrow(/data\.mdb (is not an LMDB environment|is not a regular file)/);
    // The process is still whole: a new store opens and works.
    const store = new LmdbOnlineStore({ path: dir(), mapSizeBytes: MAP });
    expect(store.get(Buffer.from("missing"))).toBeUndefined();
    return store.close();
  });

  it("opens a new directory, an empty data.mdb and an existing environment", async () => {
    const fresh = dir();
    const store = new LmdbOnlineStore({ path: fresh, mapSizeBytes: MAP });
    await store.close();
    const copy = dir((d) => cpSync(fresh, d, { recursive: true }));
    await new LmdbOnlineStore({ path: copy, mapSizeBytes: MAP }).close();
    const empty = dir((d) => writeFileSync(join(d, "data.mdb"), Buffer.alloc(0)));
    await new LmdbOnlineStore({ path: empty, mapSizeBytes: MAP }).close();
  });
});
