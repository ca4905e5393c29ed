import { timestampDate, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { GranaryError, UnauthenticatedError, UnavailableError } from "@granary/errors";
import { parseApiKey, verifyApiKeySecret, type KeyResolver } from "@granary/auth";
import type { ApiKey } from "@granary/proto/metadata";
import { findApiKey } from "../store/api-keys-store.js";

/**
 * The key behind a bearer token, checked against its stored hash; UnauthenticatedError saying why
 * otherwise. An unknown id and a wrong secret get the same answer, so ids cannot be probed.
 */
export async function resolveApiKey(pool: Pool, token: string, now = Date.now()): Promise<ApiKey> {
  const parts = parseApiKey(token);
  if (!parts) throw new UnauthenticatedError("unknown API key", { reason: "API_KEY_UNKNOWN" });
  const stored = await findApiKey(pool, parts.id);
  if (!stored || !(await verifyApiKeySecret(parts.secret, stored.secretHash))) throw new UnauthenticatedError("unknown API key", { reason: "API_KEY_UNKNOWN" });
  const { key } = stored;
  if (key.revokeTime) throw new UnauthenticatedError(`API key ${key.id} was revoked at ${timestampDate(key.revokeTime).toISOString()}; ask for a new one`);
  if (key.expireTime && timestampMs(key.expireTime) <= now) {
    throw new UnauthenticatedError(`API key ${key.id} of ${key.user} expired at ${timestampDate(key.expireTime).toISOString()}; ask for a new one`);
  }
  return key;
}

/**
 * The metadata service's own key resolver: straight from PostgreSQL. A database failure is
 * UNAVAILABLE (retry), never UNAUTHENTICATED, so clients do not drop a good key.
 */
export function localKeyResolver(pool: Pool, translate: (err: unknown) => unknown = (err) => err): KeyResolver {
  return async (token) => {
    try {
      return await resolveApiKey(pool, token);
    } catch (err) {
      if (err instanceof GranaryError) throw err;
      const translated = translate(err);
      if (translated instanceof GranaryError) throw translated;
      throw new UnavailableError("cannot check the API key now; retry shortly", { cause: err });
    }
  };
}
