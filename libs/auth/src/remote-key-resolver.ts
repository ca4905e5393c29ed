import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { errorInfoOf, UnauthenticatedError, UnavailableError } from "@granary/errors";
import type { MetadataService } from "@granary/proto/metadata";
import type { KeyResolver } from "./key-resolver.js";

/**
 * Resolves API keys through the metadata service (AuthenticateApiKey, called with the service's
 * own identity), which holds the hashes. Used by online, offline and registry.
 */
export function remoteKeyResolver(metadata: Client<typeof MetadataService>, timeoutMs = 5_000): KeyResolver {
  return async (token) => {
    try {
      const { apiKey } = await metadata.authenticateApiKey({ secret: token }, { timeoutMs });
      if (!apiKey) throw new UnauthenticatedError("unknown API key", { reason: "API_KEY_UNKNOWN" });
      return apiKey;
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
        const reason = errorInfoOf(err)?.reason;
        throw new UnauthenticatedError(err.rawMessage, reason ? { reason } : undefined);
      }
      if (err instanceof UnauthenticatedError) throw err;
      throw new UnavailableError("cannot check the API key now: the metadata service is unreachable; retry shortly", { cause: err });
    }
  };
}
