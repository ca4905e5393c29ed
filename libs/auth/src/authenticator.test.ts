import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { UnauthenticatedError } from "@granary/errors";
import { ApiKeySchema, type ApiKey } from "@granary/proto/metadata";
import { hashApiKeySecret, newApiKey, parseApiKey, verifyApiKeySecret } from "./api-key-secret.js";
import { Authenticator } from "./authenticator.js";
import { RateLimiter } from "./rate-limiter.js";

describe("API key secrets", () => {
  it("round-trip through their format and verify only against their own hash", async () => {
    const { token, parts } = newApiKey();
    expect(parseApiKey(token)).toEqual(parts);
    expect(parseApiKey("grn_../../etc_passwd")).toBeUndefined();
    expect(parseApiKey("Bearer x")).toBeUndefined();
    const hash = await hashApiKeySecret(parts.secret);
    expect(hash).not.toContain(parts.secret);
    expect(await verifyApiKeySecret(parts.secret, hash)).toBe(true);
    expect(await verifyApiKeySecret(`${parts.secret}x`, hash)).toBe(false);
    expect(await verifyApiKeySecret(parts.secret, "md5$abc")).toBe(false);
  });
});

describe("Authenticator", () => {
  function setup(key: ApiKey) {
    let now = 1_000_000;
    let resolved = 0;
    const token = newApiKey().token;
    const auth = new Authenticator({
      serviceKey: "grs_service",
      now: () => now,
      resolveKey: async (t) => {
        resolved += 1;
        if (t !== token) throw new UnauthenticatedError("unknown API key");
        return key;
      },
    });
    return { auth, token, tick: (ms: number) => (now += ms), resolved: () => resolved };
  }

  it("resolves a key once, then answers from the map until the key is evicted", async () => {
    const t = setup(create(ApiKeySchema, { id: "k1", user: "alice" }));
    expect((await t.auth.authenticate(`Bearer ${t.token}`)).name).toBe("alice");
    const second = t.auth.authenticate(`Bearer ${t.token}`);
    expect(second).not.toBeInstanceOf(Promise);
    expect(t.resolved()).toBe(1);
    t.auth.evictKey("k1");
    await t.auth.authenticate(`Bearer ${t.token}`);
    expect(t.resolved()).toBe(2);
  });

  it("knows the service key without asking anyone", async () => {
    const t = setup(create(ApiKeySchema, { id: "k1", user: "alice" }));
    expect((await t.auth.authenticate("Bearer grs_service")).kind).toBe("service");
    expect(t.resolved()).toBe(0);
  });

  it("refuses a missing header, a malformed one, an unknown key (remembered briefly) and an expired key", async () => {
    const t = setup(create(ApiKeySchema, { id: "k1", user: "alice", expireTime: timestampFromMs(1_000_500) }));
    expect(() => t.auth.authenticate(undefined)).toThrow(/no API key/);
    expect(() => t.auth.authenticate("Basic abc")).toThrow(/Bearer/);
    await expect(Promise.resolve().then(() => t.auth.authenticate("Bearer grn_nope_nopenopenopenopenope"))).rejects.toThrow("unknown API key");
    await expect(Promise.resolve().then(() => t.auth.authenticate("Bearer grn_nope_nopenopenopenopenope"))).rejects.toThrow("unknown API key");
    expect(t.resolved()).toBe(1);
    expect((await t.auth.authenticate(`Bearer ${t.token}`)).name).toBe("alice");
    t.tick(1000);
    await expect(Promise.resolve().then(() => t.auth.authenticate(`Bearer ${t.token}`))).rejects.toThrow(/expired at/);
  });
});

describe("RateLimiter", () => {
  it("allows a burst, then refuses with the wait until the next token", () => {
    let now = 0;
    const limiter = new RateLimiter(10, 2, () => now);
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(100);
    expect(limiter.take("b")).toBe(0);
    now += 100;
    expect(limiter.take("a")).toBe(0);
  });
});
