import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startConsoleServer, type ConsoleServer } from "./console-server.js";

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path goes on the wire as written (fetch would normalise `..` away). */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end(body);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let dir: string;
let dist: string;
let upstream: Server;
let upstreamUrl: string;
let deadUrl: string;
let consoleServer: ConsoleServer;
let seen: { method?: string; url?: string; headers?: IncomingHttpHeaders; body?: string } = {};
/** Lets the streaming test release the upstream's second message when it says so. */
let releaseSecond: () => void = () => {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "granary-console-"));
  dist = join(dir, "dist");
  await mkdir(join(dist, "assets"), { recursive: true });
  await writeFile(join(dist, "index.html"), "<!doctype html><title>Granary</title><script type=module src=/assets/app-abc123.js></script>");
  await writeFile(join(dist, "assets", "app-abc123.js"), "console.log('app')");
  await writeFile(join(dir, "secret.txt"), "do not serve");

  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      if (req.url?.endsWith("/Read")) {
        res.writeHead(200, { "content-type": "application/connect+proto" });
        res.write("first;");
        releaseSecond = () => res.end("second;");
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-upstream": "yes" }).end('{"projects":[]}');
    });
  });
  upstreamUrl = await listen(upstream);
  const dead = createServer();
  deadUrl = await listen(dead);
  await new Promise((closed) => dead.close(closed));

  consoleServer = await startConsoleServer({
    host: "127.0.0.1",
    port: 0,
    distDir: dist,
    upstreams: { metadata: upstreamUrl, online: deadUrl, offline: upstreamUrl, registry: upstreamUrl },
  });
});

afterAll(async () => {
  await consoleServer.close();
  await new Promise((closed) => upstream.close(closed));
  await rm(dir, { recursive: true, force: true });
});

describe("console server: the app", () => {
  it("serves index.html with the security headers", async () => {
    const a = await send(consoleServer.port, "GET", "/");
    expect(a.status).toBe(200);
    expect(a.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(a.headers["cache-control"]).toBe("no-cache");
    expect(a.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(a.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(a.headers["content-security-policy"]).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(a.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(a.headers["x-content-type-options"]).toBe("nosniff");
    expect(a.headers["referrer-policy"]).toBe("no-referrer");
    expect(a.body).toContain("<title>Granary</title>");
  });

  it("serves hashed assets with their type and a long cache", async () => {
    const a = await send(consoleServer.port, "GET", "/assets/app-abc123.js");
    expect(a.status).toBe(200);
    expect(a.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(a.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(a.body).toBe("console.log('app')");
  });

  it("answers a client route (a deep link) with index.html, a missing asset with 404", async () => {
    const deep = await send(consoleServer.port, "GET", "/projects/fraud/groups/transactions/1");
    expect(deep.status).toBe(200);
    expect(deep.body).toContain("<title>Granary</title>");
    expect((await send(consoleServer.port, "GET", "/assets/old-999.js")).status).toBe(404);
  });

  it.each([
    "/../secret.txt",
    "/assets/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/..%5csecret.txt",
    "/%00",
  ])("never serves a file outside dist: %s", async (path) => {
    const a = await send(consoleServer.port, "GET", path);
    expect(a.body).not.toContain("do not serve");
    expect([200, 400, 404]).toContain(a.status);
    if (a.status === 200) expect(a.body).toContain("<title>Granary</title>");
  });

  it("refuses other methods than GET and HEAD on the app", async () => {
    const a = await send(consoleServer.port, "POST", "/index.html");
    expect(a.status).toBe(405);
  });

  it("says to build the console when dist is missing", async () => {
    const other = await startConsoleServer({
      host: "127.0.0.1",
      port: 0,
      distDir: join(dir, "nope"),
      upstreams: { metadata: upstreamUrl, online: upstreamUrl, offline: upstreamUrl, registry: upstreamUrl },
    });
    try {
      const a = await send(other.port, "GET", "/projects");
      expect(a.status).toBe(503);
      expect(a.body).toContain("npm run build:console");
    } finally {
      await other.close();
    }
  });
});

describe("console server: the API proxy", () => {
  it("forwards a call to its service with its headers and body", async () => {
    const a = await send(
      consoleServer.port,
      "POST",
      "/granary.metadata.v1.MetadataService/ListProjects",
      { authorization: "Bearer grn_abc_secretsecretsecret", "content-type": "application/json", "connect-protocol-version": "1" },
      "{}",
    );
    expect(a.status).toBe(200);
    expect(a.body).toBe('{"projects":[]}');
    expect(a.headers["x-upstream"]).toBe("yes");
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/granary.metadata.v1.MetadataService/ListProjects");
    expect(seen.headers?.authorization).toBe("Bearer grn_abc_secretsecretsecret");
    expect(seen.headers?.["connect-protocol-version"]).toBe("1");
    expect(seen.body).toBe("{}");
  });

  it("streams a server-streaming response as it comes", async () => {
    const received: string[] = [];
    await new Promise<void>((done, fail) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: consoleServer.port,
          method: "POST",
          path: "/granary.offline.v1.OfflineService/Read",
          headers: { "content-type": "application/connect+proto" },
        },
        (res) => {
          res.on("data", (c: Buffer) => {
            received.push(c.toString("utf8"));
            // The second message exists only once the first has reached the browser side.
            if (received.join("") === "first;") releaseSecond();
          });
          res.on("end", done);
          res.on("error", fail);
        },
      );
      req.on("error", fail);
      req.end("x");
    });
    expect(received.join("")).toBe("first;second;");
  });

  it("answers 502 with a Connect error when the service is down", async () => {
    const a = await send(consoleServer.port, "POST", "/granary.online.v1.OnlineService/GetFeatureVectors", { "content-type": "application/json" }, "{}");
    expect(a.status).toBe(502);
    expect(a.headers["content-type"]).toBe("application/json");
    const error = JSON.parse(a.body) as { code: string; message: string };
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("online");
  });

  it("refuses methods other than POST and GET on API paths", async () => {
    const a = await send(consoleServer.port, "DELETE", "/granary.metadata.v1.MetadataService/ListProjects");
    expect(a.status).toBe(405);
    expect(a.headers.allow).toBe("GET, POST");
    expect(seen.method).not.toBe("DELETE");
  });
});

describe("console server: services over TLS that require client certificates (mTLS)", () => {
  const root = join(fileURLToPath(new URL(".", import.meta.url)), "../../../..");
  let certs: string;
  let mtls: HttpsServer;
  let mtlsUrl: string;

  beforeAll(async () => {
    certs = await mkdtemp(join(tmpdir(), "granary-console-certs-"));
    execFileSync("sh", [join(root, "scripts/dev-certs.sh"), certs], { stdio: "pipe" });
    const file = (name: string) => readFileSync(join(certs, name));
    mtls = createHttpsServer(
      { cert: file("server.crt"), key: file("server.key"), ca: file("ca.crt"), requestCert: true, rejectUnauthorized: true },
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" }).end('{"projects":[]}');
      },
    );
    await new Promise<void>((ready) => mtls.listen(0, "127.0.0.1", ready));
    mtlsUrl = `https://localhost:${(mtls.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((done) => mtls.close(done));
    await rm(certs, { recursive: true, force: true });
  });

  async function consoleWith(tls: { caFile?: string; certFile?: string; keyFile?: string }): Promise<ConsoleServer> {
    return startConsoleServer({
      host: "127.0.0.1",
      port: 0,
      distDir: dist,
      upstreams: { metadata: mtlsUrl, online: mtlsUrl, offline: mtlsUrl, registry: mtlsUrl },
      tls,
    });
  }

  it("presents its client certificate and trusts the services' CA", async () => {
    const server = await consoleWith({ caFile: join(certs, "ca.crt"), certFile: join(certs, "client.crt"), keyFile: join(certs, "client.key") });
    try {
      const answer = await send(server.port, "POST", "/granary.metadata.v1.MetadataService/ListProjects", { "content-type": "application/json" }, "{}");
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ projects: [] });
    } finally {
      await server.close();
    }
  });

  it("without a client certificate the service refuses it, and the browser sees 502 unavailable", async () => {
    const server = await consoleWith({ caFile: join(certs, "ca.crt") });
    try {
      const answer = await send(server.port, "POST", "/granary.metadata.v1.MetadataService/ListProjects", { "content-type": "application/json" }, "{}");
      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.body)).toMatchObject({ code: "unavailable" });
    } finally {
      await server.close();
    }
  });

  it("names a certificate file it cannot read at start", async () => {
    await expect(consoleWith({ caFile: join(certs, "nope.crt") })).rejects.toThrow(/GRANARY_TLS_CA file .*nope\.crt/);
  });
});
