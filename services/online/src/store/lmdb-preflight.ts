import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";

/** LMDB's meta-page magic, at byte 24 of the first page in lmdb-js's build (after the page header). */
const MDB_MAGIC = 0xbeefc0de;
const MAGIC_OFFSET = 24;
/** Two meta pages of LMDB's smallest page size: anything shorter cannot be an environment. */
const MIN_DATA_BYTES = 2 * 4096;

/**
 * Checks the files of an LMDB environment before lmdb-js opens it. lmdb-js 3.5.6 handles a failed
 * mdb_env_open badly: src/env.cpp (openEnv) deletes the environment's ExtendedEnv and then calls
 * closeEnv, which locks and unlocks mutexes inside the freed block and walks its freed maps. A
 * data.mdb that is not an LMDB file (truncated, a foreign file, zeros) therefore crashes the process
 * with SIGSEGV or corrupts the heap so that a later allocation aborts ("corrupted size vs.
 * prev_size"), instead of throwing. Every case this check can recognise is refused here with a
 * message an operator can act on, so lmdb-js never takes that path. See
 * docs/upstream/lmdb-js-failed-open.md for the reproduction.
 */
export function checkLmdbFiles(path: string): void {
  const data = join(path, "data.mdb");
  let size: number;
  try {
    const stat = statSync(data);
    if (!stat.isFile()) throw new Error(`${data} is not a regular file; GRANARY_ONLINE_LMDB_PATH must be the online store's own directory`);
    size = stat.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // a new store
    throw err;
  }
  if (size === 0) return; // created but never initialised: LMDB initialises it
  const refuse = (why: string) =>
    new Error(
      `${data} is not an LMDB environment (${why}); refusing to open it. Point GRANARY_ONLINE_LMDB_PATH at the online store's directory, ` +
        "or move the file away to start an empty store and rebuild it from the offline store",
    );
  if (size < MIN_DATA_BYTES) throw refuse(`${size} bytes, shorter than its two meta pages`);
  const head = Buffer.alloc(MAGIC_OFFSET + 4);
  const fd = openSync(data, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32LE(MAGIC_OFFSET) !== MDB_MAGIC) throw refuse("no LMDB meta page at its start");
}
