import { Code } from "@connectrpc/connect";
import { GranaryError, InvalidArgumentError, ResourceExhaustedError, UnavailableError } from "@granary/errors";

// Messages go to callers: never DuckDB's own text, which quotes SQL, file paths under the data root
// and values of stored rows. DuckDB's error stays as `cause` for the logs.
const OUT_OF_MEMORY =
  "the offline query engine ran out of memory; retry later or with a narrower query (operators: raise GRANARY_OFFLINE_DUCKDB_MEMORY, or lower GRANARY_OFFLINE_MAX_QUERIES)";
const DISK_FULL =
  "the offline store's disk is full; nothing was written (operators: free space on the volume of GRANARY_OFFLINE_DATA_ROOT, which also holds DuckDB's spill directory .duckdb-tmp)";
const SPILL_FULL =
  "the offline query engine ran out of memory and of temporary disk space for spilling; retry later or with a narrower query (operators: raise GRANARY_OFFLINE_DUCKDB_MEMORY or free space under GRANARY_OFFLINE_DATA_ROOT)";
const NO_ACCESS = "the offline store cannot access its files (operators: check the ownership and permissions of GRANARY_OFFLINE_DATA_ROOT); retry later";
const TOO_MANY_FILES = "the offline store has too many open files (operators: raise the process's open-file limit); retry later";
const IO_FAILED = "the offline store could not read or write its files; retry later (the server logged the details)";
const INTERRUPTED = "the query was interrupted";
export const NUL_IN_SQL = "a text value contains a NUL character, which the offline store cannot take";

/**
 * DuckDB reports every failure as a plain Error whose message starts with its class: "Out of
 * Memory Error: …", "IO Error: …", "Conversion Error: …". The class, or undefined for an error
 * that is not DuckDB's.
 */
export function duckErrorClass(err: unknown): string | undefined {
  // Not `instanceof Error`: the native bindings' errors may come from another realm.
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message !== "string") return undefined;
  return /^([A-Za-z][A-Za-z ]*?) Error: /.exec(message)?.[1];
}

/**
 * Maps what the engine's environment makes DuckDB throw to an error a client can act on: out of
 * memory → RESOURCE_EXHAUSTED; disk full → RESOURCE_EXHAUSTED naming the volume to free; other I/O
 * failures → UNAVAILABLE; an interrupted query → CANCELLED (a call whose deadline or cancellation
 * interrupted it reports that instead: the connection rethrows the call's abort reason first).
 *
 * Conversion, out-of-range and invalid-input errors pass unchanged: whether they are the caller's
 * fault depends on where the values came from, so the code that staged them decides (see
 * callerInputError); on stored data they are bugs and stay INTERNAL. Typed errors pass unchanged.
 */
export function translateDuckError(err: unknown): unknown {
  if (err instanceof GranaryError) return err;
  const message = String((err as { message?: unknown } | null)?.message ?? "");
  switch (duckErrorClass(err)) {
    case "Out of Memory":
      return new ResourceExhaustedError(/temp|disk|offload/i.test(firstLine(message)) ? SPILL_FULL : OUT_OF_MEMORY, { cause: err });
    case "IO":
    case "Permission":
      if (/No space left on device|disk (is )?full|ENOSPC|Disk quota exceeded|EDQUOT/i.test(message))
        return new ResourceExhaustedError(DISK_FULL, { cause: err });
      if (/Permission denied|EACCES|EPERM|Read-only file system|EROFS/i.test(message)) return new UnavailableError(NO_ACCESS, { cause: err });
      if (/Too many open files|EMFILE|ENFILE/i.test(message)) return new UnavailableError(TOO_MANY_FILES, { cause: err });
      return new UnavailableError(IO_FAILED, { cause: err });
    case "INTERRUPT":
      return new GranaryError(Code.Canceled, INTERRUPTED, { cause: err });
    default:
      return err;
  }
}

/**
 * For code that ran DuckDB over values the caller sent (an insert's rows, a request's entities): a
 * value DuckDB cannot convert or that overflows its type is the caller's mistake → INVALID_ARGUMENT
 * naming `what`. DuckDB's first line is kept (it names the value and the type, both the caller's),
 * never the SQL that follows it. Any other error comes back unchanged.
 */
export function callerInputError(err: unknown, what: string): unknown {
  const kind = duckErrorClass(err);
  if (kind !== "Conversion" && kind !== "Out of Range") return err;
  const reason = firstLine(String((err as { message: string }).message)).replace(/^[A-Za-z ]+ Error: /, "");
  return new InvalidArgumentError(`${what}: a value does not fit its column: ${reason}`, { cause: err });
}

/**
 * DuckDB's C API takes SQL as a NUL-terminated string: a NUL inside a literal would cut the
 * statement short. Only caller text can carry one (names are identifiers), so it is refused.
 */
export function refuseNul(sql: string): void {
  if (sql.includes("\u0000")) throw new InvalidArgumentError(NUL_IN_SQL);
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? "";
}
