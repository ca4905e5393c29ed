import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { connect, type Granary, type Project } from "@granary/client";
import { startTestSuite } from "@granary/suite";

// The commands that read the catalogue (list, describe, lineage, validation), change it (delete,
// training-data --save) or help start (init, the config file), run as users run them: a child
// process against the whole suite, on the quickstart's manifest and data.
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
// The CLI as `npx granary` runs it: its bin, on the compiled bundle (jest's global setup builds it),
// by absolute path, so the config-file test can run it from a directory outside the repository.
const BIN = join(ROOT, "apps/cli/bin/granary.mjs");
const QUICKSTART = join(ROOT, "examples/quickstart");

let stopSuite: (() => Promise<void>) | undefined;
let granary: Granary;
let project: Project;
let addresses: Record<string, string>;
let adminKey: string;
let flags: string[];
let dir: string;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function granaryCli(args: readonly string[], options: { flags?: readonly string[]; env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    // Settings of the calling shell, and any config file of the machine, must not leak in.
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GRANARY_"))),
      XDG_CONFIG_HOME: join(dir, "no-config"),
      ...options.env,
    };
    // stdin is a pipe, never a terminal: delete must refuse to ask.
    execFile("node", [BIN, ...(options.flags ?? flags), ...args], { cwd: options.cwd ?? ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  const started = await startTestSuite("cli_catalogue");
  stopSuite = started.stop;
  addresses = { ...started.suite.addresses };
  adminKey = started.keys.adminKey;
  const a = started.suite.addresses;
  flags = ["--metadata", a.metadata, "--online", a.online, "--offline", a.offline, "--registry", a.registry, "--api-key", adminKey, "--project", "quickstart"];
  granary = connect({ addresses: a, timeoutMs: 20_000, apiKey: adminKey });
  await granary.waitUntilServing(30_000);
  dir = mkdtempSync(join(tmpdir(), "granary-cli-catalogue-"));

  const applied = await granaryCli(["apply", join(QUICKSTART, "features.yaml")]);
  expect(applied).toMatchObject({ code: 0, stderr: "" });
  const ingested = await Promise.all([
    granaryCli(["ingest", "customers", join(QUICKSTART, "customers.csv")]),
    granaryCli(["ingest", "transactions", join(QUICKSTART, "transactions.csv")]),
  ]);
  for (const run of ingested) expect(run).toMatchObject({ code: 0, stderr: "" });
  project = await granary.project("quickstart", { create: false });
}, 180_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  granary?.close();
  await stopSuite?.();
}, 60_000);

describe("granary training-data --save and --spine, then get-vector", () => {
  it("saves training datasets (from the view, and from a spine file), writes a spine's rows, and serves vectors with the keys as given", async () => {
    const before = await granaryCli(["get-vector", "fraud_features", "customer_id=102", "--passed", "amount=480"]);
    // The path a new user hit: no training dataset, no vector; the message says to create one.
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/^granary: .*no training dataset.*\n$/);

    const saved = await granaryCli(["training-data", "fraud_features", "--save"]);
    expect(saved).toMatchObject({ code: 0, stderr: "" });
    expect(saved.stdout).toMatch(/^training dataset 1 of fraud_features v1: 400 rows in /);

    writeFileSync(join(dir, "spine.csv"), "customer_id,ts,amount,is_fraud\n102,2025-02-01T00:00:00Z,50,false\n999,2025-02-01T00:00:00Z,10,true\n");
    writeFileSync(join(dir, "bad-spine.csv"), "customer,ts\n102,2025-02-01\n");
    const [spineOut, spineSaved, vector, neither, badSpine] = await Promise.all([
      granaryCli(["training-data", "fraud_features", "--spine", join(dir, "spine.csv"), "--untransformed", "--out", join(dir, "spine-rows.csv")]),
      granaryCli(["--json", "training-data", "fraud_features", "--spine", join(dir, "spine.csv"), "--save"]),
      // Dataset 1's statistics (dataset 2, of two spine rows, is being saved meanwhile).
      granaryCli([
        "--json",
        "get-vector",
        "fraud_features",
        "customer_id=102",
        "--passed",
        "amount=480",
        "--passed",
        "category=online",
        "--training-dataset",
        "1",
      ]),
      granaryCli(["training-data", "fraud_features"]),
      granaryCli(["training-data", "fraud_features", "--spine", join(dir, "bad-spine.csv"), "--save"]),
    ]);
    expect(spineOut).toMatchObject({ code: 0, stderr: "" });
    const lines = readFileSync(join(dir, "spine-rows.csv"), "utf8").trim().split("\n");
    expect(lines[0]).toBe("amount,category,customer_id,is_fraud,age,plan,tenure_months,avg_amount_30d,tx_count_30d");
    // Customer 102 as of 2025-02-01 (customers.csv); 999 has no profile.
    expect(lines.slice(1).sort()).toEqual(["10.0,,999,true,,,,,", "50.0,,102,false,30,premium,6,99.36,27"]);

    expect(spineSaved).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(spineSaved.stdout)).toMatchObject({ feature_view: { name: "fraud_features", version: 1 }, training_dataset: 2, rows: 2 });

    expect(vector).toMatchObject({ code: 0, stderr: "" });
    const got = JSON.parse(vector.stdout) as { vector: Record<string, unknown>; statuses: Record<string, string> };
    expect(got.vector).toMatchObject({ customer_id: 102, category: "online", age: 30, plan: "premium" });
    expect(got.statuses).toMatchObject({ customer_id: "PRESENT", age: "PRESENT" });
    expect(got.vector["amount"]).toBeGreaterThan(3);

    expect(neither).toMatchObject({
      code: 2,
      stdout: "",
      stderr: "granary: give --out <file> to write the rows, or --save to store them as a training dataset\n",
    });
    expect(badSpine.code).toBe(1);
    expect(badSpine.stderr).toBe(
      'granary: bad-spine.csv: column "customer" is not in the spine of feature view fraud_features v1; its columns are customer_id, tx_id, ts, amount, category, is_fraud\n',
    );
    expect((await (await project.getFeatureView("fraud_features")).trainingDatasets()).map((d) => d.version)).toEqual([1, 2]);
  }, 120_000);
});

describe("granary list, describe, lineage", () => {
  beforeAll(async () => {
    const draft = await project.modelRegistry.createModel({
      name: "fraud_model",
      framework: "rule",
      metrics: { auc: 0.9 },
      featureView: { name: "fraud_features", version: 1 },
      trainingDatasetVersion: 1,
    });
    await draft.save({ "model.json": "{}" });
  }, 60_000);

  it("lists every kind as tables, one kind as JSON, and refuses an unknown kind", async () => {
    const [all, json, unknown] = await Promise.all([granaryCli(["list"]), granaryCli(["--json", "list", "datasets"]), granaryCli(["list", "grups"])]);
    expect(all).toMatchObject({ code: 0, stderr: "" });
    expect(all.stdout).toMatch(
      /^FEATURE GROUPS\ngroup\s+version\s+columns\s+primary key\s+event time\s+online\s+description\ncustomers\s+1\s+7\s+customer_id\s+updated_at\s+yes\s/,
    );
    expect(all.stdout).toMatch(/\n\nTRAINING DATASETS\nview\s+dataset\s+rows\s+status\s+created\nfraud_features v1\s+1\s+400\s+ready\s+\d{4}-/);
    expect(all.stdout).toMatch(/\n\nMODELS\nmodel\s+latest\s+aliases\s+description\nfraud_model\s+1\n?$/);
    expect(JSON.parse(json.stdout)).toEqual({
      datasets: [
        expect.objectContaining({ feature_view: { name: "fraud_features", version: 1 }, version: 1, rows: 400, status: "ready" }),
        expect.objectContaining({ version: 2, rows: 2 }),
      ],
    });
    expect(unknown).toMatchObject({
      code: 2,
      stderr: 'granary: "grups" is not something to list: use groups, views, datasets or models (did you mean "groups"?)\n',
    });
  }, 60_000);

  it("describes a group (found by name) with statistics as histograms, a view as JSON, a model; one line for an unknown name", async () => {
    const [group, view, model, nothing] = await Promise.all([
      granaryCli(["describe", "transactions"]),
      granaryCli(["--json", "describe", "view", "fraud_features"]),
      granaryCli(["describe", "model", "fraud_model"]),
      granaryCli(["describe", "no_such_thing"]),
    ]);
    expect(group).toMatchObject({ code: 0, stderr: "" });
    expect(group.stdout).toMatch(/^feature group transactions v1: Card transactions/);
    expect(group.stdout).toMatch(/\nprimary key:\s+tx_id\nevent time:\s+ts\nonline:\s+no\noffline:\s+yes\n/);
    expect(group.stdout).toMatch(/\namount\s+double\s*\n/);
    expect(group.stdout).toMatch(/\nstatistics of 400 rows/);
    // min 5.44, max 962.15 (transactions.csv): most amounts in the first bins, a thin tail of frauds.
    const amount = /\namount\s+0\.0%\s+\d+\s+5\.44\s+\S+\s+\S+\s+\S+\s+962\.1\s+\S+\s+(.+)\n/.exec(group.stdout);
    expect(amount?.[1]).toMatch(/^[▇█][▁▂▃▄▅▆▇█ ]{5,}[▁▂]$/);
    expect(group.stdout).toMatch(/\nts\s+0\.0%\s+\d+\s+2025-01-02T00:43:20Z\s/);
    expect(group.stdout).toMatch(/\nis_fraud\s+0\.0%\s+2\s+false 94%, true 6%\n/);

    expect(view).toMatchObject({ code: 0, stderr: "" });
    const v = JSON.parse(view.stdout) as Record<string, unknown>;
    expect(v).toMatchObject({
      kind: "feature_view",
      name: "fraud_features",
      versions: [1],
      serving_keys: [{ name: "customer_id", type: "int64", required: true }],
      labels: ["is_fraud"],
      statistics: { training_dataset: 2 },
    });
    expect(v["columns"]).toContainEqual({
      name: "amount",
      type: "double",
      role: "feature",
      from: { group: "transactions", version: 1, column: "amount" },
      transformation: "standard_scaler",
    });

    expect(model).toMatchObject({ code: 0, stderr: "" });
    expect(model.stdout).toMatch(
      /^model fraud_model\naliases:  none\n\nversion\s+aliases\s+feature view\s+training dataset\s+framework\s+metrics\s+created\n1\s+fraud_features v1\s+1\s+rule\s+auc=0\.9\s/,
    );
    expect(nothing).toMatchObject({
      code: 1,
      stderr: 'granary: no feature group, feature view or model is named "no_such_thing" in project "quickstart" (see granary list)\n',
    });
  }, 60_000);

  it("draws lineage from groups to the model, as text and as a Mermaid flowchart", async () => {
    const [text, mermaid] = await Promise.all([granaryCli(["lineage", "fraud_model"]), granaryCli(["lineage", "group", "customers", "--format", "mermaid"])]);
    expect(text).toMatchObject({ code: 0, stderr: "" });
    expect(text.stdout.trim().split("\n")).toEqual([
      "lineage of model fraud_model v1:",
      "  feature group customers v1 → feature view fraud_features v1",
      "  feature group transactions v1 → feature view fraud_features v1",
      "  feature view fraud_features v1 → training dataset 1 of fraud_features v1",
      "  training dataset 1 of fraud_features v1 → model fraud_model v1",
    ]);
    expect(mermaid).toMatchObject({ code: 0, stderr: "" });
    const lines = mermaid.stdout.trim().split("\n");
    expect(lines[0]).toBe("flowchart LR");
    expect(lines).toContain('  n0["feature group customers v1"]');
    expect(lines).toContain('  n4["model fraud_model v1"]');
    expect(lines).toContain("  n0 --> n1");
    expect(lines).toContain("  n2 --> n4");
    expect(lines.at(-1)).toBe("  style n0 stroke-width:3px");
  }, 60_000);
});

describe("granary validation", () => {
  it("shows the latest reports, newest first, with the refused insert's failing rule and examples", async () => {
    const transactions = await project.getFeatureGroup("transactions");
    await expect(
      transactions.insert([{ tx_id: 5000, customer_id: 101, amount: -5, category: "fuel", ts: new Date("2025-03-01T00:00:00Z"), is_fraud: false }]),
    ).rejects.toThrow();
    const [text, json] = await Promise.all([
      granaryCli(["validation", "transactions", "--limit", "2"]),
      granaryCli(["--json", "validation", "transactions:1", "--limit", "1"]),
    ]);
    expect(text).toMatchObject({ code: 0, stderr: "" });
    const blocks = text.stdout.trim().split("\n\n");
    expect(blocks[0]).toBe("validation reports of transactions v1, newest first:");
    expect(blocks[1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:]+Z {2}commit none {2}1 of 2 rules failed {2}\(rows refused, nothing written\)\n/);
    expect(blocks[1]).toMatch(/\n {2}amount_not_negative\s+amount\s+fail\s+FAILED\s+1 of 1\s+-5(\.0)?\n/);
    expect(blocks[2]).toMatch(/^\d{4}-.*commit \d+ {2}passed\n/);
    expect(blocks[2]).toMatch(/label_present\s+is_fraud\s+fail\s+ok\s+0 of 400/);
    expect(JSON.parse(json.stdout)).toMatchObject({
      feature_group: { name: "transactions", version: 1 },
      reports: [
        {
          success: false,
          ingested: false,
          commit: null,
          results: expect.arrayContaining([expect.objectContaining({ rule: "amount_not_negative", success: false, unexpected: 1 })]),
        },
      ],
    });
  }, 60_000);
});

describe("granary delete", () => {
  it("refuses without a terminal or --yes and deletes nothing; deletes with --yes", async () => {
    const customers = await project.getFeatureGroup("customers");
    await project.getOrCreateFeatureView({ name: "to_delete", query: customers.select(["age"]) });
    const refused = await granaryCli(["delete", "to_delete"]);
    expect(refused).toMatchObject({
      code: 2,
      stdout: "",
      stderr:
        "granary: refusing to delete feature view to_delete v1 from project quickstart without confirmation: stdin is not a terminal; add --yes to confirm\n",
    });
    expect((await project.getFeatureView("to_delete")).version).toBe(1);

    const [deleted, inUse] = await Promise.all([granaryCli(["delete", "view", "to_delete", "--yes"]), granaryCli(["delete", "group", "customers:1", "--yes"])]);
    expect(deleted).toMatchObject({ code: 0, stdout: "deleted feature view to_delete v1 from project quickstart\n", stderr: "" });
    const gone = await project.getFeatureView("to_delete").catch((err: unknown) => ConnectError.from(err).code);
    expect(gone).toBe(Code.NotFound);
    // A group a view reads stays: the server refuses, in one line.
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/^granary: .*used by feature view fraud_features v1.*\n$/);
    expect((await project.getFeatureGroup("customers")).version).toBe(1);
  }, 60_000);
});

describe("granary init and the config file", () => {
  it("writes a starter that apply and ingest accept, and never overwrites it", async () => {
    const target = join(dir, "starter_shop");
    const first = await granaryCli(["init", target], { flags: [] });
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toMatch(
      /^wrote .*features\.yaml, .*customers\.csv, .*orders\.csv \(project starter_shop\)\n\nnext, with the suite running \(npm start\):\n {2}granary apply /,
    );
    const before = readFileSync(join(target, "features.yaml"), "utf8");

    const [again, applied] = await Promise.all([
      granaryCli(["init", target], { flags: [] }),
      granaryCli(["apply", join(target, "features.yaml")], { flags: flags.slice(0, -2) }),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^granary: .*features\.yaml already exists: granary init never overwrites a file/);
    expect(readFileSync(join(target, "features.yaml"), "utf8")).toBe(before);
    expect(applied).toMatchObject({ code: 0, stderr: "" });
    expect(applied.stdout.trim().split("\n")).toEqual([
      "feature group customers v1: created",
      "feature group orders v1: created",
      "feature view returns v1: created",
    ]);

    const starter = [...flags.slice(0, -2), "--project", "starter_shop"];
    const ingested = await Promise.all([
      granaryCli(["ingest", "customers", join(target, "data", "customers.csv")], { flags: starter }),
      granaryCli(["ingest", "orders", join(target, "data", "orders.csv")], { flags: starter }),
    ]);
    expect(ingested.map((r) => [r.code, r.stderr, r.stdout.split(" ")[0]])).toEqual([
      [0, "", "10"],
      [0, "", "60"],
    ]);
  }, 90_000);

  it("reads addresses, project and key file from ./granary.yaml; the environment and flags win over it", async () => {
    const cwd = join(dir, "configured");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "admin.key"), `${adminKey}\n`);
    writeFileSync(
      join(cwd, "granary.yaml"),
      [
        `metadata: ${addresses["metadata"]}`,
        `online: ${addresses["online"]}`,
        `offline: ${addresses["offline"]}`,
        `registry: ${addresses["registry"]}`,
        "project: quickstart",
        "api_key_file: admin.key",
        "timeout: 20000",
      ].join("\n"),
    );
    const [fromFile, envWins, flagWins] = await Promise.all([
      granaryCli(["list", "views"], { flags: [], cwd }),
      granaryCli(["list", "views"], { flags: [], cwd, env: { GRANARY_PROJECT: "starter_shop" } }),
      granaryCli(["list", "views"], { flags: ["--project", "nowhere"], cwd, env: { GRANARY_PROJECT: "starter_shop" } }),
    ]);
    expect(fromFile).toMatchObject({ code: 0, stderr: "" });
    expect(fromFile.stdout).toMatch(/\nfraud_features\s+1\s/);
    expect(envWins).toMatchObject({ code: 0, stderr: "" });
    expect(envWins.stdout).toMatch(/\nreturns\s+1\s/);
    expect(flagWins).toMatchObject({ code: 1, stderr: expect.stringMatching(/^granary: project "nowhere" does not exist/) });

    writeFileSync(join(cwd, "granary.yaml"), "projekt: quickstart\n");
    const bad = await granaryCli(["list"], { flags: [], cwd });
    expect(bad).toMatchObject({ code: 2, stdout: "" });
    expect(bad.stderr).toBe(
      `granary: ${join(cwd, "granary.yaml")}: unknown setting "projekt" (did you mean "project"?); settings are address, metadata, online, offline, registry, project, api_key, api_key_file, ca_file, cert_file, key_file, timeout\n`,
    );
    expect(existsSync(join(cwd, "granary.yaml"))).toBe(true);
  }, 60_000);
});
