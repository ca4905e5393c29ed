import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@granary/errors";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** 0 means the default; larger than the maximum is capped (AIP-158). */
export function pageSizeOf(requested: number): number {
  if (requested <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

/**
 * Keyset page tokens: the sort key of the last item returned, bound to the query it came from. A
 * token replayed with other filters is refused, as AIP-158 asks, instead of silently skipping rows.
 */
export function encodePageToken(query: readonly unknown[], lastKey: readonly unknown[]): string {
  return Buffer.from(JSON.stringify({ q: fingerprint(query), k: lastKey })).toString("base64url");
}

/** The last key of the previous page, or undefined for the first page. */
export function decodePageToken(token: string, query: readonly unknown[]): unknown[] | undefined {
  if (token === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw new InvalidArgumentError("page_token is not one this service issued", { field: "page_token" });
  }
  const p = parsed as { q?: unknown; k?: unknown };
  if (typeof p !== "object" || p === null || !Array.isArray(p.k)) {
    throw new InvalidArgumentError("page_token is not one this service issued", { field: "page_token" });
  }
  if (p.q !== fingerprint(query)) {
    throw new InvalidArgumentError("page_token belongs to a list with other filters; start again without a token", { field: "page_token" });
  }
  return p.k;
}

function fingerprint(query: readonly unknown[]): string {
  return createHash("sha256").update(JSON.stringify(query, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).digest("base64url").slice(0, 16);
}

/** Splits a page fetched with one extra row into the page and the next token. */
export function pageOf<T>(rows: readonly T[], pageSize: number, query: readonly unknown[], keyOf: (row: T) => unknown[]): { items: T[]; nextPageToken: string } {
  const items = rows.slice(0, pageSize);
  const last = items.at(-1);
  const nextPageToken = rows.length > pageSize && last !== undefined ? encodePageToken(query, keyOf(last)) : "";
  return { items, nextPageToken };
}
