import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import pg from "pg";
import { parseApiKey } from "@granary/auth";
import { ChangeKind, Role, type Change, type MetadataService, type ProjectScope } from "@granary/proto/metadata";
import { createTestDatabase, waitFor, type TestDatabase } from "@granary/testing";
import { METADATA_SCHEMA } from "./store/migrations.js";
import { transactionsGroup } from "./testing/fixtures.js";
import { startTestMetadata, type TestMetadata } from "./testing/start-test-metadata.js";

let db: TestDatabase;
let md: TestMetadata;
let admin: Client<typeof MetadataService>;

beforeAll(async () => {
  db = await createTestDatabase("md_access");
  md = await startTestMetadata(db.url);
  admin = md.client;
  for (const name of ["alpha", "beta", "gamma"]) await admin.createProject({ name });
  await admin.createFeatureGroup({ featureGroup: transactionsGroup("alpha") });
  await admin.createFeatureGroup({ featureGroup: transactionsGroup("alpha", { name: "payments" }) });
}, 60_000);

afterAll(async () => {
  await md.stop();
  await db.drop();
});

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected the call to fail, got ${String(err)}`);
  return err;
}

async function code(call: Promise<unknown>): Promise<string> {
  return Code[(await failure(call)).code] ?? "?";
}

type ScopeInit = { project: string; role: Role };

/** A key made by the admin, and a client that calls with it. */
async function userKey(user: string, scopes: ScopeInit[], extra: { expireInMs?: number } = {}) {
  const { apiKey, secret } = await admin.createApiKey({
    user,
    scopes,
    expireTime: extra.expireInMs === undefined ? undefined : timestampFromMs(Date.now() + extra.expireInMs),
  });
  return { id: apiKey!.id, token: secret, client: md.clientWith(secret) };
}

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${METADATA_SCHEMA}`);
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe("API keys", () => {
  it("live from creation to revocation; the secret is shown once and never listed", async () => {
    const alice = await userKey("alice", [{ project: "alpha", role: Role.VIEWER }]);
    expect(alice.token).toMatch(/^grn_[a-z0-9]+_/);
    expect((await alice.client.getProject({ name: "alpha" })).project?.name).toBe("alpha");
    const own = await alice.client.authenticateApiKey({});
    expect(own.apiKey).toMatchObject({ id: alice.id, user: "alice", admin: false, createdBy: "admin" });

    const listed = await admin.listApiKeys({ user: "alice" });
    expect(listed.apiKeys.map((k) => k.id)).toEqual([alice.id]);
    const secret = parseApiKey(alice.token)!.secret;
    expect(JSON.stringify(listed, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(secret);

    const revoked = await admin.revokeApiKey({ id: alice.id });
    expect(revoked.apiKey?.revokeTime).toBeDefined();
    const again = await admin.revokeApiKey({ id: alice.id });
    expect(again.apiKey?.revokeTime).toEqual(revoked.apiKey?.revokeTime);
    const err = await failure(alice.client.getProject({ name: "alpha" }));
    expect(Code[err.code]).toBe("Unauthenticated");
    expect(err.rawMessage).toMatch(new RegExp(`API key ${alice.id} was revoked at \\d{4}-`));
    expect((await admin.listApiKeys({ user: "alice" })).apiKeys).toHaveLength(0);
    expect((await admin.listApiKeys({ user: "alice", includeRevoked: true })).apiKeys).toHaveLength(1);
  });

  it("refuses an expired key, whether it was used before or not, and a key that expires in the past", async () => {
    // Long enough that a loaded machine still makes the first call before the keys expire.
    const used = await userKey("eve", [{ project: "alpha", role: Role.VIEWER }], { expireInMs: 5000 });
    const unused = await userKey("eve", [{ project: "alpha", role: Role.VIEWER }], { expireInMs: 5000 });
    const expiredBy = Date.now() + 5100; // both keys were made before now
    await used.client.getProject({ name: "alpha" });
    await new Promise((r) => setTimeout(r, Math.max(0, expiredBy - Date.now())));
    for (const key of [used, unused]) {
      const err = await failure(key.client.getProject({ name: "alpha" }));
      expect(Code[err.code]).toBe("Unauthenticated");
      expect(err.rawMessage).toMatch(/expired at \d{4}-/);
    }
    expect(await code(admin.createApiKey({ user: "eve", expireTime: timestampFromMs(Date.now() - 1000) }))).toBe("InvalidArgument");
  });

  it("refuses calls without a key, with an unknown key and with a wrong secret alike", async () => {
    expect(await code(md.clientWith(undefined).listProjects({}))).toBe("Unauthenticated");
    const bob = await userKey("bob", [{ project: "alpha", role: Role.VIEWER }]);
    const wrong = `grn_${bob.id}_${"x".repeat(43)}`;
    const errors = await Promise.all([
      failure(md.clientWith(wrong).listProjects({})),
      failure(md.clientWith("grn_0000_yyyyyyyyyyyyyyyyyyyy").listProjects({})),
    ]);
    expect(errors.map((e) => [Code[e.code], e.rawMessage])).toEqual([
      ["Unauthenticated", "unknown API key"],
      ["Unauthenticated", "unknown API key"],
    ]);
  });

  it("stores only a salted hash of the secret, and puts neither on the change feed", async () => {
    const carol = await userKey("carol", [{ project: "beta", role: Role.VIEWER }]);
    const secret = parseApiKey(carol.token)!.secret;
    const [row] = await query<Record<string, unknown>>("SELECT * FROM api_keys WHERE id = $1", [carol.id]);
    expect(row?.secret_hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(row)).not.toContain(secret);
    const changes = await query<{ change: string }>("SELECT change::text AS change FROM changes WHERE change::text LIKE $1", [`%${carol.id}%`]);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.change).not.toContain(secret);
    expect(changes[0]?.change).not.toContain("scrypt");
  });

  it("lets a data owner grant roles only in its own projects", async () => {
    const owner = await userKey("olga", [
      { project: "alpha", role: Role.DATA_OWNER },
      { project: "beta", role: Role.VIEWER },
    ]);
    const granted = await owner.client.createApiKey({ user: "vic", scopes: [{ project: "alpha", role: Role.DATA_SCIENTIST }] });
    expect(granted.apiKey).toMatchObject({ user: "vic", createdBy: "olga" });
    expect(await md.clientWith(granted.secret).getProject({ name: "alpha" })).toBeDefined();

    expect(await code(owner.client.createApiKey({ user: "vic", scopes: [{ project: "gamma", role: Role.VIEWER }] }))).toBe("NotFound");
    expect(await code(owner.client.createApiKey({ user: "vic", scopes: [{ project: "nowhere", role: Role.VIEWER }] }))).toBe("NotFound");
    expect(await code(owner.client.createApiKey({ user: "vic", scopes: [{ project: "beta", role: Role.VIEWER }] }))).toBe("PermissionDenied");
    expect(await code(owner.client.createApiKey({ user: "vic", admin: true, scopes: [{ project: "alpha", role: Role.VIEWER }] }))).toBe("PermissionDenied");
    expect(await code(owner.client.createApiKey({ user: "vic", scopes: [{ project: "alpha", role: Role.UNSPECIFIED }] }))).toBe("InvalidArgument");
    expect(await code(admin.createApiKey({ user: "vic", scopes: [{ project: "nowhere", role: Role.VIEWER }] }))).toBe("NotFound");
    const scientist = md.clientWith(granted.secret);
    expect(await code(scientist.createApiKey({ user: "x", scopes: [{ project: "alpha", role: Role.VIEWER }] }))).toBe("PermissionDenied");

    // Owners see the keys of their projects; others only their own.
    const seen = (await owner.client.listApiKeys({})).apiKeys.map((k) => k.user);
    expect(seen).toEqual(expect.arrayContaining(["olga", "vic"]));
    expect(seen).not.toContain("carol");
    expect((await scientist.listApiKeys({})).apiKeys.map((k) => k.user)).toEqual(["vic"]);
    // Someone else's key is revoked as if it did not exist; the owner may revoke it.
    expect(await code(scientist.revokeApiKey({ id: owner.id }))).toBe("NotFound");
    expect((await owner.client.revokeApiKey({ id: granted.apiKey!.id })).apiKey?.revokeTime).toBeDefined();
  });

  it("resolves other keys for services only", async () => {
    const dan = await userKey("dan", [{ project: "alpha", role: Role.VIEWER }]);
    expect(await code(dan.client.authenticateApiKey({ secret: dan.token }))).toBe("PermissionDenied");
    const resolved = await md.serviceClient.authenticateApiKey({ secret: dan.token });
    expect(resolved.apiKey).toMatchObject({ id: dan.id, user: "dan" });
    expect(resolved.apiKey?.scopes.map((s: ProjectScope) => [s.project, s.role])).toEqual([["alpha", Role.VIEWER]]);
    expect(await code(md.serviceClient.authenticateApiKey({ secret: `grn_${dan.id}_${"z".repeat(43)}` }))).toBe("Unauthenticated");
    const self = await md.serviceClient.authenticateApiKey({});
    expect(self.apiKey).toMatchObject({ user: "service", admin: true });
  });

  it("revoked through one replica is refused by another within seconds", async () => {
    const other = await startTestMetadata(db.url, { GRANARY_BOOTSTRAP_ADMIN_KEY: md.adminKey });
    try {
      const frank = await userKey("frank", [{ project: "alpha", role: Role.VIEWER }]);
      const there = other.clientWith(frank.token);
      await there.getProject({ name: "alpha" });
      await admin.revokeApiKey({ id: frank.id });
      await waitFor(async () => (await code(there.getProject({ name: "alpha" }))) === "Unauthenticated", {
        timeoutMs: 5000,
        what: "the other replica to refuse the revoked key",
      });
    } finally {
      await other.stop();
    }
  });
});

describe("roles", () => {
  it("keeps a viewer from writing and hides other projects", async () => {
    const viewer = await userKey("vera", [{ project: "alpha", role: Role.VIEWER }]);
    expect((await viewer.client.getFeatureGroup({ project: "alpha", name: "transactions" })).featureGroup?.name).toBe("transactions");
    expect(await code(viewer.client.createFeatureGroup({ featureGroup: transactionsGroup("alpha", { name: "mine" }) }))).toBe("PermissionDenied");
    expect(await code(viewer.client.deleteFeatureGroup({ project: "alpha", name: "transactions", version: 1 }))).toBe("PermissionDenied");
    expect(await code(viewer.client.getProject({ name: "beta" }))).toBe("NotFound");
    expect(await code(viewer.client.listFeatureGroups({ project: "beta" }))).toBe("NotFound");
    expect(await code(viewer.client.createProject({ name: "delta" }))).toBe("PermissionDenied");
  });

  it("lets a data scientist write only the groups it created", async () => {
    const sam = await userKey("sam", [{ project: "alpha", role: Role.DATA_SCIENTIST }]);
    const created = await sam.client.createFeatureGroup({ featureGroup: transactionsGroup("alpha", { name: "sams", createdBy: "someone_else" }) });
    expect(created.featureGroup?.createdBy).toBe("sam");
    const updated = await sam.client.updateFeatureGroup({
      featureGroup: transactionsGroup("alpha", { name: "sams", description: "mine", createdBy: "x" }),
      updateMask: { paths: ["description"] },
    });
    expect(updated.featureGroup).toMatchObject({ description: "mine", createdBy: "sam" });
    // The same definition created again by the admin is the same group.
    expect((await admin.createFeatureGroup({ featureGroup: transactionsGroup("alpha", { name: "sams", description: "mine" }) })).created).toBe(false);

    const err = await failure(
      sam.client.updateFeatureGroup({ featureGroup: transactionsGroup("alpha", { description: "not mine" }), updateMask: { paths: ["description"] } }),
    );
    expect(Code[err.code]).toBe("PermissionDenied");
    expect(err.rawMessage).toContain('created by "admin"');
    expect(await code(sam.client.deleteFeatureGroup({ project: "alpha", name: "transactions", version: 1 }))).toBe("PermissionDenied");
    await sam.client.deleteFeatureGroup({ project: "alpha", name: "sams", version: 1 });
  });

  it("lists only the projects the caller has a role in", async () => {
    const both = await userKey("bo", [
      { project: "alpha", role: Role.VIEWER },
      { project: "gamma", role: Role.DATA_OWNER },
    ]);
    expect((await both.client.listProjects({})).projects.map((p) => p.name)).toEqual(["alpha", "gamma"]);
    const paged = await both.client.listProjects({ pageSize: 1 });
    expect(paged.projects.map((p) => p.name)).toEqual(["alpha"]);
    const next = await both.client.listProjects({ pageSize: 1, pageToken: paged.nextPageToken });
    expect(next.projects.map((p) => p.name)).toEqual(["gamma"]);
    expect((await admin.listProjects({})).projects.map((p) => p.name)).toEqual(expect.arrayContaining(["alpha", "beta", "gamma"]));
  });
});

describe("shares", () => {
  it("let another project read the shared group, and nothing else", async () => {
    const owner = await userKey("oscar", [{ project: "alpha", role: Role.DATA_OWNER }]);
    const bea = await userKey("bea", [{ project: "beta", role: Role.DATA_OWNER }]);
    expect(await code(bea.client.getFeatureGroup({ project: "alpha", name: "transactions" }))).toBe("NotFound");

    const { share } = await owner.client.shareFeatureGroup({ project: "alpha", featureGroup: "transactions", withProject: "beta" });
    expect(share).toMatchObject({ project: "alpha", featureGroup: "transactions", withProject: "beta", createdBy: "oscar" });
    expect((await bea.client.getFeatureGroup({ project: "alpha", name: "transactions", version: 1 })).featureGroup?.name).toBe("transactions");
    expect(await code(bea.client.getFeatureGroup({ project: "alpha", name: "payments" }))).toBe("NotFound");
    expect(await code(bea.client.listFeatureGroups({ project: "alpha" }))).toBe("NotFound");
    expect(await code(bea.client.getProject({ name: "alpha" }))).toBe("NotFound");
    expect(
      await code(bea.client.updateFeatureGroup({ featureGroup: transactionsGroup("alpha", { description: "x" }), updateMask: { paths: ["description"] } })),
    ).toBe("NotFound");
    expect(await code(bea.client.shareFeatureGroup({ project: "alpha", featureGroup: "transactions", withProject: "gamma" }))).toBe("NotFound");

    const listed = await bea.client.listFeatureGroupShares({ project: "beta" });
    expect(listed.received.map((s) => `${s.project}/${s.featureGroup}`)).toEqual(["alpha/transactions"]);
    expect((await owner.client.listFeatureGroupShares({ project: "alpha" })).granted.map((s) => s.withProject)).toEqual(["beta"]);

    expect(await code(owner.client.shareFeatureGroup({ project: "alpha", featureGroup: "transactions", withProject: "beta" }))).toBe("AlreadyExists");
    expect(await code(owner.client.shareFeatureGroup({ project: "alpha", featureGroup: "transactions", withProject: "alpha" }))).toBe("InvalidArgument");
    expect(await code(owner.client.shareFeatureGroup({ project: "alpha", featureGroup: "transactions", withProject: "nowhere" }))).toBe("InvalidArgument");
    expect(await code(owner.client.shareFeatureGroup({ project: "alpha", featureGroup: "missing", withProject: "beta" }))).toBe("NotFound");

    await owner.client.unshareFeatureGroup({ project: "alpha", featureGroup: "transactions", withProject: "beta" });
    expect(await code(bea.client.getFeatureGroup({ project: "alpha", name: "transactions" }))).toBe("NotFound");
    expect(await code(owner.client.unshareFeatureGroup({ project: "alpha", featureGroup: "transactions", withProject: "beta" }))).toBe("NotFound");
  });

  it("end with the group's last version and with either project", async () => {
    await admin.createProject({ name: "temp" });
    await admin.createFeatureGroup({ featureGroup: transactionsGroup("gamma", { name: "brief" }) });
    await admin.shareFeatureGroup({ project: "gamma", featureGroup: "brief", withProject: "beta" });
    await admin.shareFeatureGroup({ project: "alpha", featureGroup: "payments", withProject: "temp" });
    await admin.deleteFeatureGroup({ project: "gamma", name: "brief", version: 1 });
    expect((await admin.listFeatureGroupShares({ project: "gamma" })).granted).toHaveLength(0);
    await admin.deleteProject({ name: "temp" });
    expect((await admin.listFeatureGroupShares({ project: "alpha" })).granted.map((s) => s.withProject)).not.toContain("temp");
  });
});

describe("WatchChanges", () => {
  it("refuses every project to a non-admin and gives a project's watcher only that project", async () => {
    const viewer = await userKey("wally", [{ project: "alpha", role: Role.VIEWER }]);
    const refused = viewer.client.watchChanges({ project: "" })[Symbol.asyncIterator]().next();
    expect(await code(refused)).toBe("PermissionDenied");

    const [head] = await query<{ head: string }>("SELECT max(revision)::text AS head FROM changes");
    const from = BigInt(head?.head ?? "0");
    const controller = new AbortController();
    const seen: Change[] = [];
    const all: Change[] = [];
    const follow = async (client: Client<typeof MetadataService>, project: string, into: Change[]) => {
      try {
        for await (const res of client.watchChanges({ project, fromRevision: from }, { signal: controller.signal })) if (res.change) into.push(res.change);
      } catch (err) {
        if (ConnectError.from(err).code !== Code.Canceled) throw err;
      }
    };
    const done = Promise.all([follow(viewer.client, "alpha", seen), follow(admin, "", all)]);
    const key = await userKey("walt", [{ project: "alpha", role: Role.VIEWER }]);
    await admin.createFeatureGroup({ featureGroup: transactionsGroup("beta", { name: "watched_beta" }) });
    await admin.createFeatureGroup({ featureGroup: transactionsGroup("alpha", { name: "watched_alpha" }) });
    await waitFor(() => seen.length >= 1 && all.length >= 3, { what: "the changes", timeoutMs: 10_000 });
    controller.abort();
    await done;
    expect(seen.map((c) => [c.project, c.resource.case])).toEqual([["alpha", "featureGroup"]]);
    const keyChange = all.find((c) => c.resource.case === "apiKey");
    expect(keyChange).toMatchObject({ project: "", kind: ChangeKind.CREATED });
    expect(keyChange?.resource.value).toMatchObject({ id: key.id, user: "walt" });
    expect(JSON.stringify(keyChange?.resource.value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(
      parseApiKey(key.token)!.secret,
    );
  });
});

describe("audit log", () => {
  it("shows a project's data owners who changed what, newest first", async () => {
    const owner = await userKey("ada", [{ project: "gamma", role: Role.DATA_OWNER }]);
    await owner.client.createFeatureGroup({ featureGroup: transactionsGroup("gamma") });
    await owner.client.deleteFeatureGroup({ project: "gamma", name: "transactions", version: 1 });
    const byAda = async () => (await owner.client.listAuditEvents({ project: "gamma" })).events.filter((e) => e.actor === "ada");
    await waitFor(async () => (await byAda()).length >= 2, { what: "audit events", timeoutMs: 5000 });
    const events = await byAda();
    expect(events.map((e) => [e.method.split("/")[1], e.actor, e.code, e.keyId])).toEqual([
      ["DeleteFeatureGroup", "ada", "OK", owner.id],
      ["CreateFeatureGroup", "ada", "OK", owner.id],
    ]);
    expect(events[0]?.resource).toBe("feature_group/transactions/v1");
    const viewer = await userKey("val", [{ project: "gamma", role: Role.VIEWER }]);
    expect(await code(viewer.client.listAuditEvents({ project: "gamma" }))).toBe("PermissionDenied");
    expect(await code(viewer.client.recordAuditEvents({ events: [] }))).toBe("PermissionDenied");
  });
});

describe("bootstrap admin", () => {
  it("writes an admin key file of mode 0600 on a fresh database, once", async () => {
    const fresh = await createTestDatabase("md_bootstrap");
    const first = await startTestMetadata(fresh.url, { GRANARY_BOOTSTRAP_ADMIN_KEY: "" });
    try {
      const file = join(first.dataDir, "admin.key");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const token = readFileSync(file, "utf8").trim();
      const client = first.clientWith(token);
      await client.createProject({ name: "bootstrapped" });
      expect((await client.authenticateApiKey({})).apiKey).toMatchObject({ user: "admin", admin: true });
      await first.restart();
      expect(readFileSync(file, "utf8").trim()).toBe(token);
      expect((await client.listApiKeys({})).apiKeys.filter((k) => k.admin)).toHaveLength(1);
    } finally {
      await first.stop();
      await fresh.drop();
    }
  });
});
