import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { connect, type Granary, type Project } from "@granary/client";
import { startTestSuite } from "@granary/suite";
import { waitFor } from "@granary/testing";

// The `granary` command as users run it: a child process against the whole suite (four services,
// PostgreSQL, LMDB, Parquet) on free ports. The suite runs in this process, so the CLI is started
// asynchronously to keep it answering.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const EXAMPLE = join(ROOT, "apps/cli/examples/fraud.yaml");
const PROJECT = "cli";

let stopSuite: (() => Promise<void>) | undefined;
let granary: Granary;
let project: Project;
let flags: string[];
let addressFlags: string[];
let adminKey: string;
let dir: string;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function granaryCli(args: readonly string[], options: { flags?: readonly string[]; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    // The addresses and project come from flags; settings of the calling shell must not leak in.
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GRANARY_"))), ...options.env };
    execFile("node", ["apps/cli/bin/granary.mjs", ...(options.flags ?? flags), ...args], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const now = new Date();
const iso = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("cli");
  stopSuite = stop;
  const a = suite.addresses;
  adminKey = keys.adminKey;
  addressFlags = ["--metadata", a.metadata, "--online", a.online, "--offline", a.offline, "--registry", a.registry, "--project", PROJECT, "--timeout", "20000"];
  flags = [...addressFlags, "--api-key", adminKey];
  granary = connect({ addresses: a, timeoutMs: 20_000, apiKey: adminKey });
  await granary.waitUntilServing(30_000);
  dir = mkdtempSync(join(tmpdir(), "granary-cli-test-"));
}, 120_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await stopSuite?.();
}, 60_000);

describe("granary status", () => {
  it("exits 0 with every service up, 1 against ports nobody listens on", async () => {
    const nowhere = ["--metadata", "127.0.0.1:1", "--online", "127.0.0.1:2", "--offline", "127.0.0.1:3", "--registry", "127.0.0.1:4", "--timeout", "500"];
    const [up, down] = await Promise.all([granaryCli(["status"]), granaryCli(["status"], { flags: nowhere })]);
    expect(up).toMatchObject({ code: 0, stderr: "" });
    expect(up.stdout).toMatch(/metadata\s+127\.0\.0\.1:\d+\s+SERVING/);
    expect(up.stdout.match(/SERVING/g)).toHaveLength(4);
    // The suite runs without NATS: no write log behind the online store.
    expect(up.stdout).toMatch(/\n\nonline write log: none \(GRANARY_NATS_URL is not set on the online service: writes go to its store directly\)\n$/);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/metadata\s+127\.0\.0\.1:1\s+UNREACHABLE/);
    expect(down.stdout).not.toContain("write log");
    expect(down.stderr.trim().split("\n")).toEqual([
      "granary: 4 of 4 services are not serving: metadata, online, offline, registry (is the suite running? npm start)",
    ]);
  }, 60_000);

  it("gives --json the online replica's write log under online.write_log", async () => {
    const run = await granaryCli(["status", "--json"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const report = JSON.parse(run.stdout) as Record<string, { status: string; write_log?: unknown }>;
    expect(report["online"]).toMatchObject({ status: "SERVING", write_log: { log: "none" } });
    expect(report["metadata"]!.write_log).toBeUndefined();
  }, 60_000);
});

describe("granary dead-letters", () => {
  it("without NATS, says in one line that there is no write log and exits 1", async () => {
    const [table, json] = await Promise.all([granaryCli(["dead-letters", PROJECT]), granaryCli(["dead-letters", PROJECT, "--limit", "5", "--json"])]);
    for (const run of [table, json]) {
      expect(run).toMatchObject({
        code: 1,
        stdout: "",
        stderr: "granary: this online service runs without a write log (GRANARY_NATS_URL is not set), so it has no dead letters\n",
      });
    }
  }, 60_000);
});

describe("granary apply", () => {
  it("creates the groups and views of the example, in the project given on the command line", async () => {
    const run = await granaryCli(["apply", EXAMPLE]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.trim().split("\n")).toEqual([
      "feature group transactions v1: created",
      "feature group card_aggs v1: created",
      "feature group merchants v1: created",
      "feature group banks v1: created",
      "feature view fraud_detection v1: created",
    ]);
    project = await granary.project(PROJECT, { create: false });
    const view = await project.getFeatureView("fraud_detection", 1);
    expect(view.servingKeys.filter((k) => k.required).map((k) => k.name)).toEqual(["cc_num", "merchant_id"]);
  }, 60_000);

  it("changes nothing the second time", async () => {
    const before = [...(await project.listFeatureGroups()), ...(await project.listFeatureViews())].map((x) => [x.name, x.etag]);
    const run = await granaryCli(["apply", EXAMPLE]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.trim().split("\n")).toEqual([
      "feature group transactions v1: unchanged",
      "feature group card_aggs v1: unchanged",
      "feature group merchants v1: unchanged",
      "feature group banks v1: unchanged",
      "feature view fraud_detection v1: unchanged",
    ]);
    const after = [...(await project.listFeatureGroups()), ...(await project.listFeatureViews())].map((x) => [x.name, x.etag]);
    expect(after).toEqual(before);
  }, 60_000);

  it("appends new columns, and refuses a changed schema without applying anything", async () => {
    const yaml = readFileSync(EXAMPLE, "utf8");
    const merchantColumns = "      - { name: chargeback_rate, type: double }\n      - { name: ts, type: timestamp }\n";
    const appended = yaml.replace(merchantColumns, `${merchantColumns}      - { name: city, type: string }\n`);
    expect(appended).toContain("{ name: city, type: string }");
    const conflicting = appended.replace("{ name: credit_rating, type: int32 }", "{ name: credit_rating, type: int64 }");
    writeFileSync(join(dir, "appended.yaml"), appended);
    writeFileSync(join(dir, "conflicting.yaml"), conflicting);

    const refused = await granaryCli(["apply", join(dir, "conflicting.yaml")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n")).toEqual([
      "granary: feature group banks v1: differs from the server's definition in columns (type of credit_rating: int32 → int64); a version's definition cannot change: bump version to 2 in the file",
      "granary: nothing was applied",
    ]);
    expect((await project.getFeatureGroup("merchants", 1)).columns.map((c) => c.name)).not.toContain("city");

    const updated = await granaryCli(["apply", join(dir, "appended.yaml")]);
    expect(updated).toMatchObject({ code: 0, stderr: "" });
    expect(updated.stdout).toContain("feature group merchants v1: updated (appended columns city)");
    expect((await project.getFeatureGroup("merchants", 1)).columns.map((c) => c.name)).toContain("city");
  }, 60_000);

  it("names the bad path of an invalid file and exits 2", async () => {
    const bad = readFileSync(EXAMPLE, "utf8").replace("{ name: amount, type: double }", "{ name: amount, type: dobule }");
    writeFileSync(join(dir, "bad.yaml"), bad);
    const run = await granaryCli(["apply", join(dir, "bad.yaml")]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim()).toMatch(/^granary: bad\.yaml:\d+: feature_groups\[0\]\.columns\[3\]\.type: unknown type "dobule" \(did you mean "double"\?\)/);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  }, 60_000);
});

describe("granary ingest", () => {
  it("loads a CSV file, converting values to the column types", async () => {
    const csv = [
      "tid,cc_num,merchant_id,amount,category,latitude,longitude,datetime,is_fraud",
      `1,11,21,10.5,grocery,50.1,10.1,${iso(60)},false`,
      `2,11,22,999.99,travel,51.2,11.2,${iso(50)},true`,
      `3,12,21,,online,,,${iso(40)},false`,
    ].join("\n");
    writeFileSync(join(dir, "transactions.csv"), `${csv}\n`);
    const cards = [
      "cc_num,bank_id,count_7d,spend_7d,prev_latitude,prev_longitude,expiry_date,ts",
      `11,1,4,1010.49,50.0,10.0,2027-05-31,${iso(30)}`,
      `12,2,1,5,40.0,5.0,2026-01-31,${iso(30)}`,
    ].join("\n");
    writeFileSync(join(dir, "cards.csv"), `${cards}\n`);

    const [tx, cc] = await Promise.all([
      granaryCli(["ingest", "transactions", join(dir, "transactions.csv")]),
      granaryCli(["ingest", "card_aggs:1", join(dir, "cards.csv")]),
    ]);
    expect(tx).toMatchObject({ code: 0, stderr: "" });
    expect(tx.stdout.trim()).toMatch(/^3 rows in [\d.]+ s \([\d,]+ rows\/s\), commit \d+$/);
    expect(cc).toMatchObject({ code: 0, stderr: "" });

    const rows = (await (await project.getFeatureGroup("transactions")).read()).toArray().map((r) => r.toJSON());
    rows.sort((a, b) => Number(a["tid"]) - Number(b["tid"]));
    expect(rows.map((r) => Number(r["tid"]))).toEqual([1, 2, 3]);
    expect(rows[1]).toMatchObject({ amount: 999.99, category: "travel", is_fraud: true });
    expect(rows[2]!["amount"]).toBeNull();
  }, 60_000);

  it("loads a Parquet file written by DuckDB", async () => {
    const file = join(dir, "more.parquet");
    const duck = await DuckDBInstance.create(":memory:");
    const c = await duck.connect();
    await c.run(`COPY (SELECT * FROM (VALUES
        (100::BIGINT, 12::BIGINT, 21::BIGINT, 42.0::DOUBLE, 'fuel', TIMESTAMP '${iso(20).slice(0, 19).replace("T", " ")}', false),
        (101, 12, 22, 7.25, 'health', TIMESTAMP '${iso(10).slice(0, 19).replace("T", " ")}', false))
      AS t(tid, cc_num, merchant_id, amount, category, datetime, is_fraud)) TO '${file}' (FORMAT parquet)`);
    c.closeSync();
    duck.closeSync();
    const run = await granaryCli(["ingest", "transactions", file]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^2 rows in /);
    const table = await (await project.getFeatureGroup("transactions")).read();
    const byTid = new Map(table.toArray().map((r) => [Number(r.tid), r.toJSON()]));
    expect(byTid.size).toBe(5);
    expect(byTid.get(101)).toMatchObject({ amount: 7.25, category: "health" });
  }, 60_000);

  it("loads Parquet lists, and refuses a list holding a null item instead of inventing a value", async () => {
    await project.getOrCreateFeatureGroup({
      name: "embeddings",
      columns: [
        { name: "id", type: "int64" },
        { name: "vec", type: "list<double>" },
      ],
      primaryKey: ["id"],
    });
    const good = join(dir, "lists.parquet");
    const bad = join(dir, "null-item.parquet");
    const duck = await DuckDBInstance.create(":memory:");
    const c = await duck.connect();
    await c.run(`COPY (SELECT * FROM (VALUES (1::BIGINT, [0.5, 1.5]::DOUBLE[]), (2, NULL)) AS t(id, vec)) TO '${good}' (FORMAT parquet)`);
    await c.run(`COPY (SELECT * FROM (VALUES (3::BIGINT, [0.5, NULL]::DOUBLE[])) AS t(id, vec)) TO '${bad}' (FORMAT parquet)`);
    c.closeSync();
    duck.closeSync();
    expect(await granaryCli(["ingest", "embeddings", good])).toMatchObject({ code: 0, stderr: "" });
    const rows = new Map((await (await project.getFeatureGroup("embeddings")).read()).toArray().map((r) => [Number(r.id), r.vec?.toArray() ?? null]));
    expect(Array.from(rows.get(1) as Float64Array)).toEqual([0.5, 1.5]);
    expect(rows.get(2)).toBeNull();
    const refused = await granaryCli(["ingest", "embeddings", bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^granary: .*null item.*\n$/);
    expect((await (await project.getFeatureGroup("embeddings")).read()).numRows).toBe(2);
  }, 60_000);

  it("fails with one line and exit 1 for a group that does not exist or a bad value", async () => {
    writeFileSync(join(dir, "bad-value.csv"), "tid,cc_num,amount,datetime,is_fraud\n7,1,3.5,2025-01-01,false\n8,1,lots,2025-01-01,false\n");
    const [unknown, badValue] = await Promise.all([
      granaryCli(["ingest", "no_such_group", join(dir, "transactions.csv")]),
      granaryCli(["ingest", "transactions", join(dir, "bad-value.csv")]),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`granary: feature group "no_such_group" does not exist in project "${PROJECT}"\n`);
    expect(badValue.code).toBe(1);
    expect(badValue.stderr).toBe('granary: bad-value.csv:3: column "amount": "lots" is not a double\n');
  }, 60_000);
});

describe("granary compact", () => {
  it("merges the files of a group's commits into one compaction, and says when there is nothing to do", async () => {
    const before = (await (await project.getFeatureGroup("transactions")).read()).numRows;
    const run = await granaryCli(["compact", "transactions"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.trim()).toMatch(/^transactions v1: compaction commit \d+: [2-9]\d* → 1 files, \d+ → \d+ rows, .+ → .+, [\d.]+ s$/);
    expect((await (await project.getFeatureGroup("transactions")).read()).numRows).toBe(before);
    const again = await granaryCli(["compact", "transactions", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ commit_id: 0 });
  }, 60_000);
});

describe("granary training-data and get-vector", () => {
  it("writes training data to Parquet and prints a feature vector with each value's status", async () => {
    const out = join(dir, "training.parquet");
    const [training, vector] = await Promise.all([
      granaryCli(["training-data", "fraud_detection:1", "--out", out]),
      granaryCli([
        "--json",
        "get-vector",
        "fraud_detection",
        "cc_num=11",
        "merchant_id=21",
        "--untransformed",
        "--passed",
        "amount=10",
        "--passed",
        "latitude=50",
        "--passed",
        "longitude=10",
      ]),
    ]);

    // Five transactions, one without an amount: the view's filter (amount >= 0) leaves four.
    expect(training).toMatchObject({ code: 0, stderr: "" });
    expect(training.stdout).toMatch(/^4 rows in .* 20 columns written to /);
    const duck = await DuckDBInstance.create(":memory:");
    const c = await duck.connect();
    const res = await c.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, max(amount) AS top, count(bank_credit_rating)::INTEGER AS rated FROM read_parquet('${out}')`,
    );
    c.closeSync();
    duck.closeSync();
    // min_max_scaler: the largest amount scales to 1; no bank rows, so no ratings.
    expect(res.getRowObjects()[0]).toEqual({ n: 4, top: 1, rated: 0 });

    expect(vector).toMatchObject({ code: 0, stderr: "" });
    const got = JSON.parse(vector.stdout) as { vector: Record<string, unknown>; statuses: Record<string, string> };
    expect(got.vector).toMatchObject({ amount: 10, count_7d: 4, spend_7d: 1010.49, bank_id: 1, distance_km: 0 });
    expect(got.statuses).toMatchObject({ count_7d: "PRESENT", merchant_chargeback_rate: "NOT_FOUND" });
    expect(Object.keys(got.vector).at(-1)).toBe("distance_km");
  }, 60_000);
});

describe("granary check-skew", () => {
  it("prints a table per feature and exits 0 when online and offline agree, 1 with examples once a row is written online only", async () => {
    const cards = await project.getFeatureGroup("card_aggs");
    await project.getOrCreateFeatureView({ name: "card_skew", query: cards.select(["count_7d", "spend_7d", "prev_latitude"]) });
    const view = await project.getFeatureView("card_skew");
    await waitFor(async () => ((await view.getFeatureVector({ cc_num: 12 }))["count_7d"] === 1 ? true : undefined), {
      timeoutMs: 20_000,
      what: "card 12 online",
    });

    const clean = await granaryCli(["check-skew", "card_skew", "--sample", "10", "--seed", "3"]);
    expect(clean).toMatchObject({ code: 0, stderr: "" });
    expect(clean.stdout).toMatch(/^card_skew v1 as of .*: consistent\n/);
    expect(clean.stdout).toMatch(/feature\s+type\s+compared\s+mismatches/);
    expect(clean.stdout).toMatch(/\nspend_7d\s+double\s+2\s+0/);

    // WriteRows reaches the online store only: the skew the check exists to catch.
    await granary.services.online.writeRows({
      project: PROJECT,
      featureGroup: { name: "card_aggs", version: 1 },
      rows: {
        case: "columns",
        value: {
          rowCount: 1,
          columns: [
            { name: "cc_num", data: { values: { case: "int64s", value: { values: [12n] } }, nullIndexes: [] } },
            { name: "count_7d", data: { values: { case: "int32s", value: { values: [2] } }, nullIndexes: [] } },
            { name: "spend_7d", data: { values: { case: "doubles", value: { values: [25] } }, nullIndexes: [] } },
            { name: "ts", data: { values: { case: "timestamps", value: { values: [BigInt(Date.now() - 60_000) * 1000n] } }, nullIndexes: [] } },
          ],
        },
      },
    });
    const [skewed, json] = await Promise.all([
      granaryCli(["check-skew", "card_skew:1", "--sample", "10"]),
      granaryCli(["--json", "check-skew", "card_skew", "--entity", "cc_num=12", "--entity", "cc_num=999"]),
    ]);
    expect(skewed.code).toBe(1);
    expect(skewed.stdout).toMatch(/\nspend_7d\s+double\s+2\s+1/);
    expect(skewed.stdout).toMatch(/\ncount_7d: 1 of 2 differ\n.*\ncc_num=12\s+2\s+1\s+PRESENT\s+PRESENT/);
    expect(skewed.stderr).toMatch(/^granary: 3 values differ online and offline in 1 of 2 entities of card_skew v1\n$/);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { consistent: boolean; entitiesChecked: number; missingOnline: { count: number }; missingBoth: number };
    expect(report).toMatchObject({ consistent: false, entitiesChecked: 2, missingBoth: 1 });
  }, 90_000);
});

describe("granary models", () => {
  it("registers a version, moves an alias to it and downloads it back", async () => {
    const model = join(dir, "model");
    mkdirSync(join(model, "eval"), { recursive: true });
    writeFileSync(join(model, "model.json"), JSON.stringify({ w: [0.5, -1] }));
    writeFileSync(join(model, "eval", "report.txt"), "auc 0.91\n");
    const registered = await granaryCli([
      "models",
      "register",
      "fraud_model",
      model,
      "--feature-view",
      "fraud_detection:1",
      "--metric",
      "auc=0.91",
      "--framework",
      "logreg",
    ]);
    expect(registered).toMatchObject({ code: 0, stderr: "" });
    expect(registered.stdout.trim()).toBe("registered fraud_model version 1 (2 files, 23 B)");

    const aliased = await granaryCli(["models", "alias", "fraud_model", "production", "1"]);
    expect(aliased).toMatchObject({ code: 0, stdout: "fraud_model: production → version 1\n" });

    const out = join(dir, "downloaded");
    const [downloaded, listed] = await Promise.all([
      granaryCli(["models", "download", "fraud_model", "--alias", "production", "--out", out]),
      granaryCli(["--json", "models", "list", "fraud_model"]),
    ]);
    expect(downloaded).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(readFileSync(join(out, "model.json"), "utf8"))).toEqual({ w: [0.5, -1] });
    expect(readFileSync(join(out, "eval", "report.txt"), "utf8")).toBe("auc 0.91\n");
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        version: 1,
        aliases: ["production"],
        metrics: { auc: 0.91 },
        feature_view: { name: "fraud_detection", version: 1 },
        framework: "logreg",
      }),
    ]);
  }, 60_000);
});

describe("granary keys and share", () => {
  it("creates a scoped key (its secret printed once), lists it, and revokes it; the revoked key is refused in one line", async () => {
    const created = await granaryCli(["keys", "create", "--user", "ana", "--scope", `${PROJECT}:viewer`]);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^grn_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/^API key [0-9a-f]{16} for ana \(cli:viewer\): the secret above is shown this once/);
    const id = secret.split("_")[1]!;

    const asAna = await granaryCli(["models", "list"], { flags: [...addressFlags, "--api-key", secret] });
    expect(asAna).toMatchObject({ code: 0, stderr: "" });
    const listed = await granaryCli(["--json", "keys", "list", "--user", "ana"]);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id, user: "ana", admin: false, scopes: [{ project: PROJECT, role: "viewer" }], revoked: null }),
    ]);

    expect(await granaryCli(["keys", "revoke", id])).toMatchObject({ code: 0, stdout: `API key ${id} of ana revoked\n` });
    let refused: Run | undefined;
    await waitFor(
      async () => {
        refused = await granaryCli(["models", "list"], { flags: [...addressFlags, "--api-key", secret] });
        return refused.code === 1;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: "the revoked key to be refused" },
    );
    const lines = refused!.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^granary: not authenticated: .*revoked.*; the API key came from --api-key; keys are read from --api-key, GRANARY_API_KEY/);
  }, 90_000);

  it("without any key, says in one line where keys are looked for", async () => {
    const empty = join(dir, "no-keys-here");
    const run = await granaryCli(["models", "list"], { flags: addressFlags, env: { GRANARY_DATA_DIR: empty } });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^granary: not authenticated: .*; no API key was found: it is read from --api-key, GRANARY_API_KEY, the file GRANARY_API_KEY_FILE names, or ${join(empty, "admin.key")}`,
        ),
      ),
    ]);
  }, 60_000);

  it("shares a feature group with another project, and takes it back", async () => {
    await granary.project("cli_partner");
    expect(await granaryCli(["share", PROJECT, "transactions", "--with", "cli_partner"])).toMatchObject({
      code: 0,
      stdout: `feature group ${PROJECT}/transactions shared read-only with project cli_partner\n`,
    });
    expect(await granaryCli(["unshare", PROJECT, "transactions", "--with", "cli_partner"])).toMatchObject({ code: 0, stderr: "" });
  }, 60_000);
});
