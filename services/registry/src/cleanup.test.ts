import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "@granary/testing";
import { sha256, upload } from "./testing/artifact-io.js";
import { failure } from "./testing/failure.js";
import { startTestRegistry, type TestRegistry } from "./testing/start-test-registry.js";

let db: TestDatabase;
let reg: TestRegistry;
const P = "fraud";

beforeAll(async () => {
  db = await createTestDatabase("reg_cleanup");
  reg = await startTestRegistry(db.url);
});
afterAll(async () => {
  await reg.stop();
  await db.drop();
});

const blobFile = (digest: string) => join(reg.blobRoot, "sha256", digest.slice(0, 2), digest);

function leave(path: string, ageMs = 0): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "partial upload");
  const when = (Date.now() - ageMs) / 1000;
  utimesSync(path, when, when);
  return path;
}

describe("sweeping abandoned uploads", () => {
  it("clears this host's temporary files and unreferenced blobs at start, and abandoned versions after the upload timeout", async () => {
    const abandoned = (await reg.client.createModelVersion({ modelVersion: { project: P, model: "sweep" } })).modelVersion!.version;
    const abandonedContent = randomBytes(5000);
    await upload(reg.client, { project: P, model: "sweep", version: abandoned, path: "half.bin" }, abandonedContent);
    const kept = (await reg.client.createModelVersion({ modelVersion: { project: P, model: "sweep" } })).modelVersion!.version;
    const keptContent = randomBytes(5000);
    await upload(reg.client, { project: P, model: "sweep", version: kept, path: "model.bin" }, keptContent);
    await reg.client.finalizeModelVersion({ project: P, model: "sweep", version: kept });

    const orphan = "ab".padEnd(64, "0");
    leave(blobFile(orphan));
    const ownTemp = leave(join(reg.blobRoot, "tmp", hostname(), "crashed.part"));
    const otherFresh = leave(join(reg.blobRoot, "tmp", "other-replica", "busy.part"));
    const otherStale = leave(join(reg.blobRoot, "tmp", "gone-replica", "stale.part"), 2 * 60 * 60_000);

    await reg.restart();
    expect(existsSync(blobFile(orphan))).toBe(false);
    expect(existsSync(ownTemp)).toBe(false);
    expect(existsSync(otherFresh)).toBe(true);
    expect(existsSync(otherStale)).toBe(false);
    expect(existsSync(join(reg.blobRoot, "tmp", "gone-replica"))).toBe(false);
    // Younger than the default hour: still there, for the upload to go on.
    const waiting = await reg.client.getModelVersion({ project: P, model: "sweep", selector: { case: "version", value: abandoned }, includeIncomplete: true });
    expect(waiting.modelVersion?.version).toBe(abandoned);
    expect(existsSync(blobFile(sha256(abandonedContent)))).toBe(true);

    await reg.restart({ GRANARY_REGISTRY_UPLOAD_TIMEOUT_MIN: "0" });
    const gone = await failure(
      reg.client.getModelVersion({ project: P, model: "sweep", selector: { case: "version", value: abandoned }, includeIncomplete: true }),
    );
    expect(Code[gone.code]).toBe("NotFound");
    expect(existsSync(blobFile(sha256(abandonedContent)))).toBe(false);
    expect(existsSync(otherFresh)).toBe(false);
    const ready = await reg.client.getModelVersion({ project: P, model: "sweep", selector: { case: "version", value: kept } });
    expect(ready.modelVersion?.version).toBe(kept);
    expect(existsSync(blobFile(sha256(keptContent)))).toBe(true);
    expect((await reg.client.getModel({ project: P, name: "sweep" })).model?.latestVersion).toBe(kept);
  });

  it("takes an upload that started or stored an artifact lately for a live one, however old its version", async () => {
    const create = async () => (await reg.client.createModelVersion({ modelVersion: { project: P, model: "aged" } })).modelVersion!.version;
    const [idle, started, stored] = [await create(), await create(), await create()];
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    try {
      await sql.query(
        `UPDATE granary_registry.model_versions SET create_time = now() - interval '2 hours', update_time = now() - interval '2 hours',
           activity_time = now() - interval '2 hours'`,
      );
    } finally {
      await sql.end();
    }
    // An upload that reached the registry (and failed its digest check) still shows someone is at work.
    await failure(upload(reg.client, { project: P, model: "aged", version: started, path: "x.bin", sha256: "0".repeat(64) }, randomBytes(10)));
    await upload(reg.client, { project: P, model: "aged", version: stored, path: "x.bin" }, randomBytes(10));
    await reg.restart({ GRANARY_REGISTRY_UPLOAD_TIMEOUT_MIN: "60" });
    const listed = await reg.client.listModelVersions({ project: P, model: "aged", includeIncomplete: true });
    expect(listed.modelVersions.map((v) => v.version)).toEqual([started, stored]);
    expect(listed.modelVersions.map((v) => v.version)).not.toContain(idle);
  });
});
