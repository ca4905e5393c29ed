import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { findFreePort, startEmbeddedPostgres, type EmbeddedPostgres } from "@granary/postgres";
import { checkHealth, waitFor } from "@granary/testing";
import { transactionsGroup } from "./testing/fixtures.js";
import { startTestMetadata, type TestMetadata } from "./testing/start-test-metadata.js";

// A PostgreSQL of this test's own, so stopping it leaves the other tests' server alone.
const dir = mkdtempSync(join(tmpdir(), "granary-outage-"));
chmodSync(dir, 0o755);
let pg: EmbeddedPostgres;
let port: number;
let md: TestMetadata;

beforeAll(async () => {
  port = await findFreePort();
  pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port });
  md = await startTestMetadata(pg.url, { GRANARY_METADATA_DB_POOL_SIZE: "4" });
  await md.client.createProject({ name: "outage" });
}, 60_000);

afterAll(async () => {
  await md.stop();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("PostgreSQL goes away", () => {
  it("answers UNAVAILABLE and NOT_SERVING while it is down, applies nothing half, and recovers", async () => {
    expect(await checkHealth(md.address)).toBe("SERVING");
    await pg.stop();

    const err = await md.client.createFeatureGroup({ featureGroup: transactionsGroup("outage") }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err && Code[err.code]).toBe("Unavailable");
    expect(err?.rawMessage).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|SELECT/);
    const read = await md.client.getProject({ name: "outage" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(read && Code[read.code]).toBe("Unavailable");
    await waitFor(async () => (await checkHealth(md.address)) === "NOT_SERVING", { timeoutMs: 10_000, what: "NOT_SERVING" });

    pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port });
    await waitFor(async () => (await checkHealth(md.address)) === "SERVING", { timeoutMs: 15_000, what: "SERVING again" });
    // The write that failed left nothing behind; doing it again works.
    const list = await md.client.listFeatureGroups({ project: "outage" });
    expect(list.featureGroups).toHaveLength(0);
    const created = await md.client.createFeatureGroup({ featureGroup: transactionsGroup("outage") });
    expect(created.created).toBe(true);
  }, 60_000);
});
