// TLS end to end: the whole suite serving TLS from certificate files, the services dialling each
// other over TLS (and with client certificates under mTLS), the SDK and the Python client over
// https:// with a CA file. Certificates come from scripts/dev-certs.sh (openssl).
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@granary/client";
import { startSuiteOnFreePorts, type RunningSuite } from "@granary/suite";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, type TestDatabase } from "@granary/testing";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = scratchDir("tls");
const certs = join(dir.path, "certs");
const keys = testKeys();
const logger = createLogger({ level: "error", service: "tls-test" });

let db: TestDatabase;
beforeAll(async () => {
  execFileSync("sh", [join(root, "scripts/dev-certs.sh"), certs], { stdio: "pipe" });
  db = await createTestDatabase("tls");
}, 60_000);
afterAll(async () => {
  await db?.drop();
  dir.remove();
});

async function startTlsSuite(name: string, extra: Record<string, string>): Promise<RunningSuite> {
  return startSuiteOnFreePorts(
    {
      GRANARY_DATA_DIR: join(dir.path, name),
      DATABASE_URL: db.url,
      GRANARY_LOG_LEVEL: "error",
      GRANARY_TLS_CERT: join(certs, "server.crt"),
      GRANARY_TLS_KEY: join(certs, "server.key"),
      GRANARY_TLS_CA: join(certs, "ca.crt"),
      ...keys.env,
      ...extra,
    },
    logger,
  );
}

const https = (suite: RunningSuite) =>
  Object.fromEntries(Object.entries(suite.addresses).map(([name, address]) => [name, `https://${address}`])) as Record<keyof RunningSuite["addresses"], string>;

function python(code: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "/usr/bin/python3",
      ["-c", code],
      { timeout: 60_000, env: { ...process.env, PYTHONPATH: join(root, "clients/python/src"), PYTHONDONTWRITEBYTECODE: "1", ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }),
    );
  });
}
const pythonReady = (await python("import grpc, google.protobuf", {})).code === 0;

describe("TLS with a CA the services trust (client certificates off)", () => {
  let suite: RunningSuite;
  beforeAll(async () => {
    suite = await startTlsSuite("tls", { GRANARY_TLS_CLIENT_CERTS: "off" });
  }, 90_000);
  afterAll(() => suite?.stop());

  it("serves the SDK over https:// with the CA, and every service reaches the others over TLS", async () => {
    const granary = connect({ addresses: https(suite), caFile: join(certs, "ca.crt"), apiKey: keys.adminKey, env: {} });
    // Online and offline are SERVING only once their catalogue watch over TLS to metadata is current.
    await granary.waitUntilServing(30_000);
    const project = await granary.project("tls_sdk", { create: true });
    expect(project.name).toBe("tls_sdk");
  });

  it("refuses a client that does not trust the CA, and a cleartext client", async () => {
    const untrusting = connect({ addresses: https(suite), apiKey: keys.adminKey, env: {} });
    await expect(untrusting.project("tls_sdk")).rejects.toThrow(/certificate|UNAVAILABLE|unavailable/i);
    const cleartext = connect({ addresses: suite.addresses, apiKey: keys.adminKey, env: {} });
    await expect(cleartext.project("tls_sdk")).rejects.toThrow();
  });

  it("serves the Python client over https:// with the CA", async () => {
    if (!pythonReady && !process.env["CI"]) {
      console.warn("not run: the Python TLS round trip needs /usr/bin/python3 with grpc and protobuf (CI installs them)");
      return;
    }
    const a = https(suite);
    const run = await python(
      [
        "import json, granary_feature_store",
        "from granary_feature_store.proto.granary.metadata.v1 import metadata_service_pb2 as m",
        `g = granary_feature_store.connect(metadata=${JSON.stringify(a.metadata)}, online=${JSON.stringify(a.online)}, offline=${JSON.stringify(a.offline)}, registry=${JSON.stringify(a.registry)}, ca_file=${JSON.stringify(join(certs, "ca.crt"))})`,
        "g.metadata.CreateProject(m.CreateProjectRequest(name='tls_python'), timeout=20)",
        "names = [p.name for p in g.metadata.ListProjects(m.ListProjectsRequest(), timeout=20).projects]",
        "print(json.dumps(names))",
      ].join("\n"),
      { GRANARY_API_KEY: keys.adminKey },
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(run.stdout)).toContain("tls_python");
  }, 60_000);
});

describe("mTLS: client certificates required on every port", () => {
  let suite: RunningSuite;
  beforeAll(async () => {
    suite = await startTlsSuite("mtls", {});
  }, 90_000);
  afterAll(() => suite?.stop());

  it("lets services talk to each other with their certificates, and a client with one", async () => {
    const granary = connect({
      addresses: https(suite),
      caFile: join(certs, "ca.crt"),
      certFile: join(certs, "client.crt"),
      keyFile: join(certs, "client.key"),
      apiKey: keys.adminKey,
      env: {},
    });
    await granary.waitUntilServing(30_000);
    expect((await granary.project("mtls_sdk", { create: true })).name).toBe("mtls_sdk");
  });

  it("refuses a client without a certificate, even with a valid API key", async () => {
    const granary = connect({ addresses: https(suite), caFile: join(certs, "ca.crt"), apiKey: keys.adminKey, env: {} });
    await expect(granary.project("mtls_sdk")).rejects.toThrow();
  });
});
