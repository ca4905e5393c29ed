import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { InvalidArgumentError } from "@granary/errors";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** 0 means the default; larger than the maximum is capped (AIP-158). */
export function pageSizeOf(requested: number): number {
  if (requested <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

// Tokens are signed so that a client cannot forge one to read past a filter or feed a crafted key
// into a query. Every replica must accept the tokens of the others: the key is derived from the
// service key they share (configurePageTokenKey at start); a process that never configures one
// (unit tests, tools) signs with a random key of its own.
const configuredKeys: Buffer[] = [];
let processKey: Buffer | undefined;

/**
 * Derives the page-token signing key from a secret every replica shares (the internal service
 * key). Several services in one process may each configure theirs: tokens are signed with the
 * first and accepted under any.
 */
export function configurePageTokenKey(secret: string): void {
  const key = createHmac("sha256", secret).update("granary page tokens v1").digest();
  if (!configuredKeys.some((k) => k.equals(key))) configuredKeys.push(key);
}

function signingKey(): Buffer {
  return configuredKeys[0] ?? (processKey ??= randomBytes(32));
}

function signatureOf(key: Buffer, payload: string): Buffer {
  return createHmac("sha256", key).update(payload).digest();
}

/**
 * Keyset page tokens: the sort key of the last item returned, bound to the query it came from and
 * signed. A token replayed with other filters is refused, as AIP-158 asks, instead of silently
 * skipping rows; a forged or altered one is refused as invalid.
 */
export function encodePageToken(query: readonly unknown[], lastKey: readonly unknown[]): string {
  const payload = Buffer.from(JSON.stringify({ q: fingerprint(query), k: lastKey })).toString("base64url");
  return `${payload}.${signatureOf(signingKey(), payload).toString("base64url")}`;
}

/** The last key of the previous page, or undefined for the first page. */
export function decodePageToken(token: string, query: readonly unknown[]): unknown[] | undefined {
  if (token === "") return undefined;
  const p = verified(token) as { q?: unknown; k?: unknown } | null;
  if (typeof p !== "object" || p === null || !Array.isArray(p.k)) throw invalidToken();
  if (p.q !== fingerprint(query)) {
    throw new InvalidArgumentError("page_token belongs to a list with other filters; start again without a token", { field: "page_token" });
  }
  return p.k;
}

/** The token's payload, once its signature is checked under a key this service holds. */
function verified(token: string): unknown {
  const dot = token.lastIndexOf(".");
  if (dot < 0) throw invalidToken();
  const payload = token.slice(0, dot);
  const signature = Buffer.from(token.slice(dot + 1), "base64url");
  const keys = configuredKeys.length > 0 ? configuredKeys : [signingKey()];
  const authentic = keys.some((key) => {
    const expected = signatureOf(key, payload);
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  });
  if (!authentic) throw invalidToken();
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw invalidToken();
  }
}

function invalidToken(): InvalidArgumentError {
  return new InvalidArgumentError("invalid page token", { field: "page_token" });
}

function fingerprint(query: readonly unknown[]): string {
  return createHash("sha256")
    .update(JSON.stringify(query, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)))
    .digest("base64url")
    .slice(0, 16);
}

/** Splits a page fetched with one extra row into the page and the next token. */
export function pageOf<T>(
  rows: readonly T[],
  pageSize: number,
  query: readonly unknown[],
  keyOf: (row: T) => unknown[],
): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, pageSize);
  const last = items.at(-1);
  const nextPageToken = rows.length > pageSize && last !== undefined ? encodePageToken(query, keyOf(last)) : "";
  return { items, nextPageToken };
}
