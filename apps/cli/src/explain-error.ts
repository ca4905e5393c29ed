import type { ConnectError } from "@connectrpc/connect";
import type { Granary } from "@granary/client";
import { CliError, UsageError } from "./cli-error.js";
import { loadRuntime, type ConnectModule } from "./runtime.js";

/** What the user reads for a failure (one line), and the exit code. */
export interface Explained {
  readonly message: string;
  readonly exitCode: number;
}

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/**
 * Turns any failure into one actionable line. The services' messages are written for users
 * ("feature group "x" version 1 does not exist in project "p""), so they are shown as they are;
 * transport failures say what to check instead of echoing a socket error.
 */
export interface ExplainOptions {
  readonly granary?: Granary | undefined;
  readonly timeoutMs?: number | undefined;
  readonly interrupted?: boolean;
  /** Which API key was sent, or where keys are looked for: said on UNAUTHENTICATED. */
  readonly apiKeyHint?: string | undefined;
}

export async function explainError(err: unknown, options: ExplainOptions = {}): Promise<Explained> {
  if (err instanceof UsageError) return { message: err.message, exitCode: EXIT_USAGE };
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (options.interrupted) return { message: "interrupted", exitCode: EXIT_INTERRUPTED };
  if (isConnectLike(err)) {
    const connect = (await loadRuntime()).connect;
    const e = connect.ConnectError.from(err);
    return { message: await explainConnectError(e, options, connect), exitCode: EXIT_FAILED };
  }
  if (err instanceof TypeError || err instanceof RangeError) {
    // The SDK checks inputs before sending (a missing serving key, a value of the wrong type).
    return { message: oneLine(err.message), exitCode: EXIT_FAILED };
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    return { message: fileError(err as NodeJS.ErrnoException), exitCode: EXIT_FAILED };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: `${oneLine(message)} (GRANARY_DEBUG=1 shows details)`, exitCode: EXIT_FAILED };
}

async function explainConnectError(e: ConnectError, options: ExplainOptions, { Code, ConnectError }: ConnectModule): Promise<string> {
  const raw = oneLine(e.rawMessage);
  // node:tls failures reach the client as UNKNOWN/UNAVAILABLE/INTERNAL; they are the caller's trust settings, not the suite failing.
  if (TLS_TRUST.test(raw)) return `the TLS certificate of the suite was not trusted: ${raw}; give its CA with --ca-file or GRANARY_TLS_CA`;
  switch (e.code) {
    case Code.Unavailable:
      return `${await unreachable(options.granary)} (${raw})`;
    case Code.DeadlineExceeded:
      return `the call timed out${options.timeoutMs ? ` after ${options.timeoutMs} ms` : ""}: raise --timeout, or check that the suite is not overloaded (${raw})`;
    case Code.Unauthenticated: {
      // The SDK appends its own hint (in its words: "the apiKey option"); the CLI's names --api-key.
      const server = e.cause instanceof ConnectError && e.cause.code === Code.Unauthenticated ? oneLine(e.cause.rawMessage) : raw;
      return `not authenticated: ${server}; ${options.apiKeyHint ?? "give an API key with --api-key or GRANARY_API_KEY"}`;
    }
    case Code.PermissionDenied:
      return `permission denied: ${raw}`;
    case Code.Canceled:
      return "cancelled";
    case Code.ResourceExhausted:
      return `the suite refused the request as too large or too many: ${raw}`;
    case Code.Unimplemented:
      return `the service does not implement this call (an older suite?): ${raw}`;
    case Code.Internal:
    case Code.Unknown:
    case Code.DataLoss:
      return `the suite failed: ${raw} (its logs have the details)`;
    default:
      // NOT_FOUND, ALREADY_EXISTS, INVALID_ARGUMENT, FAILED_PRECONDITION…: the service's own words.
      return raw;
  }
}

const TLS_TRUST = /unable to verify|self[- ]signed certificate|certificate has expired|unable to get (local )?issuer|Hostname\/IP does not match|ERR_TLS_CERT/i;

/** Names the services that do not answer, with their addresses. */
async function unreachable(granary: Granary | undefined): Promise<string> {
  if (!granary) return "cannot reach the Granary suite";
  const report = await granary.health(1_000);
  const down = Object.entries(report).filter(([, r]) => r.status !== "SERVING");
  if (down.length === 0) return "the suite did not answer (it may be restarting; try again)";
  const list = down.map(([name, r]) => `${name} at ${r.address} is ${r.status === "UNREACHABLE" ? "unreachable" : r.status}`).join(", ");
  return `cannot reach the suite: ${list}; is it running (npm start)? Addresses come from --address/--metadata/… or GRANARY_<SERVICE>_ADDRESS`;
}

function fileError(err: NodeJS.ErrnoException): string {
  const path = err.path ? ` ${err.path}` : "";
  switch (err.code) {
    case "ENOENT":
      return `no such file or directory:${path}`;
    case "EACCES":
    case "EPERM":
      return `permission denied:${path}`;
    case "EISDIR":
      return `is a directory:${path}`;
    case "ENOTDIR":
      return `not a directory:${path}`;
    case "ENOSPC":
      return `no space left on the device${path ? ` writing${path}` : ""}`;
    default:
      return oneLine(err.message);
  }
}

/** A ConnectError (told by name: connect is loaded only once a command runs). */
function isConnectLike(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { name?: unknown }).name === "ConnectError";
}

/** The first line of a message, trimmed. */
export function oneLine(message: string): string {
  return (message.split("\n").find((l) => l.trim() !== "") ?? message).trim();
}
