import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { findFreePort } from "@granary/postgres";
import { MetadataService } from "@granary/proto/metadata";
import { Durability, OnlineService } from "@granary/proto/online";
import { ScalarType, ValueStatus, type ColumnData } from "@granary/proto/types";
import type { RunningService } from "@granary/server";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, startServiceProcess, testKeys, waitForServing, type TestDatabase } from "@granary/testing";

// The online service as its own process, killed with SIGKILL in the middle of a write loop and
// restarted, five times: every write acknowledged as FLUSHED must be there afterwards.
const keys = testKeys();
const dir = scratchDir("online-crash");
let db: TestDatabase;
let metadata: RunningService;
let md: Client<typeof MetadataService>;

const i64 = (values: bigint[]): ColumnData => ({ values: { case: "int64s", value: { values } } }) as ColumnData;

beforeAll(async () => {
  db = await createTestDatabase("online_crash");
  metadata = await startMetadataService(
    loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url }),
    createLogger({ level: "warn", service: "test" }),
  );
  md = createServiceClient(MetadataService, metadata.address, { apiKey: keys.adminKey });
  await md.createProject({ name: "crash" });
  await md.createFeatureGroup({
    featureGroup: {
      project: "crash",
      name: "events",
      version: 1,
      columns: [
        { name: "id", type: { scalar: ScalarType.INT64 } },
        { name: "value", type: { scalar: ScalarType.INT64 } },
      ],
      primaryKey: ["id"],
      onlineEnabled: true,
    },
  });
  await md.createFeatureView({ featureView: { project: "crash", name: "events", version: 1, query: { featureGroup: { name: "events", version: 1 } } } });
}, 60_000);

afterAll(async () => {
  await metadata?.stop();
  await db?.drop();
  dir.remove();
}, 30_000);

async function startOnline(port: number) {
  const proc = startServiceProcess("services/online/src/main.ts", {
    ...keys.env,
    GRANARY_ONLINE_PORT: String(port),
    GRANARY_DATA_DIR: join(dir.path, "online-data"),
    GRANARY_METADATA_ADDRESS: metadata.address,
    GRANARY_LOG_LEVEL: "warn",
  });
  await waitForServing(`127.0.0.1:${port}`, 60_000).catch((err: unknown) => {
    throw new Error(`online did not start: ${String(err)}\n${proc.output()}`);
  });
  return proc;
}

describe("online durability", () => {
  it("keeps every FLUSHED write across five SIGKILLs", async () => {
    const port = await findFreePort();
    const acknowledged: bigint[] = [];
    let next = 0n;
    for (let round = 0; round < 5; round++) {
      const proc = await startOnline(port);
      const client = createServiceClient(OnlineService, `127.0.0.1:${port}`, { apiKey: keys.adminKey });
      let killed = false;
      let killer: NodeJS.Timeout | undefined;
      const roundStarted = Date.now();
      // The kill is armed once the first write of the round is acknowledged: that write pays for
      // resolving the API key (an scrypt check in metadata), which on a loaded machine can take
      // longer than the whole window the kill leaves.
      const arm = () =>
        (killer ??= setTimeout(
          () => {
            killed = true;
            proc.child.kill("SIGKILL");
          },
          400 + round * 100,
        ));
      while (!killed) {
        const ids = Array.from({ length: 50 }, () => next++);
        try {
          await client.writeRows({
            project: "crash",
            featureGroup: { name: "events", version: 1 },
            durability: Durability.FLUSHED,
            rows: {
              case: "columns",
              value: {
                rowCount: ids.length,
                columns: [
                  { name: "id", data: i64(ids) },
                  { name: "value", data: i64(ids.map((i) => i * 2n)) },
                ],
              },
            },
          });
          acknowledged.push(...ids);
          arm();
        } catch {
          // the call the kill interrupted: not acknowledged, may or may not be there
          if (killer === undefined && Date.now() - roundStarted > 30_000)
            throw new Error(`no write of round ${round} was acknowledged in 30 s:\n${proc.output()}`);
        }
      }
      clearTimeout(killer);
      await proc.exited();
    }
    expect(acknowledged.length).toBeGreaterThan(0);

    const proc = await startOnline(port);
    try {
      const client = createServiceClient(OnlineService, `127.0.0.1:${port}`, { apiKey: keys.adminKey });
      for (let start = 0; start < acknowledged.length; start += 1000) {
        const ids = acknowledged.slice(start, start + 1000);
        const { vectors } = await client.getFeatureVectors({
          project: "crash",
          featureView: { name: "events", version: 1 },
          entities: { rowCount: ids.length, servingKeys: [{ name: "id", data: i64(ids) }] },
        });
        const value = vectors?.columns.find((c) => c.name === "value");
        const missing = ids.filter((_, i) => value?.statuses[i] !== ValueStatus.PRESENT);
        expect(missing).toEqual([]);
        expect((value?.values?.values.value as { values: bigint[] }).values).toEqual(ids.map((i) => i * 2n));
      }
    } finally {
      await proc.stop();
    }
  }, 240_000);
});
