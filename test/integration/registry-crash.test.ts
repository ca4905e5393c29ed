import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectError, type Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { findFreePort } from "@granary/postgres";
import { MetadataService } from "@granary/proto/metadata";
import { ModelVersionStatus, RegistryService } from "@granary/proto/registry";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, startServiceProcess, testKeys, waitFor, waitForServing, type ServiceProcess, type TestDatabase } from "@granary/testing";

// The registry as its own process, killed with SIGKILL in the middle of an upload.
const keys = testKeys();
const P = "fraud";
const MiB = 1024 * 1024;
const dataDir = mkdtempSync(join(tmpdir(), "granary-registry-crash-"));
const blobRoot = join(dataDir, "registry", "registry", "blobs");
let db: TestDatabase;
let metadata: RunningService;
let env: Record<string, string>;
let address: string;
let proc: ServiceProcess | undefined;
let reg: Client<typeof RegistryService>;

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const filesUnder = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name))
    : [];

async function startRegistry(): Promise<void> {
  proc = startServiceProcess("services/registry/src/main.ts", env);
  await waitForServing(address, 60_000).catch((err: unknown) => {
    throw new Error(`registry did not become SERVING: ${String(err)}\n${proc?.output()}`);
  });
}

beforeAll(async () => {
  db = await createTestDatabase("reg_crash");
  const logger = createLogger({ level: "silent", service: "registry-crash-test" });
  metadata = await startMetadataService(
    loadMetadataConfig({
      ...keys.env,
      GRANARY_METADATA_PORT: "0",
      GRANARY_DATA_DIR: join(dataDir, "metadata"),
      DATABASE_URL: db.url,
      GRANARY_SHUTDOWN_GRACE_MS: "1000",
    }),
    logger,
  );
  // The registry records every model in metadata, which needs the project.
  await createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey }).createProject({ name: P });
  const port = await findFreePort();
  address = `127.0.0.1:${port}`;
  env = {
    ...keys.env,
    GRANARY_REGISTRY_PORT: String(port),
    GRANARY_DATA_DIR: join(dataDir, "registry"),
    DATABASE_URL: db.url,
    GRANARY_METADATA_ADDRESS: metadata.address,
    GRANARY_LOG_LEVEL: "warn",
  };
  await startRegistry();
  reg = createServiceClient(RegistryService, address, { apiKey: keys.adminKey });
}, 90_000);

afterAll(async () => {
  await proc?.stop();
  await metadata?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe("SIGKILL during an upload", () => {
  it("leaves no READY version and no stray file after restart, and the upload can be done again", async () => {
    const done = randomBytes(3 * MiB);
    const v1 = (await reg.createModelVersion({ modelVersion: { project: P, model: "crashy" } })).modelVersion!.version;
    await reg.uploadArtifact(
      (async function* () {
        yield { message: { case: "header" as const, value: { project: P, model: "crashy", version: v1, path: "model.bin", sha256: sha256(done) } } };
        yield { message: { case: "chunk" as const, value: done } };
      })(),
    );
    await reg.finalizeModelVersion({ project: P, model: "crashy", version: v1 });

    const v2 = (await reg.createModelVersion({ modelVersion: { project: P, model: "crashy" } })).modelVersion!.version;
    const chunk = randomBytes(MiB);
    let sent = 0;
    const killedUpload = reg
      .uploadArtifact(
        (async function* () {
          yield { message: { case: "header" as const, value: { project: P, model: "crashy", version: v2, path: "huge.bin" } } };
          // Endless: only the kill ends it.
          for (;;) {
            sent++;
            yield { message: { case: "chunk" as const, value: chunk } };
          }
        })(),
      )
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    const tmp = join(blobRoot, "tmp");
    await waitFor(() => filesUnder(tmp).some((f) => statSync(f).size > 8 * MiB), { timeoutMs: 20_000, what: "a partial upload on disk" });
    proc!.child.kill("SIGKILL");
    await proc!.exited();
    const err = await killedUpload;
    // The client sees the connection die (connect reports it as INTERNAL or UNAVAILABLE).
    expect(err).toBeInstanceOf(ConnectError);
    expect(sent).toBeGreaterThan(8);
    expect(filesUnder(tmp).length).toBeGreaterThan(0);

    await startRegistry();
    expect(filesUnder(tmp)).toEqual([]);
    expect(filesUnder(join(blobRoot, "sha256")).map((f) => f.split("/").pop())).toEqual([sha256(done)]);
    const listed = await reg.listModelVersions({ project: P, model: "crashy", includeIncomplete: true });
    expect(listed.modelVersions.map((v) => [v.version, ModelVersionStatus[v.status]])).toEqual([
      [v1, "READY"],
      [v2, "UPLOADING"],
    ]);
    expect((await reg.listArtifacts({ project: P, model: "crashy", version: v2 })).artifacts).toEqual([]);
    expect((await reg.getModel({ project: P, name: "crashy" })).model?.latestVersion).toBe(v1);
    let downloaded = Buffer.alloc(0);
    for await (const res of reg.downloadArtifact({ project: P, model: "crashy", version: v1, path: "model.bin" })) {
      if (res.message.case === "chunk") downloaded = Buffer.concat([downloaded, res.message.value]);
    }
    expect(sha256(downloaded)).toBe(sha256(done));

    const retried = await reg.uploadArtifact(
      (async function* () {
        yield { message: { case: "header" as const, value: { project: P, model: "crashy", version: v2, path: "huge.bin" } } };
        yield { message: { case: "chunk" as const, value: chunk } };
      })(),
    );
    expect(retried.artifact?.sha256).toBe(sha256(chunk));
    const ready = await reg.finalizeModelVersion({ project: P, model: "crashy", version: v2 });
    expect(ready.modelVersion?.status).toBe(ModelVersionStatus.READY);
  }, 120_000);
});
