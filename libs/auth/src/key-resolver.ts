// The port the Authenticator resolves tokens through, and the token-shape test that picks the
// resolver, kept apart from the adapters (metadata's own tables, remote-key-resolver.ts,
// jwt-resolver.ts) so they depend on the Authenticator's contract and it on none of them.
import type { ApiKey } from "@granary/proto/metadata";

/** Turns a bearer token into its API key, or throws UnauthenticatedError saying why (unknown, revoked). */
export type KeyResolver = (token: string) => Promise<ApiKey>;

/** True when a bearer token is shaped like a JWT (three base64url parts), not like a Granary key. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
