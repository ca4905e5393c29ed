import { FailedPreconditionError, GranaryError, UnavailableError } from "@granary/errors";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { errors as natsErrors } from "@nats-io/transport-node";

/** A NATS URL as messages show it: without user, password or token. */
export function displayUrl(url: string): string {
  return url
    .split(",")
    .map((one) => one.trim().replace(/^([a-z]+:\/\/)?[^@/]*@/i, "$1"))
    .join(",");
}

/**
 * What the NATS client throws, as the error a caller can act on. Anything that says "NATS cannot
 * be reached or did not answer in time" is UNAVAILABLE naming NATS and its URL (never NOT_FOUND or
 * INTERNAL: a retry may succeed); a stream or consumer missing on a reachable server is
 * FAILED_PRECONDITION naming it. `what` says what was being done ("appending to granary.p.g.v1").
 */
export function translateNatsError(err: unknown, url: string, what: string): GranaryError {
  if (err instanceof GranaryError) return err;
  const at = `NATS at ${displayUrl(url)}`;
  if (err instanceof JetStreamApiError) {
    if (err.code === JetStreamApiCodes.StreamNotFound) {
      return new FailedPreconditionError(
        `${what}: ${at} has no such JetStream stream (${err.message}); operators: create it, or let the service create it at start`,
        { cause: err },
      );
    }
    if (err.code === JetStreamApiCodes.ConsumerNotFound) {
      return new FailedPreconditionError(`${what}: ${at} has no such consumer (${err.message})`, { cause: err });
    }
    return new UnavailableError(`${what}: ${at} refused the request: ${err.message}`, { cause: err });
  }
  const name = err instanceof Error ? err.name : "";
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof natsErrors.TimeoutError) {
    return new UnavailableError(`${what}: ${at} did not answer in time; the outcome is unknown, retry with the same msgId`, { cause: err });
  }
  if (err instanceof natsErrors.ClosedConnectionError || err instanceof natsErrors.DrainingConnectionError) {
    return new UnavailableError(`${what}: the connection to ${at} is closed (the service is shutting down)`, { cause: err });
  }
  if (name === "JetStreamNotEnabled" || (err instanceof natsErrors.RequestError && err.isNoResponders())) {
    return new UnavailableError(`${what}: no JetStream stream at ${at} answered (is JetStream enabled, and the log's stream there?)`, { cause: err });
  }
  return new UnavailableError(`${what}: ${at} failed: ${message}`, { cause: err });
}
