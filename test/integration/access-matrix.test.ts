// The trust boundary, method by method: every RPC of the four services (read from their
// descriptors) called by every kind of identity, against the whole suite over real sockets. The
// expected code comes from a rule written here from the roles, not from the authorizer.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { create, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { PERMISSIONS, type Permission } from "@granary/auth";
import { createServiceClient, createServiceTransport } from "@granary/service-clients";
import { MetadataService, Role } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { ScalarType } from "@granary/proto/types";
import type { ServiceName } from "@granary/config";
import { startSuiteOnFreePorts, type RunningSuite } from "@granary/suite";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, waitFor, type TestDatabase } from "@granary/testing";

const SERVICES: [ServiceName, DescService][] = [
  ["metadata", MetadataService],
  ["online", OnlineService],
  ["offline", OfflineService],
  ["registry", RegistryService],
];
const HIDDEN = /does not exist or you have no role in it/;

type Identity = "no key" | "revoked key" | "viewer" | "data scientist" | "data owner" | "admin" | "other project's owner" | "shared-read project";
// The data owner and the admin come last: their calls are allowed, and some of them (DeleteFeatureGroup)
// really delete the fixture the others are judged against.
const IDENTITIES: Identity[] = ["no key", "revoked key", "viewer", "data scientist", "other project's owner", "shared-read project", "data owner", "admin"];

/** What the issue says each identity may do; "allowed" means the call passes the trust boundary. */
function expected(permission: Permission, who: Identity): "allowed" | "UNAUTHENTICATED" | "PERMISSION_DENIED" | "NOT_FOUND" {
  if (who === "no key" || who === "revoked key") return "UNAUTHENTICATED";
  const rank: Partial<Record<Identity, Role>> = {
    viewer: Role.VIEWER,
    "data scientist": Role.DATA_SCIENTIST,
    "data owner": Role.DATA_OWNER,
    admin: Role.DATA_OWNER,
  };
  switch (permission.kind) {
    case "service":
      return "PERMISSION_DENIED";
    case "admin":
      return who === "admin" ? "allowed" : "PERMISSION_DENIED";
    case "authenticated":
      return "allowed";
    case "project": {
      const role = rank[who];
      if (role === undefined) return who === "shared-read project" && permission.role === Role.VIEWER && permission.group ? "allowed" : "NOT_FOUND";
      return role >= permission.role ? "allowed" : "PERMISSION_DENIED";
    }
    case "group-write": {
      const role = rank[who];
      if (role === undefined) return "NOT_FOUND";
      // The fixture group was made by the admin: a data scientist did not create it.
      return role === Role.DATA_OWNER ? "allowed" : "PERMISSION_DENIED";
    }
  }
}

/** A request (a stream's first message) whose project and group fields are the fixture's. */
function requestFor(method: DescMethod, permission: Permission): unknown {
  const request = create(method.input) as Record<string, unknown>;
  const paths: [string, unknown][] = [];
  if ("project" in permission) paths.push([permission.project, "shop"]);
  if ("group" in permission && permission.group) paths.push([permission.group, "fg"]);
  if (permission.kind === "group-write") paths.push([permission.version, 1]);
  for (const [path, value] of paths) setPath(method.input, request, path.split("."), value);
  return request;
}

function setPath(schema: DescMessage, target: Record<string, unknown>, segments: string[], value: unknown): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const oneof = schema.oneofs.find((o) => o.localName === head);
  if (oneof) {
    const member = oneof.fields.find((f) => f.localName === rest[0])!;
    const current = target[head] as { case?: string; value?: Record<string, unknown> } | undefined;
    const inner = current?.case === member.localName && current.value ? current.value : (create(member.message!) as Record<string, unknown>);
    target[head] = { case: member.localName, value: inner };
    setPath(member.message!, inner, rest.slice(1), value);
    return;
  }
  const field = schema.fields.find((f) => f.localName === head)!;
  const inner = (target[head] as Record<string, unknown> | undefined) ?? (create(field.message!) as Record<string, unknown>);
  target[head] = inner;
  setPath(field.message!, inner, rest, value);
}

/** Calls any method with one request (one message for a client stream) and returns the outcome. */
async function call(client: Record<string, unknown>, method: DescMethod, request: unknown): Promise<{ code: string; message: string }> {
  const fn = client[method.localName] as (input: unknown, options: object) => unknown;
  const options = { timeoutMs: 10_000 };
  try {
    switch (method.methodKind) {
      case "unary":
        await fn(request, options);
        break;
      case "server_streaming":
        for await (const _ of fn(request, options) as AsyncIterable<unknown>) break;
        break;
      case "client_streaming":
        await fn(oneMessage(request), options);
        break;
      case "bidi_streaming":
        for await (const _ of fn(oneMessage(request), options) as AsyncIterable<unknown>) break;
        break;
    }
    return { code: "OK", message: "" };
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: Code[e.code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase(), message: e.rawMessage };
  }
}

async function* oneMessage(request: unknown) {
  yield request;
}

function verdict(outcome: { code: string; message: string }): string {
  if (outcome.code === "UNAUTHENTICATED" || outcome.code === "PERMISSION_DENIED") return outcome.code;
  if (outcome.code === "NOT_FOUND" && HIDDEN.test(outcome.message)) return "NOT_FOUND";
  return "allowed";
}

const keys = testKeys();
const dir = scratchDir("access-matrix");
let db: TestDatabase;
let suite: RunningSuite;
const tokens = new Map<Identity, string | undefined>();

const clientFor = (service: ServiceName, desc: DescService, token: string | undefined) =>
  createClient(desc, createServiceTransport(suite.addresses[service], token ? { apiKey: token } : {})) as unknown as Record<string, unknown>;

beforeAll(async () => {
  db = await createTestDatabase("access_matrix");
  suite = await startSuiteOnFreePorts(
    { GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url, GRANARY_LOG_LEVEL: "error", ...keys.env },
    createLogger({ level: "error", service: "access-matrix" }),
  );
  const admin: Client<typeof MetadataService> = createServiceClient(MetadataService, suite.addresses.metadata, { apiKey: keys.adminKey });
  for (const name of ["shop", "bank", "other"]) await admin.createProject({ name });
  await admin.createFeatureGroup({
    featureGroup: {
      project: "shop",
      name: "fg",
      version: 1,
      columns: [
        { name: "id", type: { scalar: ScalarType.INT64 } },
        { name: "x", type: { scalar: ScalarType.DOUBLE } },
        { name: "t", type: { scalar: ScalarType.TIMESTAMP } },
      ],
      primaryKey: ["id"],
      eventTime: "t",
      onlineEnabled: true,
    },
  });
  await admin.shareFeatureGroup({ project: "shop", featureGroup: "fg", withProject: "bank" });
  const key = async (user: string, scopes: [string, Role][], admin_ = false) =>
    (await admin.createApiKey({ user, admin: admin_, scopes: scopes.map(([project, role]) => ({ project, role })) })).secret;
  tokens.set("no key", undefined);
  tokens.set("viewer", await key("vic", [["shop", Role.VIEWER]]));
  tokens.set("data scientist", await key("dana", [["shop", Role.DATA_SCIENTIST]]));
  tokens.set("data owner", await key("olga", [["shop", Role.DATA_OWNER]]));
  tokens.set("admin", await key("root", [], true));
  tokens.set("other project's owner", await key("otto", [["other", Role.DATA_OWNER]]));
  tokens.set("shared-read project", await key("ben", [["bank", Role.VIEWER]]));
  const revoked = await admin.createApiKey({ user: "rex", scopes: [{ project: "shop", role: Role.DATA_OWNER }] });
  await admin.revokeApiKey({ id: revoked.apiKey!.id });
  tokens.set("revoked key", revoked.secret);
}, 60_000);

afterAll(async () => {
  await suite?.stop();
  await db?.drop();
  dir.remove();
});

describe("every method × every identity", () => {
  const methods = SERVICES.flatMap(([name, desc]) => desc.methods.map((method) => ({ name, desc, method })));

  it("covers all methods of the four services", () => {
    expect(methods.length).toBeGreaterThanOrEqual(71);
    expect(methods.filter((m) => !PERMISSIONS[`${m.desc.typeName}/${m.method.name}`]).map((m) => m.method.name)).toEqual([]);
  });

  it("answers each call as the roles say", async () => {
    const mismatches: string[] = [];
    let calls = 0;
    for (const who of IDENTITIES) {
      const clients = new Map(SERVICES.map(([name, desc]) => [name, clientFor(name, desc, tokens.get(who))]));
      for (const { name, desc, method } of methods) {
        const permission = PERMISSIONS[`${desc.typeName}/${method.name}`]!;
        const outcome = await call(clients.get(name)!, method, requestFor(method, permission));
        calls += 1;
        const want = expected(permission, who);
        const got = verdict(outcome);
        if (got !== want) mismatches.push(`${who} → ${desc.name}/${method.name}: want ${want}, got ${outcome.code} ${outcome.message}`);
        // Nothing a caller does wrong is an internal error, and no answer leaks a stack.
        if (outcome.code === "INTERNAL" || /\n\s+at /.test(outcome.message))
          mismatches.push(`${who} → ${desc.name}/${method.name}: ${outcome.code} ${outcome.message}`);
      }
    }
    expect(calls).toBe(methods.length * IDENTITIES.length);
    expect(mismatches).toEqual([]);
  }, 180_000);
});

describe("revocation", () => {
  it("reaches every service soon after RevokeApiKey", async () => {
    const admin = createServiceClient(MetadataService, suite.addresses.metadata, { apiKey: keys.adminKey });
    await admin.createProject({ name: "revocation" });
    const made = await admin.createApiKey({ user: "temp", scopes: [{ project: "revocation", role: Role.VIEWER }] });
    const online = createServiceClient(OnlineService, suite.addresses.online, { apiKey: made.secret });
    const registry = createServiceClient(RegistryService, suite.addresses.registry, { apiKey: made.secret });
    // Cached on both services now.
    await registry.listModels({ project: "revocation" });
    const lookup = () =>
      online.getFeatureVectors({ project: "revocation", featureView: { name: "nope", version: 1 } }).then(
        () => "OK",
        (e: unknown) => Code[ConnectError.from(e).code],
      );
    expect(await lookup()).not.toBe("Unauthenticated");
    const revokedAt = Date.now();
    await admin.revokeApiKey({ id: made.apiKey!.id });
    await waitFor(async () => (await lookup()) === "Unauthenticated", { timeoutMs: 5000, what: "online to refuse the revoked key" });
    await waitFor(
      () =>
        registry.listModels({ project: "revocation" }).then(
          () => false,
          (e: unknown) => ConnectError.from(e).code === Code.Unauthenticated,
        ),
      { timeoutMs: 5000, what: "registry to refuse the revoked key" },
    );
    const err = await registry.listModels({ project: "revocation" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).rawMessage).toMatch(/revoked/);
    // Reported for the closing note; the assertion is the ordering above, not a time.
    process.stdout.write(`revocation reached online and registry in ${Date.now() - revokedAt} ms\n`);
  });
});
