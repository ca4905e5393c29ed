import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { findFreePort } from "@granary/postgres";
import {
  checkHealth,
  createTestDatabase,
  startServiceProcess,
  testKeys,
  waitFor,
  waitForServing,
  type ServiceProcess,
  type TestDatabase,
} from "@granary/testing";

// The four services as separate processes, as production runs them, each on its own port.
const SERVICES = [
  { name: "metadata", service: "granary.metadata.v1.MetadataService", method: "CreateFeatureGroup" },
  { name: "online", service: "granary.online.v1.OnlineService", method: "GetFeatureVectors" },
  { name: "offline", service: "granary.offline.v1.OfflineService", method: "GetTrainingData" },
  { name: "registry", service: "granary.registry.v1.RegistryService", method: "SetAlias" },
] as const;

const keys = testKeys();
const dataDir = mkdtempSync(join(tmpdir(), "granary-services-"));
let database: TestDatabase;
const running: { name: string; service: string; method: string; address: string; proc: ServiceProcess }[] = [];

let metadataAddress = "";

function envFor(name: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [`GRANARY_${name.toUpperCase()}_PORT`]: String(port),
    GRANARY_DATA_DIR: join(dataDir, name),
    DATABASE_URL: database.url,
    GRANARY_METADATA_ADDRESS: metadataAddress,
    GRANARY_LOG_LEVEL: "warn",
    // Each service has its own data directory: they share the service key through the environment.
    ...keys.env,
    ...extra,
  };
}

beforeAll(async () => {
  database = await createTestDatabase("services");
  // Metadata first: the others follow its catalogue and need its address.
  const ports = await Promise.all(SERVICES.map(() => findFreePort()));
  metadataAddress = `127.0.0.1:${ports[0]}`;
  SERVICES.forEach((s, i) => {
    const proc = startServiceProcess(`services/${s.name}/src/main.ts`, envFor(s.name, ports[i]!));
    running.push({ ...s, address: `127.0.0.1:${ports[i]}`, proc });
  });
  await Promise.all(
    running.map((r) =>
      waitForServing(r.address, 60_000).catch((err: unknown) => {
        throw new Error(`${r.name} did not become SERVING: ${String(err)}\n${r.proc.output()}`);
      }),
    ),
  );
}, 90_000);

afterAll(async () => {
  await Promise.all(running.map((r) => r.proc.stop()));
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

function rawUnary(address: string, path: string): Promise<grpc.ServiceError | Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      (err, res) => {
        client.close();
        resolve(err ?? res ?? Buffer.alloc(0));
      },
    );
  });
}

describe("the four services as separate processes", () => {
  it("each reports SERVING, for the server and for its service name", async () => {
    for (const r of running) {
      expect(await checkHealth(r.address)).toBe("SERVING");
      expect(await checkHealth(r.address, r.service)).toBe("SERVING");
    }
  });

  it("each is reached by a plain @grpc/grpc-js client; an unknown method gets UNIMPLEMENTED", async () => {
    for (const r of running) {
      const res = await rawUnary(r.address, `/${r.service}/NoSuchMethod`);
      expect(res).toBeInstanceOf(Error);
      expect((res as grpc.ServiceError).code).toBe(grpc.status.UNIMPLEMENTED);
    }
  });

  it("each refuses a call without an API key: UNAUTHENTICATED", async () => {
    for (const r of running) {
      const res = await rawUnary(r.address, `/${r.service}/${r.method}`);
      expect(res).toBeInstanceOf(Error);
      expect((res as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    }
  });

  it("each lists its methods through server reflection (buf curl, a Go gRPC client)", async () => {
    const buf = join(process.cwd(), "node_modules", ".bin", "buf");
    for (const r of running) {
      const { stdout } = await promisify(execFile)(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", `http://${r.address}`, "--list-methods"]);
      expect(stdout).toContain(`${r.service}/${r.method}`);
    }
  });
});

describe("process life", () => {
  it("reports NOT_SERVING while draining, then exits 0", async () => {
    const port = await findFreePort();
    const address = `127.0.0.1:${port}`;
    const proc = startServiceProcess(
      "services/online/src/main.ts",
      envFor("online", port, {
        GRANARY_DATA_DIR: join(dataDir, "drain"),
        GRANARY_DRAIN_DELAY_MS: "1500",
      }),
    );
    await waitForServing(address, 60_000);
    proc.child.kill("SIGTERM");
    await waitFor(async () => (await checkHealth(address, "", 500)) === "NOT_SERVING", { timeoutMs: 1400, what: "NOT_SERVING" });
    expect(await proc.exited()).toBe(0);
  }, 90_000);

  it("refuses to start on a bad environment, listing every bad key", async () => {
    const proc = startServiceProcess("services/metadata/src/main.ts", {
      GRANARY_METADATA_PORT: "http",
      GRANARY_LOG_LEVEL: "loud",
      DATABASE_URL: "mysql://root:hunter2@db/x",
      GRANARY_SHUTDOWN_GRACE_MS: "-5",
    });
    expect(await proc.exited()).toBe(2);
    const out = proc.output();
    for (const key of ["GRANARY_METADATA_PORT", "GRANARY_LOG_LEVEL", "DATABASE_URL", "GRANARY_SHUTDOWN_GRACE_MS"]) {
      expect(out).toContain(key);
    }
    expect(out).not.toContain("hunter2");
  }, 30_000);
});
