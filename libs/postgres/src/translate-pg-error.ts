import { AbortedError, AlreadyExistsError, FailedPreconditionError, GranaryError, InvalidArgumentError, UnavailableError } from "@granary/errors";
import { QUERY_TIMEOUT_MESSAGE, QueryDeadlineError } from "./query-deadline.js";

// Messages go to users: they never repeat the driver's text, which can carry SQL, constraint names
// or other rows' values. The driver error stays as `cause` for the logs.
const UNAVAILABLE = "database unavailable; retry later";
const NUL_MESSAGE = "a text value contains a NUL character, which is not allowed";

const BY_SQLSTATE: Readonly<Record<string, (cause: unknown) => GranaryError>> = {
  // unique_violation
  "23505": (cause) => new AlreadyExistsError("already exists", { cause }),
  // foreign_key_violation: the row refers to one that does not exist, or one still refers to it.
  "23503": (cause) => new FailedPreconditionError("a related resource is missing or still in use", { cause }),
  // check_violation, string_data_right_truncation, numeric_value_out_of_range
  "23514": (cause) => new InvalidArgumentError("a value was rejected by a database constraint", { cause }),
  "22001": (cause) => new InvalidArgumentError("a value is too long", { cause }),
  "22003": (cause) => new InvalidArgumentError("a number is out of range", { cause }),
  // character_not_in_repertoire, untranslatable_character: PostgreSQL stores no NUL in text, nor
  // \u0000 in jsonb, so a request carrying one (a search query, a tag filter…) is refused as such.
  "22021": (cause) => new InvalidArgumentError(NUL_MESSAGE, { cause }),
  "22P05": (cause) => new InvalidArgumentError(NUL_MESSAGE, { cause }),
  // serialization_failure, deadlock_detected: the transaction lost a race and can simply be retried.
  "40001": (cause) => new AbortedError("concurrent modification, retry", { cause }),
  "40P01": (cause) => new AbortedError("concurrent modification, retry", { cause }),
  // query_canceled: statement_timeout (30 s) ran out, or an operator cancelled the statement. Either
  // way the statement did not finish in time; the caller decides whether to retry.
  "57014": (cause) => new QueryDeadlineError("the database statement took too long and was cancelled", { cause }),
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or in recovery), too_many_connections
  "57P01": (cause) => new UnavailableError(UNAVAILABLE, { cause }),
  "57P02": (cause) => new UnavailableError(UNAVAILABLE, { cause }),
  "57P03": (cause) => new UnavailableError(UNAVAILABLE, { cause }),
  "53300": (cause) => new UnavailableError(UNAVAILABLE, { cause }),
  // object_not_in_prerequisite_state: what a database refusing connections for now says ("database
  // is not currently accepting connections"); none of the services' queries raise it otherwise.
  "55000": (cause) => new UnavailableError(UNAVAILABLE, { cause }),
};

// Socket-level failures reported by Node while connecting to or talking with the server.
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

// pg and pg-pool report a lost or unobtainable connection as plain Errors with these messages.
const UNAVAILABLE_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
  "Cannot use a pool after calling end on the pool",
];

/**
 * Maps a pg driver error to the typed error a handler should throw: unique violation → AlreadyExists,
 * foreign key violation → FailedPrecondition, serialization failure or deadlock → Aborted, a statement
 * cancelled by statement_timeout or a query past the call's deadline → DeadlineExceeded, a database
 * that is down, restarting, refusing connections or out of connections → Unavailable (never NotFound). Anything else,
 * including errors that are already typed, comes back unchanged for the caller to treat as internal.
 */
export function translatePgError(err: unknown): unknown {
  if (err instanceof GranaryError) return err;
  const sqlState = sqlStateOf(err);
  if (sqlState !== undefined) {
    const translate = BY_SQLSTATE[sqlState];
    if (translate !== undefined) return translate(err);
    // Class 08: connection exceptions.
    if (sqlState.startsWith("08")) return new UnavailableError(UNAVAILABLE, { cause: err });
    return err;
  }
  // query_timeout (the call's deadline, see query-deadline.ts) fired: the database did not answer in time.
  if (err instanceof Error && err.message === QUERY_TIMEOUT_MESSAGE) return new QueryDeadlineError(undefined, { cause: err });
  return isConnectionFailure(err) ? new UnavailableError(UNAVAILABLE, { cause: err }) : err;
}

/** True when the error means the database cannot be reached right now, typed or straight from pg. */
export function isUnavailable(err: unknown): boolean {
  return translatePgError(err) instanceof UnavailableError;
}

/** The SQLSTATE of an error the server sent; Node's errno codes (EPIPE is five letters too) are not. */
function sqlStateOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("severity" in err) || !("code" in err)) return undefined;
  return typeof err.code === "string" && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : undefined;
}

function isConnectionFailure(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  if ("code" in err && typeof err.code === "string" && NETWORK_CODES.has(err.code)) return true;
  // Node reports a failed connection to a host with several addresses as an AggregateError.
  if (err instanceof AggregateError) return err.errors.some(isConnectionFailure);
  return err instanceof Error && UNAVAILABLE_MESSAGES.some((message) => err.message.startsWith(message));
}
