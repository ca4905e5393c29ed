import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { Role } from "@granary/proto/metadata";
import { Authenticator } from "./authenticator.js";
import { jwtResolver } from "./jwt-resolver.js";
import { roleIn } from "./principal.js";

const dir = mkdtempSync(join(tmpdir(), "granary-jwt-"));
let signing: CryptoKey;
let stranger: CryptoKey;
let auth: Authenticator;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  signing = pair.privateKey;
  stranger = (await generateKeyPair("ES256")).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256" };
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [jwk] }));
  const resolveJwt = jwtResolver({
    jwksFile: join(dir, "jwks.json"),
    issuer: "https://idp.example",
    audience: "granary",
    userClaim: "email",
    rolesClaim: "granary_roles",
  });
  auth = new Authenticator({ serviceKey: "grs_x", resolveKey: () => Promise.reject(new Error("not a key")), resolveJwt });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const token = (claims: Record<string, unknown>, key = signing, expires = "5m") =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer("https://idp.example")
    .setAudience("granary")
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(key);

describe("OIDC bearer tokens", () => {
  it("map the user claim and roles of a verified token", async () => {
    const p = await auth.authenticate(
      `Bearer ${await token({ email: "ana@example.com", granary_roles: { shop: "data_scientist", bank: "viewer", bogus: "root" } })}`,
    );
    expect(p.name).toBe("ana@example.com");
    expect(roleIn(p, "shop")).toBe(Role.DATA_SCIENTIST);
    expect(roleIn(p, "bank")).toBe(Role.VIEWER);
    expect(roleIn(p, "bogus")).toBe(Role.UNSPECIFIED);
    expect(p.admin).toBe(false);
    const listed = await auth.authenticate(`Bearer ${await token({ email: "root@example.com", granary_roles: ["shop:data_owner"], granary_admin: true })}`);
    expect(listed.admin).toBe(true);
    expect(roleIn(listed, "anything")).toBe(Role.DATA_OWNER);
  });

  it("refuses a token signed by another key, an expired one, and one without the user claim", async () => {
    await expect(Promise.resolve().then(async () => auth.authenticate(`Bearer ${await token({ email: "x@example.com" }, stranger)}`))).rejects.toThrow(
      /refused/,
    );
    await expect(Promise.resolve().then(async () => auth.authenticate(`Bearer ${await token({ email: "x@example.com" }, signing, "-1m")}`))).rejects.toThrow(
      /expired/,
    );
    await expect(Promise.resolve().then(async () => auth.authenticate(`Bearer ${await token({ sub: "nobody" })}`))).rejects.toThrow(/"email" claim/);
  });
});
