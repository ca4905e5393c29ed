import { callUpstream } from "@granary/service-clients";
import { FailedPreconditionError } from "@granary/errors";

/**
 * Runs a metadata call with the shared upstream mapping (libs/service-clients upstream-error.ts); NOT_FOUND
 * means the project is unknown there, which for the registry's caller is FAILED_PRECONDITION with
 * `notFound`.
 */
export function askMetadata<T>(call: () => Promise<T>, notFound: string): Promise<T> {
  return callUpstream(call, { service: "the metadata service", notFound: (_message, cause) => new FailedPreconditionError(notFound, { cause }) });
}
