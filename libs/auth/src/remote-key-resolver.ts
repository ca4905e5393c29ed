import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { UnauthenticatedError, UnavailableError } from "@granary/errors";
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
      if (!apiKey) throw new UnauthenticatedError("unknown API key");
      return apiKey;
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.Unauthenticated) throw new UnauthenticatedError(err.rawMessage);
      if (err instanceof UnauthenticatedError) throw err;
      throw new UnavailableError("cannot check the API key now: the metadata service is unreachable; retry shortly", { cause: err });
    }
  };
}
