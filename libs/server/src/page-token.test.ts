import { createHmac } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import { InvalidArgumentError } from "@granary/errors";
import { configurePageTokenKey, decodePageToken, encodePageToken } from "./page-token.js";

const QUERY = ["project_a", "tag:fraud"];

function refusal(token: string, query: readonly unknown[] = QUERY): InvalidArgumentError {
  try {
    decodePageToken(token, query);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error("expected the token to be refused");
}

/** What another replica holding `secret` would issue. */
function issuedWith(secret: string, body: unknown): string {
  const key = createHmac("sha256", secret).update("granary page tokens v1").digest();
  const payload = Buffer.from(JSON.stringify(body)).toString("base64url");
  return `${payload}.${createHmac("sha256", key).update(payload).digest("base64url")}`;
}

function payloadOf(token: string): { q: string; k: unknown[] } {
  return JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as { q: string; k: unknown[] };
}

describe("page tokens", () => {
  it("round-trip the last key of a page; no token is the first page", () => {
    expect(decodePageToken(encodePageToken(QUERY, ["fg", 3]), QUERY)).toEqual(["fg", 3]);
    expect(decodePageToken("", QUERY)).toBeUndefined();
  });

  it("refuse a token replayed with other filters", () => {
    expect(refusal(encodePageToken(QUERY, ["fg", 3]), ["project_b"]).message).toMatch(/other filters/);
  });

  it.each([
    ["garbage", "%%%not a token"],
    ["an unsigned token", Buffer.from(JSON.stringify({ q: "x", k: ["zzz"] })).toString("base64url")],
    ["a signature alone", `.${"A".repeat(43)}`],
  ])("refuse %s as invalid", (_name, token) => {
    const err = refusal(token);
    expect(err.message).toBe("invalid page token");
    expect(err.field).toBe("page_token");
  });

  it("refuse a token whose key was altered", () => {
    const token = encodePageToken(QUERY, ["fg", 3]);
    const [, signature] = token.split(".");
    const altered = { ...payloadOf(token), k: ["zz", 0] };
    expect(refusal(`${Buffer.from(JSON.stringify(altered)).toString("base64url")}.${signature}`).message).toBe("invalid page token");
    const flipped = token.at(-2) === "A" ? "B" : "A";
    expect(refusal(`${token.slice(0, -2)}${flipped}${token.at(-1) ?? ""}`).message).toBe("invalid page token");
  });

  it("once configured, accept tokens of every replica sharing the secret and no others", () => {
    const beforeConfiguring = encodePageToken(QUERY, ["fg", 3]);
    configurePageTokenKey("grs_shared-service-key");
    const fingerprint = payloadOf(beforeConfiguring).q;
    expect(decodePageToken(issuedWith("grs_shared-service-key", { q: fingerprint, k: ["other", 1] }), QUERY)).toEqual(["other", 1]);
    expect(refusal(issuedWith("grs_another-deployment", { q: fingerprint, k: ["other", 1] })).message).toBe("invalid page token");
    expect(refusal(beforeConfiguring).message).toBe("invalid page token");
    expect(decodePageToken(encodePageToken(QUERY, ["fg", 4]), QUERY)).toEqual(["fg", 4]);
  });
});
