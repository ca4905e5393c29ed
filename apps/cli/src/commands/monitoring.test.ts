import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type FeatureView, type Granary } from "@granary/client";
import { DistanceMetric } from "@granary/proto/metadata";
import { startTestSuite } from "@granary/suite";
import { waitFor } from "@granary/testing";
import { createItemCatalogue, embedding, itemDay, ITEMS as N } from "../../../../test/fixtures/embedding-items.js";

// `granary drift` and `granary neighbors` as users run them: the bin against the whole suite, on a
// group with an embedding index and a view whose served vectors were logged on two days, the
// second one shifted (prices up, one category only).
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const PROJECT = "climon";

let stopSuite: (() => Promise<void>) | undefined;
let granary: Granary;
let view: FeatureView;
let flags: string[];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function granaryCli(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GRANARY_")));
    execFile("node", [join(ROOT, "apps/cli/bin/granary.mjs"), ...flags, ...args], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const day = 86_400_000;
const now = Date.now();
const normalDay = { start: new Date(now - 3 * day), end: new Date(now - 2 * day) };
const shiftedDay = { start: new Date(now - 2 * day), end: new Date(now - day) };

async function logDay(rows: ReturnType<typeof itemDay>, at: Date): Promise<void> {
  const { offline, unary } = granary.services;
  await offline.logFeatures(
    {
      project: PROJECT,
      featureView: { name: view.name, version: view.version },
      rowCount: rows.length,
      servingKeys: [{ name: "item_id", data: { values: { case: "int64s", value: { values: rows.map((x) => BigInt(x.item_id)) } } } }],
      untransformed: [
        { name: "price", data: { values: { case: "doubles", value: { values: rows.map((x) => x.price) } } } },
        { name: "category", data: { values: { case: "strings", value: { values: rows.map((x) => x.category) } } } },
      ],
      predictions: [{ name: "prediction", data: { values: { case: "doubles", value: { values: rows.map((x) => x.price / 200) } } } }],
      model: "price_model",
      modelVersion: 1,
      logTime: { seconds: BigInt(Math.floor(at.getTime() / 1000)), nanos: 0 },
    },
    unary(),
  );
}

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("climonitoring");
  stopSuite = stop;
  const a = suite.addresses;
  flags = ["--metadata", a.metadata, "--online", a.online, "--offline", a.offline, "--registry", a.registry, "--project", PROJECT, "--api-key", keys.adminKey];
  granary = connect({ addresses: a, timeoutMs: 20_000, apiKey: keys.adminKey });
  await granary.waitUntilServing(30_000);
  view = await createItemCatalogue(granary, PROJECT);
  await logDay(itemDay(2), new Date(normalDay.start.getTime() + 3_600_000));
  await logDay(itemDay(3, true), new Date(shiftedDay.start.getTime() + 3_600_000));
}, 120_000);

afterAll(async () => {
  granary?.close();
  await stopSuite?.();
}, 60_000);

const window = (w: { start: Date; end: Date }) => ["--start", w.start.toISOString(), "--end", w.end.toISOString()];

describe("granary drift", () => {
  it("prints OK for a day like the training data and exits 0", async () => {
    const run = await granaryCli(["drift", "item_view:1", ...window(normalDay), "--reference", "td:1", "--column", "price", "--column", "category"]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe("drift of item_view v1: OK");
    expect(lines[1]).toMatch(new RegExp(`\\(${N} rows\\) against training dataset v1 \\(${N} rows\\)$`));
    expect(lines.find((l) => l.startsWith("price "))).toMatch(/^price\s+\d\.\d{4}\s+\d\.\d{4}\s+0\.000 \(ref 0\.000\)\s+OK$/);
    expect(lines.find((l) => l.startsWith("category "))).toMatch(/^category\s+\d\.\d{4}\s+0\.000 \(ref 0\.000\)\s+OK$/);
  }, 60_000);

  it("prints DRIFT for the shifted day, names the drifted features on stderr and exits 3", async () => {
    const run = await granaryCli(["drift", "item_view", "--version", "1", ...window(shiftedDay), "--column", "price", "--column", "category"]);
    expect(run.code).toBe(3);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe("drift of item_view v1: DRIFT");
    expect(lines.find((l) => l.startsWith("price "))).toMatch(/\sDRIFT\s+(psi,ks|ks,psi|psi|ks)$/);
    expect(lines.find((l) => l.startsWith("category "))).toMatch(/\sDRIFT\s+psi$/);
    expect(run.stderr).toMatch(/^granary: item_view v1 drifted: price, category over their thresholds \(report \d+\)\n$/);
  }, 60_000);

  it("compares with an earlier window of the logs, as JSON", async () => {
    const ref = `${normalDay.start.toISOString()}..${normalDay.end.toISOString()}`;
    const run = await granaryCli(["drift", "item_view", ...window(shiftedDay), "--reference-window", ref, "--column", "price", "--json"]);
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout) as {
      status: string;
      reference: { window: { start: string } };
      row_count: number;
      features: { column: string; status: string }[];
    };
    expect(report).toMatchObject({ status: "DRIFT", row_count: N, reference: { window: { start: normalDay.start.toISOString() } } });
    expect(report.features.map((f) => [f.column, f.status])).toEqual([["price", "DRIFT"]]);
  }, 60_000);

  it("lists the stored reports newest first; an unknown view is one line and exit 1", async () => {
    const run = await granaryCli(["drift", "item_view", "--list"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe("drift reports of item_view v1, newest first:");
    // id, created, window, reference, rows, status, drifted features.
    const cells = lines.slice(2).map((l) => l.split(/\s{2,}/));
    expect(cells.map((c) => [c[3]!.replace(/ .*/, ""), c[4], c[5], c[6] ?? ""])).toEqual([
      ["logs", String(N), "DRIFT", "price"],
      ["training", String(N), "DRIFT", "price,category"],
      ["training", String(N), "OK", ""],
    ]);
    const unknown = await granaryCli(["drift", "no_such_view"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^granary: .*no_such_view/);
  }, 60_000);
});

describe("granary neighbors", () => {
  it("finds an item's neighbours on the circle by vector, nearest first, and through the view by --like", async () => {
    const byVector = await waitFor(
      async () => {
        const run = await granaryCli(["neighbors", "items", "--column", "emb", "--vector", JSON.stringify(embedding(50)), "-k", "3", "--json"]);
        if (run.code !== 0) throw new Error(run.stderr);
        return run;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: "neighbours of item 50" },
    );
    const found = JSON.parse(byVector.stdout) as { feature_group: unknown; neighbors: { key: { item_id: number }; distance: number }[] };
    expect(found.feature_group).toEqual({ name: "items", version: 1 });
    expect(found.neighbors.map((n) => n.key.item_id)).toEqual([50, expect.any(Number), expect.any(Number)]);
    expect(
      found.neighbors
        .slice(1)
        .map((n) => n.key.item_id)
        .sort(),
    ).toEqual([49, 51]);
    expect(found.neighbors[0]!.distance).toBeCloseTo(0, 5);

    const like = await granaryCli(["neighbors", "item_view", "--column", "emb", "--like", "item_id=120", "-k", "2", "--vectors"]);
    expect({ code: like.code, stderr: like.stderr }).toEqual({ code: 0, stderr: "" });
    const lines = like.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^#\s+item_id\s+distance\s+price\s+category\s+emb$/);
    expect(lines[1]).toMatch(/^1\s+120\s+0\.0000\d\d\s+\d+(\.\d+)?\s+(books|games|tools)\s+\[/);
    expect(lines).toHaveLength(3);
  }, 60_000);

  it("keeps only rows matching --where, and explains an unknown column in one line", async () => {
    const run = await granaryCli([
      "neighbors",
      "items",
      "--column",
      "emb",
      "--vector",
      JSON.stringify(embedding(10)),
      "-k",
      "5",
      "--where",
      "category=games",
      "--vectors",
      "--json",
    ]);
    expect(run.code).toBe(0);
    const found = JSON.parse(run.stdout) as { neighbors: { vector: { category: string } }[] };
    expect(found.neighbors).toHaveLength(5);
    expect(new Set(found.neighbors.map((n) => n.vector.category))).toEqual(new Set(["games"]));
    const bad = await granaryCli(["neighbors", "items", "--column", "emb", "--vector", "[1,0,0,0]", "--where", "colour=red"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^granary: "colour" is not a column of items; /);
  }, 60_000);
});

describe("granary apply: embedding indexes and drift thresholds", () => {
  it("creates an indexed group and a view with thresholds, changes nothing the second time, and updates the thresholds in place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "granary-apply-monitoring-"));
    try {
      const yaml = (psi: number) => `feature_groups:
  - name: docs
    columns:
      - { name: doc_id, type: int64 }
      - { name: topic, type: string }
      - { name: emb, type: embedding<3> }
      - { name: ts, type: timestamp }
    primary_key: [doc_id]
    event_time: ts
    online_enabled: true
    embedding_indexes:
      - { column: emb, metric: l2 }
feature_views:
  - name: doc_view
    query: { group: docs, select: [topic, emb] }
    monitoring:
      default: { psi: ${psi} }
      features:
        topic: { psi: 0.5, null_share_increase: 0.2 }
`;
      const file = join(dir, "docs.yaml");
      writeFileSync(file, yaml(0.3));
      const created = await granaryCli(["apply", file]);
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: "" });
      expect(created.stdout.trim().split("\n")).toEqual(["feature group docs v1: created", "feature view doc_view v1: created"]);
      const { metadata, unary } = granary.services;
      const group = (await metadata.getFeatureGroup({ project: PROJECT, name: "docs", version: 1 }, unary())).featureGroup!;
      expect(group.embeddingIndexes.map((i) => [i.column, i.metric])).toEqual([["emb", DistanceMetric.L2]]);
      const again = await granaryCli(["apply", file]);
      expect(again.stdout.trim().split("\n")).toEqual(["feature group docs v1: unchanged", "feature view doc_view v1: unchanged"]);
      writeFileSync(file, yaml(0.15));
      const updated = await granaryCli(["apply", file]);
      expect({ code: updated.code, stderr: updated.stderr }).toEqual({ code: 0, stderr: "" });
      expect(updated.stdout).toContain("feature view doc_view v1: updated (monitoring");
      const stored = (await metadata.getFeatureView({ project: PROJECT, name: "doc_view", version: 1 }, unary())).featureView!;
      expect(stored.monitoring?.defaultThresholds?.psi).toBe(0.15);
      expect(stored.monitoring?.features.map((f) => [f.column, f.thresholds?.psi, f.thresholds?.nullShareIncrease])).toEqual([["topic", 0.5, 0.2]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
