// Metadata service latencies over gRPC on loopback (context, no goal): GetFeatureView, and
// ListFeatureGroups over a project of 1,000 groups (one page of 100, and all 1,000 in one page).
// Uses DATABASE_URL when set, else an embedded PostgreSQL in a temporary directory.
//
//   npm run bench:metadata [-- --groups 1000 --calls 2000]
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServiceClient } from "@granary/service-clients";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { startEmbeddedPostgres } from "@granary/postgres";
import { MetadataService, SelectionMode } from "@granary/proto/metadata";
import { ScalarType } from "@granary/proto/types";
import { createLogger } from "@granary/telemetry";
import { testKeys } from "@granary/testing";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const GROUPS = arg("groups", 1000);
const CALLS = arg("calls", 2000);

async function timeCalls(n: number, call: () => Promise<unknown>) {
  for (let i = 0; i < Math.min(200, n); i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) => Math.round((samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? NaN) * 1000) / 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

const keys = testKeys();
const dir = mkdtempSync(join(tmpdir(), "granary-bench-md-"));
chmodSync(dir, 0o755);
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: join(dir, "pg") });
const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
const schemaReset = await import("pg").then(async ({ default: pg }) => {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  await c.query("DROP SCHEMA IF EXISTS granary_metadata CASCADE");
  await c.end();
});
void schemaReset;
const service = await startMetadataService(
  loadMetadataConfig({ ...keys.env, GRANARY_METADATA_PORT: "0", GRANARY_DATA_DIR: dir, DATABASE_URL: databaseUrl }),
  createLogger({ level: "warn", service: "bench" }),
);
const client = createServiceClient(MetadataService, service.address, { apiKey: keys.adminKey });
try {
  await client.createProject({ name: "bench" });
  const columns = Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, type: { scalar: ScalarType.DOUBLE } }));
  const started = performance.now();
  for (let g = 0; g < GROUPS; g++) {
    await client.createFeatureGroup({
      featureGroup: {
        project: "bench",
        name: `group_${String(g).padStart(4, "0")}`,
        version: 1,
        columns: [{ name: "id", type: { scalar: ScalarType.INT64 } }, { name: "ts", type: { scalar: ScalarType.TIMESTAMP } }, ...columns],
        primaryKey: ["id"],
        eventTime: "ts",
        onlineEnabled: true,
      },
    });
  }
  const createMs = performance.now() - started;
  const select = (name: string, prefix = "") => ({
    featureGroup: { name, version: 1 },
    selection: { mode: SelectionMode.EXCEPT, columns: ["ts"] },
    ...(prefix ? {} : {}),
  });
  await client.createFeatureView({
    featureView: {
      project: "bench",
      name: "view",
      version: 1,
      query: {
        ...select("group_0000"),
        joins: [1, 2].map((g) => ({ query: select(`group_000${g}`), prefix: `g${g}_` })),
      },
    },
  });
  const getView = await timeCalls(CALLS, () => client.getFeatureView({ project: "bench", name: "view", version: 1 }));
  const list100 = await timeCalls(CALLS, () => client.listFeatureGroups({ project: "bench", pageSize: 100 }));
  const listAll = await timeCalls(Math.max(50, CALLS / 20), () => client.listFeatureGroups({ project: "bench", pageSize: 1000 }));
  console.log(
    JSON.stringify({
      bench: "metadata",
      groups: GROUPS,
      postgres: embedded ? "embedded" : "DATABASE_URL",
      create_group_mean_ms: Math.round((createMs / GROUPS) * 1000) / 1000,
      get_feature_view_p50_ms: getView.p50,
      get_feature_view_p99_ms: getView.p99,
      list_groups_page100_p50_ms: list100.p50,
      list_groups_page100_p99_ms: list100.p99,
      list_groups_all1000_p50_ms: listAll.p50,
      list_groups_all1000_p99_ms: listAll.p99,
    }),
  );
} finally {
  await service.stop();
  await embedded?.stop();
  rmSync(dir, { recursive: true, force: true });
}
