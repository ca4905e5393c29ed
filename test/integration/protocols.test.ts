import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { request as http1Request } from "node:http";
import { tableFromIPC } from "apache-arrow";
import { toJson, type DescMessage, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { connect, type Granary } from "@granary/client";
import { MetadataService } from "@granary/proto/metadata";
import { GetFeatureVectorsResponseSchema, OnlineService } from "@granary/proto/online";
import { OfflineService } from "@granary/proto/offline";
import { BadRequestSchema, ErrorInfoSchema } from "@granary/proto/rpc";
import { startTestSuite, type RunningSuite } from "@granary/suite";

// The same API on the gRPC port and on the HTTP port (Connect with binary and JSON, gRPC-Web,
// gRPC over h2c, plain JSON POSTs as curl sends them): the same answers and the same errors, with
// the same google.rpc details, whichever protocol asks. Against the real suite on free ports.
let stop: () => Promise<void>;
let suite: RunningSuite;
let adminKey: string;
let granary: Granary;

type Protocol = "grpc" | "connect+proto" | "connect+json (h2)" | "grpc-web" | "grpc over h2c";
const PROTOCOLS: readonly Protocol[] = ["grpc", "connect+proto", "connect+json (h2)", "grpc-web", "grpc over h2c"];

function transportFor(protocol: Protocol, key: string | null, service: "metadata" | "online" | "offline"): Transport {
  const grpcUrl = `http://${suite.addresses[service]}`;
  const httpUrl = `http://${suite.httpAddresses[service]}`;
  const interceptors = key === null ? [] : [bearer(key)];
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl: grpcUrl, interceptors });
    case "connect+proto":
      return createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors });
    case "connect+json (h2)":
      return createConnectTransport({ baseUrl: httpUrl, httpVersion: "2", useBinaryFormat: false, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl: httpUrl, httpVersion: "1.1", interceptors });
    case "grpc over h2c":
      return createGrpcTransport({ baseUrl: httpUrl, interceptors });
  }
}

function bearer(key: string): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
}

/** A client of `service` over `protocol`, with the admin key, another key, or none (null). */
function clientOf<T extends DescService>(service: T, protocol: Protocol, key: string | null = adminKey): Client<T> {
  const name = service.typeName.includes("Metadata") ? "metadata" : service.typeName.includes("Online") ? "online" : "offline";
  return createClient(service, transportFor(protocol, key, name));
}

/** What an error looks like to a program: code, message, ErrorInfo and BadRequest details. */
function shapeOf(err: unknown) {
  const e = ConnectError.from(err);
  const info = e.findDetails(ErrorInfoSchema)[0];
  const bad = e.findDetails(BadRequestSchema)[0];
  return {
    code: Code[e.code],
    message: e.rawMessage,
    reason: info?.reason,
    domain: info?.domain,
    violations: bad?.fieldViolations.map((v) => ({ field: v.field, reason: v.reason })) ?? [],
  };
}

async function failureOf(call: Promise<unknown>) {
  return call.then(
    () => {
      throw new Error("the call succeeded");
    },
    (e: unknown) => shapeOf(e),
  );
}

/** A POST with a JSON body over HTTP/1.1, as `curl -H 'Content-Type: application/json' -d …` sends it. */
function postJson(path: string, body: unknown, key?: string): Promise<{ status: number; contentType: string | undefined; body: Record<string, unknown> }> {
  const [host, port] = suite.httpAddresses.metadata!.split(":");
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http1Request(
      {
        host,
        port: Number(port),
        path,
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], body: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

const day = (d: number) => new Date(Date.UTC(2025, 0, d));

beforeAll(async () => {
  const started = await startTestSuite("protocols");
  stop = started.stop;
  suite = started.suite;
  adminKey = started.keys.adminKey;
  granary = connect({ addresses: suite.addresses, timeoutMs: 20_000, apiKey: adminKey });
  await granary.waitUntilServing(30_000);
  const project = await granary.project("protocols", { description: "the protocol test" });
  const cards = await project.getOrCreateFeatureGroup({
    name: "cards",
    columns: [
      { name: "cc_num", type: "int64" },
      { name: "spend", type: "double" },
      { name: "tier", type: "string" },
      { name: "ts", type: "timestamp" },
    ],
    primaryKey: ["cc_num"],
    eventTime: "ts",
    onlineEnabled: true,
  });
  await cards.insert([
    { cc_num: 1, spend: 120.5, tier: "gold", ts: day(1) },
    { cc_num: 2, spend: 10, tier: "basic", ts: day(2) },
  ]);
  await project.getOrCreateFeatureView({ name: "card_view", query: cards.select(["spend", "tier"]) });
}, 120_000);

afterAll(async () => {
  granary?.close();
  await stop?.();
}, 60_000);

describe("the HTTP port", () => {
  it("every service has one, on its own port", () => {
    for (const name of ["metadata", "online", "offline", "registry"] as const) {
      expect(suite.httpAddresses[name]).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(suite.httpAddresses[name]).not.toBe(suite.addresses[name]);
    }
  });

  it("answers a plain JSON POST (curl) with the message as JSON", async () => {
    const res = await postJson("/granary.metadata.v1.MetadataService/GetProject", { name: "protocols" }, adminKey);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect((res.body["project"] as Record<string, unknown>)["description"]).toBe("the protocol test");
  });

  it("answers a JSON POST with an error body carrying ErrorInfo and BadRequest", async () => {
    const res = await postJson("/granary.metadata.v1.MetadataService/GetProject", { name: "Not An Identifier" }, adminKey);
    expect(res.status).toBe(400);
    expect(res.body["code"]).toBe("invalid_argument");
    const details = res.body["details"] as { type: string; value: string }[];
    expect(details.map((d) => d.type).sort()).toEqual(["google.rpc.BadRequest", "google.rpc.ErrorInfo"]);
    // Connect's JSON error body: each detail's bytes base64; decoded by the clients in the next tests.
    expect(details.every((d) => d.value.length > 0)).toBe(true);
  });

  it("refuses a call without a key, and names an unknown method, without a stack trace", async () => {
    const anonymous = await postJson("/granary.metadata.v1.MetadataService/ListProjects", {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body["code"]).toBe("unauthenticated");
    const missing = await postJson("/granary.metadata.v1.MetadataService/NoSuchMethod", {}, adminKey);
    expect(missing.status).toBe(404);
    expect(String(missing.body["message"])).toContain("no such method");
    expect(JSON.stringify([anonymous.body, missing.body])).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it("refuses a field the message does not have", async () => {
    const res = await postJson("/granary.metadata.v1.MetadataService/GetProject", { nam: "protocols" }, adminKey);
    expect(res.status).toBe(400);
    expect(String(res.body["message"])).toContain('"nam"');
  });
});

describe.each(PROTOCOLS)("over %s", (protocol) => {
  it("gives the same answer as gRPC (unary)", async () => {
    const reference = await clientOf(MetadataService, "grpc").getProject({ name: "protocols" });
    const answer = await clientOf(MetadataService, protocol).getProject({ name: "protocols" });
    expect(answer.project?.name).toBe("protocols");
    expect(answer.project?.description).toBe(reference.project?.description);
  });

  it("serves online lookups (the pre-encoded hot path) with the same vectors", async () => {
    const ask = {
      project: "protocols",
      featureView: { name: "card_view", version: 1 },
      entities: { rowCount: 2, servingKeys: [{ name: "cc_num", data: { values: { case: "int64s" as const, value: { values: [1n, 99n] } } } }] },
    };
    const reference = await clientOf(OnlineService, "grpc").getFeatureVectors(ask);
    const answer = await clientOf(OnlineService, protocol).getFeatureVectors(ask);
    const json = (m: MessageShape<DescMessage>) => toJson(GetFeatureVectorsResponseSchema, m as never);
    expect(json(answer)).toEqual(json(reference));
    const spend = answer.vectors?.columns.find((c) => c.name === "spend");
    expect(spend?.values?.values.value).toEqual(expect.objectContaining({ values: [120.5, 0] }));
  });

  it("streams a server-streaming read (offline Read) to the same rows", async () => {
    const read = async (p: Protocol) => {
      let rows = 0;
      let bytes = 0;
      for await (const res of clientOf(OfflineService, p).read({ project: "protocols", featureGroup: { name: "cards", version: 1 } })) {
        const ipc = res.chunk?.ipc ?? new Uint8Array();
        bytes += ipc.byteLength;
        if (ipc.byteLength > 0) rows += tableFromIPC(ipc).numRows;
      }
      return { rows, bytes };
    };
    const reference = await read("grpc");
    expect(reference.rows).toBe(2);
    expect(await read(protocol)).toEqual(reference);
  });

  it("gives the same error details as gRPC: NOT_FOUND", async () => {
    const reference = await failureOf(clientOf(MetadataService, "grpc").getProject({ name: "nope" }));
    expect(reference).toEqual({ code: "NotFound", message: 'project "nope" does not exist', reason: "NOT_FOUND", domain: "granary.dev", violations: [] });
    expect(await failureOf(clientOf(MetadataService, protocol).getProject({ name: "nope" }))).toEqual(reference);
  });

  it("gives the same error details as gRPC: validation, with every field at fault", async () => {
    const reference = await failureOf(clientOf(MetadataService, "grpc").getProject({ name: "Bad Name" }));
    expect(reference.code).toBe("InvalidArgument");
    expect(reference.reason).toBe("REQUEST_VALIDATION_FAILED");
    expect(reference.violations).toEqual([{ field: "name", reason: "string.pattern" }]);
    expect(await failureOf(clientOf(MetadataService, protocol).getProject({ name: "Bad Name" }))).toEqual(reference);
  });

  it("gives the same error details as gRPC: no API key", async () => {
    const reference = await failureOf(clientOf(MetadataService, "grpc", null).listProjects({}));
    expect(reference).toMatchObject({ code: "Unauthenticated", reason: "API_KEY_MISSING", domain: "granary.dev" });
    expect(await failureOf(clientOf(MetadataService, protocol, null).listProjects({}))).toEqual(reference);
  });

  it("gives the same error details as gRPC: an unknown key", async () => {
    const reference = await failureOf(clientOf(MetadataService, "grpc", "grn_nobody_x").listProjects({}));
    expect(reference).toMatchObject({ code: "Unauthenticated", domain: "granary.dev" });
    expect(await failureOf(clientOf(MetadataService, protocol, "grn_nobody_x").listProjects({}))).toEqual(reference);
  });
});

describe("limits on the HTTP port", () => {
  it("refuses a message over the size limit with RESOURCE_EXHAUSTED, and keeps serving", async () => {
    const huge = "x".repeat(17 * 1024 * 1024);
    // HTTP/2: the server answers and resets the stream; HTTP/1.1 clients may see the connection
    // closed while still uploading instead (the server does not read 17 MiB only to refuse it).
    // (gRPC clients over HTTP/2 see the stream reset by the HTTP/2 layer first, on either port.)
    for (const protocol of ["connect+json (h2)"] as const) {
      const err = await failureOf(clientOf(MetadataService, protocol).getProject({ name: huge }));
      expect(err.code).toBe("ResourceExhausted");
    }
    const again = await clientOf(MetadataService, "connect+proto").getProject({ name: "protocols" });
    expect(again.project?.name).toBe("protocols");
  });
});
