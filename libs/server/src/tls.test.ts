import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { createAccessControl, NO_LOOKUPS } from "@granary/auth";
import { createServiceClient, type TransportOptions } from "@granary/service-clients";
import type { ServerConfig } from "@granary/config";
import { MetadataService } from "@granary/proto/metadata";
import { createLogger } from "@granary/telemetry";
import { captureLogs, checkHealth } from "@granary/testing";
import { createServer, defineService, type GranaryServer } from "./index.js";

// Certificates from the same script docker-compose.yml runs (openssl command line): a trusted set
// and a rogue one whose CA the servers do not know.
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const dir = mkdtempSync(join(tmpdir(), "granary-tls-"));
const certs = join(dir, "trusted");
const rogue = join(dir, "rogue");
const file = (d: string, name: string) => join(d, name);
const logs = captureLogs();
const servers: GranaryServer[] = [];

beforeAll(() => {
  for (const out of [certs, rogue]) execFileSync("sh", [join(root, "scripts/dev-certs.sh"), out], { stdio: "pipe" });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.shutdown()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(config: Partial<ServerConfig>): Promise<GranaryServer> {
  const server = createServer({
    name: "tls-test",
    config: { host: "127.0.0.1", port: 0, maxMessageBytes: 64 * 1024, drainDelayMs: 0, shutdownGraceMs: 1000, ...config },
    logger: createLogger({ level: "info", service: "tls-test", destination: logs.destination }),
    access: createAccessControl({ enabled: false, lookups: NO_LOOKUPS, service: "tls-test", logger: createLogger({ level: "silent", service: "tls-test" }) }),
    services: [
      defineService(MetadataService, {
        async getProject(req) {
          return { project: { name: req.name, description: "over tls" } };
        },
      }),
    ],
  });
  servers.push(server);
  await server.start();
  server.setServing(true);
  return server;
}

function call(address: string, options?: TransportOptions): Promise<string> {
  return createServiceClient(MetadataService, address, { defaultTimeoutMs: 3000, ...options })
    .getProject({ name: "p" })
    .then((r) => r.project?.description ?? "");
}

const tls = { certFile: file(certs, "server.crt"), keyFile: file(certs, "server.key") };

describe("TLS", () => {
  let server: GranaryServer;
  beforeAll(async () => {
    server = await start({ tls });
  });

  it("serves https to a client that trusts the CA, whether the address says https:// or TLS settings do", async () => {
    expect(server.transport).toBe("tls");
    expect(await call(`https://${server.address}`, { tls: { caFile: file(certs, "ca.crt") } })).toBe("over tls");
    expect(await call(server.address, { tls: { caFile: file(certs, "ca.crt") } })).toBe("over tls");
    expect(await call(`https://localhost:${server.port}`, { tls: { caFile: file(certs, "ca.crt") } })).toBe("over tls");
  });

  it("is refused by a client that does not trust the CA, and does not answer cleartext", async () => {
    await expect(call(`https://${server.address}`)).rejects.toThrow(/certificate/i);
    await expect(call(`https://${server.address}`, { tls: { caFile: file(rogue, "ca.crt") } })).rejects.toThrow(/certificate/i);
    await expect(call(`http://${server.address}`)).rejects.toThrow();
    await expect(call(server.address)).rejects.toThrow();
  });

  it("says at start that TLS is on", () => {
    expect(logs.lines().some((l) => l.transport === "tls" && /TLS on/.test(String(l.msg)))).toBe(true);
  });
});

describe("mTLS (GRANARY_TLS_CA set)", () => {
  let server: GranaryServer;
  beforeAll(async () => {
    server = await start({ tls: { ...tls, caFile: file(certs, "ca.crt") } });
  });

  it("answers a client with a certificate the CA signed", async () => {
    expect(server.transport).toBe("mtls");
    const client = { caFile: file(certs, "ca.crt"), certFile: file(certs, "client.crt"), keyFile: file(certs, "client.key") };
    expect(await call(`https://${server.address}`, { tls: client })).toBe("over tls");
    // What a service presents to another: its own serving certificate (serverAuth + clientAuth).
    const service = { caFile: file(certs, "ca.crt"), certFile: tls.certFile, keyFile: tls.keyFile };
    expect(await call(server.address, { tls: service })).toBe("over tls");
  });

  it("answers deploy/healthcheck.mjs (the compose healthcheck) run with the service's own TLS settings", async () => {
    const healthcheck = (env: Record<string, string>) =>
      promisify(execFile)(process.execPath, [join(root, "deploy/healthcheck.mjs"), server.address], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", ...env },
      });
    const own = { GRANARY_TLS_CERT: tls.certFile, GRANARY_TLS_KEY: tls.keyFile };
    expect((await healthcheck({ ...own, GRANARY_TLS_CA: file(certs, "ca.crt") })).stdout).toMatch(/SERVING/);
    await expect(healthcheck({ ...own, GRANARY_TLS_CA: file(rogue, "ca.crt") })).rejects.toThrow();
    await expect(healthcheck({})).rejects.toThrow();
  });

  it("answers deploy/healthcheck.mjs https:// with a user's CA and client certificate", async () => {
    const run = promisify(execFile);
    const env = { PATH: process.env.PATH ?? "", GRANARY_TLS_CA: file(certs, "ca.crt") };
    const args = [join(root, "deploy/healthcheck.mjs"), `https://${server.address}`];
    await expect(run(process.execPath, args, { cwd: root, env })).rejects.toThrow();
    const withCert = { ...env, GRANARY_TLS_CERT: file(certs, "client.crt"), GRANARY_TLS_KEY: file(certs, "client.key") };
    expect((await run(process.execPath, args, { cwd: root, env: withCert })).stdout).toMatch(/SERVING/);
  });

  it("refuses a client without a certificate, or with one from another CA", async () => {
    await expect(call(`https://${server.address}`, { tls: { caFile: file(certs, "ca.crt") } })).rejects.toThrow(/certificate required/);
    const stranger = { caFile: file(certs, "ca.crt"), certFile: file(rogue, "client.crt"), keyFile: file(rogue, "client.key") };
    await expect(call(`https://${server.address}`, { tls: stranger })).rejects.toThrow();
  });
});

describe("the HTTP port under TLS (Connect over https, HTTP/1.1 and h2 by ALPN)", () => {
  const connectCall = (server: GranaryServer, httpVersion: "1.1" | "2", tlsFiles: { ca: string; cert?: string; key?: string }) => {
    const ca = readFileSync(tlsFiles.ca);
    const cert = tlsFiles.cert ? readFileSync(tlsFiles.cert) : undefined;
    const key = tlsFiles.key ? readFileSync(tlsFiles.key) : undefined;
    const transport = createConnectTransport({
      baseUrl: `https://localhost:${server.httpPort!}`,
      httpVersion,
      nodeOptions: { ca, cert, key },
    });
    return createClient(MetadataService, transport)
      .getProject({ name: "p" }, { timeoutMs: 3000 })
      .then((r) => r.project?.description ?? "");
  };

  it("serves https with the gRPC port's certificate, and refuses cleartext", async () => {
    const server = await start({ tls, httpPort: 0 });
    for (const v of ["1.1", "2"] as const) expect(await connectCall(server, v, { ca: file(certs, "ca.crt") })).toBe("over tls");
    await expect(connectCall(server, "1.1", { ca: file(rogue, "ca.crt") })).rejects.toThrow(/certificate/i);
    const cleartext = createClient(MetadataService, createConnectTransport({ baseUrl: `http://127.0.0.1:${server.httpPort!}`, httpVersion: "1.1" }));
    await expect(cleartext.getProject({ name: "p" }, { timeoutMs: 3000 })).rejects.toThrow();
  });

  it("requires a client certificate the CA signed when the gRPC port does (mTLS)", async () => {
    const server = await start({ tls: { ...tls, caFile: file(certs, "ca.crt") }, httpPort: 0 });
    const client = { ca: file(certs, "ca.crt"), cert: file(certs, "client.crt"), key: file(certs, "client.key") };
    for (const v of ["1.1", "2"] as const) expect(await connectCall(server, v, client)).toBe("over tls");
    await expect(connectCall(server, "1.1", { ca: file(certs, "ca.crt") })).rejects.toThrow();
    await expect(connectCall(server, "2", { ca: file(certs, "ca.crt"), cert: file(rogue, "client.crt"), key: file(rogue, "client.key") })).rejects.toThrow();
  });
});

describe("health port and reflection", () => {
  it("serves grpc.health.v1 in cleartext on GRANARY_HEALTH_PORT while the service port speaks TLS", async () => {
    const server = await start({ tls, healthPort: 0 });
    expect(server.healthPort).toBeGreaterThan(0);
    expect(await checkHealth(`127.0.0.1:${server.healthPort}`)).toBe("SERVING");
    expect(await checkHealth(`127.0.0.1:${server.healthPort}`, "liveness")).toBe("SERVING");
    // Only health there.
    await expect(call(`127.0.0.1:${server.healthPort}`)).rejects.toThrow(/unimplemented/i);
  });

  it("answers reflection on loopback by default, and not when GRANARY_REFLECTION=off", async () => {
    const on = await start({});
    const off = await start({ reflection: false });
    expect(await listServices(on.address)).toContain("granary.metadata.v1.MetadataService");
    await expect(listServices(off.address)).rejects.toThrow(/UNIMPLEMENTED/);
  });
});

describe("start errors", () => {
  it("names the file it cannot read", async () => {
    const missing = join(dir, "nope.crt");
    await expect(start({ tls: { ...tls, certFile: missing } })).rejects.toThrow(`cannot read GRANARY_TLS_CERT file ${missing}`);
    await expect(start({ tls: { ...tls, caFile: missing } })).rejects.toThrow(`cannot read GRANARY_TLS_CA file ${missing}`);
    const garbage = join(dir, "garbage.key");
    writeFileSync(garbage, "not a key");
    await expect(start({ tls: { ...tls, keyFile: garbage } })).rejects.toThrow(`GRANARY_TLS_KEY file ${garbage} is not PEM`);
  });

  it("names the file a client cannot read", () => {
    const missing = join(dir, "nope-ca.crt");
    expect(() => createServiceClient(MetadataService, "127.0.0.1:1", { tls: { caFile: missing } })).toThrow(`cannot read the TLS CA file ${missing}`);
  });
});

/** grpc.reflection.v1 ListServices through a raw grpc-js stream (list_services = field 7). */
function listServices(address: string): Promise<string> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const identity = (b: Buffer) => b;
  return new Promise<string>((resolve, reject) => {
    const stream = client.makeBidiStreamRequest("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", identity, identity, {
      deadline: Date.now() + 3000,
    });
    stream.on("data", (b: Buffer) => {
      resolve(b.toString("latin1"));
      stream.cancel();
    });
    stream.on("error", (err: Error) =>
      reject(new Error(`${(err as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED ? "UNIMPLEMENTED" : "error"}: ${err.message}`)),
    );
    stream.write(Buffer.from([0x3a, 0x00]));
    stream.end();
  }).finally(() => client.close());
}
