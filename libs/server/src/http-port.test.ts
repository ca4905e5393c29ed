import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Agent, request } from "node:http";
import { connect as http2Connect } from "node:http2";
import { MetadataService } from "@granary/proto/metadata";
import { createAccessControl, NO_LOOKUPS } from "@granary/auth";
import { NotFoundError } from "@granary/errors";
import { createLogger } from "@granary/telemetry";
import { createServer, defineService, type GranaryServer } from "./index.js";

// The HTTP port on its own: HTTP/1.1 and h2c on one port, CORS only for the listed origins, and
// a readable answer for paths that name no method.
const ALLOWED = "https://app.example.com";
let server: GranaryServer;

beforeAll(async () => {
  const silent = createLogger({ level: "silent", service: "http-port" });
  server = createServer({
    name: "http-port",
    config: { host: "127.0.0.1", port: 0, httpPort: 0, httpCorsOrigins: [ALLOWED], maxMessageBytes: 1 << 20, drainDelayMs: 0, shutdownGraceMs: 500 },
    logger: silent,
    access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: silent }),
    services: [
      defineService(MetadataService, {
        async getProject(req) {
          if (req.name !== "p") throw new NotFoundError(`project "${req.name}" does not exist`);
          return { project: { name: "p", description: "found" } };
        },
      }),
    ],
  });
  await server.start();
});

afterAll(async () => {
  await server.shutdown();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http1(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const [host, port] = server.httpAddress!.split(":");
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function h2c(path: string, body: string): Promise<Answer> {
  const session = http2Connect(`http://${server.httpAddress!}`);
  return new Promise<Answer>((resolve, reject) => {
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/json" });
    let status = 0;
    let headers: Answer["headers"] = {};
    let text = "";
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      headers = h;
    });
    stream.setEncoding("utf8");
    stream.on("data", (c: string) => (text += c));
    stream.on("end", () => resolve({ status, headers, body: text }));
    stream.on("error", reject);
    stream.end(body);
  }).finally(() => session.close());
}

const GET_PROJECT = "/granary.metadata.v1.MetadataService/GetProject";

describe("one port, two HTTP versions", () => {
  it("answers JSON over HTTP/1.1 and over h2c (prior knowledge) alike", async () => {
    const one = await http1("POST", GET_PROJECT, { "content-type": "application/json" }, '{"name":"p"}');
    const two = await h2c(GET_PROJECT, '{"name":"p"}');
    for (const answer of [one, two]) {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ project: { name: "p", description: "found" } });
    }
  });

  it("sends errors as Connect JSON with an ErrorInfo, on both", async () => {
    for (const answer of [await http1("POST", GET_PROJECT, { "content-type": "application/json" }, '{"name":"q"}'), await h2c(GET_PROJECT, '{"name":"q"}')]) {
      expect(answer.status).toBe(404);
      const body = JSON.parse(answer.body) as { code: string; message: string; details: { type: string; debug: unknown }[] };
      expect(body.code).toBe("not_found");
      expect(body.message).toBe('project "q" does not exist');
      expect(body.details[0]).toMatchObject({ type: "google.rpc.ErrorInfo", debug: { reason: "NOT_FOUND", domain: "granary.dev" } });
    }
  });

  it("names the expected form for a path that is no method", async () => {
    const answer = await http1("GET", "/", {});
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "unimplemented" });
  });
});

describe("CORS", () => {
  it("allows a preflight from a listed origin, with the headers Connect and gRPC-Web send", async () => {
    const answer = await http1("OPTIONS", GET_PROJECT, {
      origin: ALLOWED,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    });
    expect(answer.status).toBe(204);
    expect(answer.headers["access-control-allow-origin"]).toBe(ALLOWED);
    expect(answer.headers["access-control-allow-headers"]).toContain("authorization");
    expect(answer.headers["access-control-allow-headers"]).toContain("connect-protocol-version");
  });

  it("gives any other origin no allow headers, so its browser refuses the call", async () => {
    const preflight = await http1("OPTIONS", GET_PROJECT, { origin: "https://evil.example.net", "access-control-request-method": "POST" });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    const call = await http1("POST", GET_PROJECT, { origin: "https://evil.example.net", "content-type": "application/json" }, '{"name":"p"}');
    expect(call.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("marks a listed origin's call readable and exposes the gRPC-Web status headers", async () => {
    const call = await http1("POST", GET_PROJECT, { origin: ALLOWED, "content-type": "application/json" }, '{"name":"p"}');
    expect(call.status).toBe(200);
    expect(call.headers["access-control-allow-origin"]).toBe(ALLOWED);
    expect(call.headers["access-control-expose-headers"]).toContain("grpc-status-details-bin");
  });
});

describe("shutdown with idle keep-alive connections", () => {
  it("closes idle HTTP/1.1 connections at once instead of waiting out the grace period", async () => {
    const silent = createLogger({ level: "silent", service: "http-port" });
    const patient = createServer({
      name: "patient",
      config: { host: "127.0.0.1", port: 0, httpPort: 0, maxMessageBytes: 1 << 20, drainDelayMs: 0, shutdownGraceMs: 10_000 },
      logger: silent,
      access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "test", logger: silent }),
      services: [defineService(MetadataService, { getProject: async () => ({ project: { name: "p" } }) })],
    });
    await patient.start();
    const [host, port] = patient.httpAddress!.split(":");
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      const req = request({ host, port: Number(port), method: "POST", path: GET_PROJECT, agent, headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", reject);
      req.end('{"name":"p"}');
    });
    // The connection stays open in the agent's pool, idle.
    const started = performance.now();
    await patient.shutdown();
    expect(performance.now() - started).toBeLessThan(2_000);
    agent.destroy();
  });
});
