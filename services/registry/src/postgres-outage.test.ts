import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { findFreePort, startEmbeddedPostgres, type EmbeddedPostgres } from "@granary/postgres";
import { checkHealth, waitFor } from "@granary/testing";
import { upload } from "./testing/artifact-io.js";
import { failure } from "./testing/failure.js";
import { startTestRegistry, type TestRegistry } from "./testing/start-test-registry.js";

// A PostgreSQL of this test's own, so stopping it leaves the other tests' server alone.
const dir = mkdtempSync(join(tmpdir(), "granary-reg-outage-"));
chmodSync(dir, 0o755);
let pg: EmbeddedPostgres;
let port: number;
let reg: TestRegistry;

beforeAll(async () => {
  port = await findFreePort();
  pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port });
  reg = await startTestRegistry(pg.url, { GRANARY_REGISTRY_DB_POOL_SIZE: "4" });
}, 60_000);

afterAll(async () => {
  await reg.stop();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("PostgreSQL goes away", () => {
  it("answers UNAVAILABLE and NOT_SERVING while it is down, stores nothing half, and recovers", async () => {
    const { modelVersion } = await reg.client.createModelVersion({ modelVersion: { project: "outage", model: "m" } });
    expect(await checkHealth(reg.address)).toBe("SERVING");
    await pg.stop();

    const err = await failure(reg.client.setAlias({ project: "outage", model: "m", alias: "production", version: 1 }));
    expect(Code[err.code]).toBe("Unavailable");
    expect(err.rawMessage).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|SELECT/);
    const up = await failure(upload(reg.client, { project: "outage", model: "m", version: modelVersion!.version, path: "m.bin" }, randomBytes(1000)));
    expect(Code[up.code]).toBe("Unavailable");
    await waitFor(async () => (await checkHealth(reg.address)) === "NOT_SERVING", { timeoutMs: 10_000, what: "NOT_SERVING" });

    pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port });
    await waitFor(async () => (await checkHealth(reg.address)) === "SERVING", { timeoutMs: 15_000, what: "SERVING again" });
    expect((await reg.client.listArtifacts({ project: "outage", model: "m", version: 1 })).artifacts).toEqual([]);
    await upload(reg.client, { project: "outage", model: "m", version: 1, path: "m.bin" }, randomBytes(1000));
    await reg.client.finalizeModelVersion({ project: "outage", model: "m", version: 1 });
    const moved = await reg.client.setAlias({ project: "outage", model: "m", alias: "production", version: 1 });
    expect(moved.model?.aliases).toEqual({ production: 1 });
  }, 60_000);
});
