import { DataLossError, GranaryError, ResourceExhaustedError, UnavailableError } from "@granary/errors";

// LMDB's return codes (lmdb.h) and errno values, as lmdb-js puts them on `code`.
const MDB_MAP_FULL = -30792;
const MDB_CORRUPTED = -30796;
const ENOSPC = 28;
const EDQUOT = 122;

/** What lmdb-js throws, as an error a caller can act on; the message names the setting, never a path. */
export function translateLocalError(err: unknown): unknown {
  if (err instanceof GranaryError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case MDB_MAP_FULL:
      return new ResourceExhaustedError(
        "the local write log reached its size limit; nothing was appended (operators: raise its map size, or set GRANARY_NATS_URL)",
        { cause: err },
      );
    case ENOSPC:
    case EDQUOT:
      return new ResourceExhaustedError("the local write log's disk is full; nothing was appended (operators: free space on the data directory's volume)", {
        cause: err,
      });
    case MDB_CORRUPTED:
      return new DataLossError("the local write log's file is corrupt (operators: restore the data directory)", { cause: err });
    default:
      return new UnavailableError("the local write log could not store the batch; retry later", { cause: err });
  }
}
