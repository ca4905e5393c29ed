import { createHash, timingSafeEqual } from "node:crypto";
import { type GranaryError, UnauthenticatedError } from "@granary/errors";
import { looksLikeJwt, type KeyResolver } from "./key-resolver.js";
import { principalOfKey, SERVICE_PRINCIPAL, type Principal } from "./principal.js";

export interface AuthenticatorOptions {
  /** The internal service key: calls bearing it are Granary's own services. */
  readonly serviceKey: string;
  readonly resolveKey: KeyResolver;
  /** Resolves JWT-shaped bearer tokens (OIDC), when configured; otherwise they are unknown keys. */
  readonly resolveJwt?: KeyResolver;
  readonly now?: () => number;
}

const NEGATIVE_TTL_MS = 5_000;
const MAX_ENTRIES = 50_000;

interface Entry {
  readonly principal: Principal;
  readonly keyId: string | undefined;
}

/**
 * Decides who a call is from its `authorization` header. A key is resolved once (an scrypt check
 * in metadata) and then held in a map keyed by the token, so the check on a hot path is one map
 * lookup and an expiry compare. Entries leave the map when their key is revoked or changed
 * (`evictKey`, driven by WatchChanges) — within a second on every service.
 */
export class Authenticator {
  readonly #serviceKeyDigest: Buffer;
  readonly #resolve: KeyResolver;
  readonly #resolveJwt: KeyResolver | undefined;
  readonly #now: () => number;
  readonly #known = new Map<string, Entry>();
  readonly #refused = new Map<string, { error: GranaryError; untilMs: number }>();
  readonly #pending = new Map<string, Promise<Entry>>();

  constructor(options: AuthenticatorOptions) {
    this.#serviceKeyDigest = digest(options.serviceKey);
    this.#resolve = options.resolveKey;
    this.#resolveJwt = options.resolveJwt;
    this.#now = options.now ?? Date.now;
  }

  /** The principal behind an `authorization` header value; throws UnauthenticatedError. */
  authenticate(authorization: string | undefined): Principal | Promise<Principal> {
    const token = bearerToken(authorization);
    const entry = this.#known.get(token);
    if (entry) return this.#checkExpiry(entry.principal);
    return this.#slow(token);
  }

  /** Forgets every cached entry of a key (revoked, rescoped or deleted). */
  evictKey(keyId: string): void {
    for (const [token, entry] of this.#known) if (entry.keyId === keyId) this.#known.delete(token);
  }

  /** Forgets everything (the key feed was interrupted and may have missed a revocation). */
  clear(): void {
    this.#known.clear();
    this.#refused.clear();
  }

  async #slow(token: string): Promise<Principal> {
    if (timingSafeEqual(digest(token), this.#serviceKeyDigest)) {
      this.#remember(token, { principal: SERVICE_PRINCIPAL, keyId: undefined });
      return SERVICE_PRINCIPAL;
    }
    const refused = this.#refused.get(token);
    if (refused && refused.untilMs > this.#now()) throw refused.error;
    let pending = this.#pending.get(token);
    if (!pending) {
      const resolve = this.#resolveJwt && looksLikeJwt(token) ? this.#resolveJwt : this.#resolve;
      pending = resolve(token).then(
        (key) => {
          const entry = { principal: principalOfKey(key), keyId: key.id };
          this.#remember(token, entry);
          return entry;
        },
        (err: unknown) => {
          // Remember refusals briefly: a flood of bad keys must not become a flood of scrypt checks.
          if (err instanceof UnauthenticatedError) {
            if (this.#refused.size >= MAX_ENTRIES) this.#refused.clear();
            this.#refused.set(token, { error: err, untilMs: this.#now() + NEGATIVE_TTL_MS });
          }
          throw err;
        },
      );
      this.#pending.set(token, pending);
      void pending.then(
        () => this.#pending.delete(token),
        () => this.#pending.delete(token),
      );
    }
    return this.#checkExpiry((await pending).principal);
  }

  #remember(token: string, entry: Entry): void {
    if (this.#known.size >= MAX_ENTRIES) this.#known.clear();
    this.#known.set(token, entry);
  }

  #checkExpiry(principal: Principal): Principal {
    if (principal.expiresAtMs !== undefined && principal.expiresAtMs <= this.#now()) {
      throw new UnauthenticatedError(
        `API key ${principal.keyId ?? ""} of ${principal.name} expired at ${new Date(principal.expiresAtMs).toISOString()}; ask for a new one`,
        { reason: "API_KEY_EXPIRED" },
      );
    }
    return principal;
  }
}

/** The token of an `authorization: Bearer <token>` header; throws UnauthenticatedError when absent. */
export function bearerToken(authorization: string | undefined): string {
  if (!authorization)
    throw new UnauthenticatedError("no API key: send 'authorization: Bearer <key>' (the SDK and CLI read GRANARY_API_KEY)", { reason: "API_KEY_MISSING" });
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) throw new UnauthenticatedError("the authorization header must be 'Bearer <key>'", { reason: "AUTHORIZATION_MALFORMED" });
  return match[1];
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
