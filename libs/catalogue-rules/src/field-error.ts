import { InvalidArgumentError } from "@granary/errors";

const MAX_QUOTED = 80;

/**
 * An INVALID_ARGUMENT whose message starts with the field path, so a user who only sees the message
 * (a CLI, a log line) still knows which part of the request to fix.
 */
export function fieldError(field: string, message: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`${field}: ${message}`, cause === undefined ? { field } : { field, cause });
}

/** A user-supplied string as it appears in messages: quoted, escaped, and cut to 80 characters. */
export function quote(value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value);
}
