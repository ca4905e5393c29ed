import { DataLossError, GranaryError, InvalidArgumentError, ResourceExhaustedError, UnavailableError } from "@granary/errors";
import { MAX_KEY_BYTES } from "./key-codec.js";

// LMDB's return codes (lmdb.h), which lmdb-js puts on its errors as `code`; errno values come
// through as positive numbers.
const MDB_MAP_FULL = -30792;
const MDB_READERS_FULL = -30790;
const MDB_TXN_FULL = -30788;
const MDB_BAD_VALSIZE = -30781;
const MDB_CORRUPTED = -30796;
const MDB_PANIC = -30795;
const EIO = 5;
const ENOMEM = 12;
const EACCES = 13;
const EFBIG = 27;
const ENOSPC = 28;
const EROFS = 30;
const EDQUOT = 122;

// Messages go to callers and name the setting or volume an operator acts on, never a path.
const DISK_FULL = "the online store's disk is full; nothing was written (operators: free space on the volume of GRANARY_ONLINE_LMDB_PATH)";
const WRITE_FAILED =
  "the online store could not write to its disk, most often because it is full; nothing was written (operators: free space on, or check, the volume of GRANARY_ONLINE_LMDB_PATH)";
const MAP_FULL =
  "the online store reached its size limit; nothing was written (operators: raise GRANARY_ONLINE_MAP_SIZE_MB, and check free space on the volume of GRANARY_ONLINE_LMDB_PATH)";
const READERS_FULL = "the online store has no free reader slot; retry later (operators: too many processes or threads read the store at once)";
const TXN_FULL = "a write changes too many rows for one transaction of the online store; send fewer rows per request";
const KEY_TOO_LONG = `a primary key is too long for the online store (at most ${MAX_KEY_BYTES} bytes once encoded)`;
const NO_MEMORY = "the online store ran out of memory; retry later";
const NO_ACCESS = "the online store cannot write its files (operators: check the permissions and mount of GRANARY_ONLINE_LMDB_PATH)";
const CORRUPTED = "the online store's file is corrupt (operators: restore GRANARY_ONLINE_LMDB_PATH or rebuild it from the offline store)";
const PANIC = "the online store failed and needs a restart of the online service";
const CLOSED = "the online store is closed (the service is shutting down); retry on another instance";

/**
 * Maps what lmdb-js throws to an error a client can act on. Synchronous errors (a read, a put
 * inside a transaction) carry LMDB's code; a failed commit is a generic "Commit failed" whose
 * cause arrives on its `commitError` promise: use translateLmdbFailure for those.
 */
export function translateLmdbError(err: unknown): unknown {
  if (err instanceof GranaryError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === "string" ? e.message : "";
  switch (e?.code) {
    case MDB_MAP_FULL:
      return new ResourceExhaustedError(MAP_FULL, { cause: err });
    case MDB_READERS_FULL:
      return new UnavailableError(READERS_FULL, { cause: err });
    case MDB_TXN_FULL:
      return new ResourceExhaustedError(TXN_FULL, { cause: err });
    case MDB_BAD_VALSIZE:
      return new InvalidArgumentError(KEY_TOO_LONG, { cause: err });
    case MDB_CORRUPTED:
      return new DataLossError(CORRUPTED, { cause: err });
    case MDB_PANIC:
      return new UnavailableError(PANIC, { cause: err });
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return new ResourceExhaustedError(DISK_FULL, { cause: err });
    // A short write (the disk filled up during it) is reported by LMDB as EIO.
    case EIO:
      return new UnavailableError(WRITE_FAILED, { cause: err });
    case EACCES:
    case EROFS:
      return new UnavailableError(NO_ACCESS, { cause: err });
    case ENOMEM:
      return new ResourceExhaustedError(NO_MEMORY, { cause: err });
  }
  if (message.startsWith("Key size is larger than the maximum key size")) return new InvalidArgumentError(KEY_TOO_LONG, { cause: err });
  // "Database is closed", "The environment is already closed", "… from a closed database".
  if (/\b(database|environment)\b.*\bclosed\b|\bclosed database\b/i.test(message)) return new UnavailableError(CLOSED, { cause: err });
  return err;
}

/**
 * translateLmdbError for a rejected write: lmdb-js rejects each transaction of a failed commit
 * with "Commit failed" and the cause on a `commitError` promise. That promise is always settled
 * here, since left unhandled its rejection would end the process.
 */
export async function translateLmdbFailure(err: unknown): Promise<unknown> {
  const pending = (err as { commitError?: unknown } | null)?.commitError;
  if (!(pending instanceof Promise)) return translateLmdbError(err);
  const cause = await Promise.race([
    pending.then(
      () => undefined,
      (e: unknown) => e,
    ),
    delay(1000),
  ]);
  if (cause === undefined) return new UnavailableError(WRITE_FAILED, { cause: err });
  const translated = translateLmdbError(cause);
  return translated === cause ? err : translated;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
