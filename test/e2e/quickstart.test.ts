import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestSuite } from "@granary/suite";

// docs/quickstart.md as a new user follows it: every command of its ```sh blocks, exactly as
// written and in order, against a suite on free ports (its addresses and API key in the
// environment, as a shell would have them). A block after the marker comment is not run (npm start:
// the test starts its own suite). A command the document gains without an expectation here fails
// the test, so the document and this test cannot drift apart.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOC = join(ROOT, "docs/quickstart.md");
const SKIP_MARKER = "<!-- quickstart-test: skip";

/** The commands of the document's ```sh blocks, in order, without those of a block after the skip marker. */
export function quickstartCommands(markdown: string): { commands: string[]; skipped: string[] } {
  const commands: string[] = [];
  const skipped: string[] = [];
  let skipNext = false;
  for (const m of markdown.matchAll(/(<!-- quickstart-test: skip[^>]*-->)|```(\w*)\n([\s\S]*?)```/g)) {
    if (m[1]) {
      skipNext = true;
      continue;
    }
    if (m[2] !== "sh") continue;
    const lines = m[3]!
      .split("\n")
      .map((l) => l.replace(/\s+#.*$/, "").trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    (skipNext ? skipped : commands).push(...lines);
    skipNext = false;
  }
  return { commands, skipped };
}

/** What each command must print (stdout), by how it starts; every command of the document needs one. */
const EXPECTED: [prefix: string, check: (stdout: string) => void][] = [
  ["export GRANARY_PROJECT=", () => {}],
  [
    "npx granary apply",
    (out) =>
      expect(out.trim().split("\n")).toEqual([
        "feature group customers v1: created",
        "feature group transactions v1: created",
        "feature view fraud_features v1: created",
      ]),
  ],
  ["npx granary ingest customers", (out) => expect(out).toMatch(/^40 rows in [\d.]+ s \([\d,]+ rows\/s\), commit \d+\n$/)],
  ["npx granary ingest transactions", (out) => expect(out).toMatch(/^400 rows in [\d.]+ s \([\d,]+ rows\/s\), commit \d+\n$/)],
  [
    "npx granary list",
    (out) => {
      expect(out).toMatch(/\ncustomers\s+1\s+7\s+customer_id\s+updated_at\s+yes\s/);
      expect(out).toMatch(/\ntransactions\s+1\s+6\s+tx_id\s+ts\s+no\s/);
      expect(out).toMatch(/\nfraud_features\s+1\s+transactions v1, customers v1\s+customer_id\s+is_fraud\s/);
      expect(out).toContain('no models in project "quickstart"');
    },
  ],
  [
    "npx granary describe transactions",
    (out) => {
      expect(out).toMatch(/^feature group transactions v1: /);
      expect(out).toMatch(/\nstatistics of 400 rows/);
      // A histogram of amount: mostly small amounts, a tail of large (fraudulent) ones.
      expect(out).toMatch(/\namount\s+0\.0%\s+\d+\s+5\.44\s.*\s[█▇][▁▂▃▄▅▆▇█ ]+\n/);
      expect(out).toMatch(/\nis_fraud\s+0\.0%\s+2\s+false 94%, true 6%\n/);
    },
  ],
  ["npx granary training-data fraud_features --save", (out) => expect(out).toMatch(/^training dataset 1 of fraud_features v1: 400 rows in /)],
  [
    "npx granary get-vector fraud_features customer_id=102",
    (out) => {
      // Customer 102 (customers.csv): 30, premium, 6 months; the amount comes back standardised.
      expect(out).toMatch(/^column\s+value\s+status\n/);
      expect(out).toMatch(/\ncustomer_id\s+102\s+PRESENT\n/);
      expect(out).toMatch(/\ncategory\s+online\s+PRESENT\n/);
      expect(out).toMatch(/\nage\s+30\s+PRESENT\n/);
      expect(out).toMatch(/\nplan\s+premium\s+PRESENT\n/);
      expect(out).toMatch(/\namount\s+3\.\d+\s+PRESENT\n/);
    },
  ],
  ["npx granary models register fraud_model", (out) => expect(out.trim()).toBe("registered fraud_model version 1 (1 file, 146 B), alias production")],
  [
    "npx granary lineage fraud_model",
    (out) =>
      expect(out.trim().split("\n")).toEqual([
        "lineage of model fraud_model v1:",
        "  feature group customers v1 → feature view fraud_features v1",
        "  feature group transactions v1 → feature view fraud_features v1",
        "  feature view fraud_features v1 → training dataset 1 of fraud_features v1",
        "  training dataset 1 of fraud_features v1 → model fraud_model v1",
      ]),
  ],
  [
    "npx tsx examples/quickstart/quickstart.ts",
    (out) => {
      expect(out).toMatch(/^training dataset 2: \d+ train rows, \d+ test rows\n/);
      expect(out).toMatch(/\naccuracy on the test split: 0\.\d{3}\n/);
      expect(out).toMatch(/\nfeature vector: \{[^]*age: 30[^]*plan: 'premium'[^]*\} fraud: true\n/);
      expect(out).toMatch(/\nregistered fraud_threshold version 1\n$/);
    },
  ],
];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, env: NodeJS.ProcessEnv): Promise<Run> {
  // The commands are plain words (no quotes, globs or pipes): the test refuses anything else rather than guess.
  if (/["'`$|&;<>*]/.test(command)) throw new Error(`the quickstart's commands must be plain words; cannot run: ${command}`);
  const words = command.split(/\s+/);
  let argv: string[];
  // `npx granary` runs the workspace's bin, apps/cli/bin/granary.mjs, on the compiled CLI.
  if (words[0] === "npx" && words[1] === "granary") argv = ["apps/cli/bin/granary.mjs", ...words.slice(2)];
  else if (words[0] === "npx" && words[1] === "tsx") argv = ["--import", "tsx", ...words.slice(2)];
  else throw new Error(`the quickstart test does not know how to run: ${command}`);
  return new Promise((resolve) => {
    execFile("node", argv, { cwd: ROOT, env, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let stopSuite: (() => Promise<void>) | undefined;
const env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  const { suite, keys, stop } = await startTestSuite("quickstart");
  stopSuite = stop;
  const a = suite.addresses;
  // Settings of the calling shell must not leak in; the suite's addresses and key come as a user's shell would have them.
  Object.assign(env, Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GRANARY_"))), {
    GRANARY_METADATA_ADDRESS: a.metadata,
    GRANARY_ONLINE_ADDRESS: a.online,
    GRANARY_OFFLINE_ADDRESS: a.offline,
    GRANARY_REGISTRY_ADDRESS: a.registry,
    GRANARY_API_KEY: keys.adminKey,
    // No config file of the machine running the test.
    XDG_CONFIG_HOME: join(ROOT, "node_modules", ".cache", "granary-quickstart-test-no-config"),
  });
}, 120_000);

afterAll(async () => {
  await stopSuite?.();
}, 60_000);

/** The document's ```python blocks, in order. */
export function quickstartPython(markdown: string): string[] {
  return [...markdown.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function python(code: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      "/usr/bin/python3",
      ["-c", code],
      { cwd: ROOT, env: { ...env, PYTHONPATH: join(ROOT, "clients/python/src"), PYTHONDONTWRITEBYTECODE: "1" }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("docs/quickstart.md", () => {
  const { commands, skipped } = quickstartCommands(readFileSync(DOC, "utf8"));

  it("holds the commands of the first five minutes; only npm install and npm start are left to the reader", () => {
    expect(skipped).toEqual(["npm install", "npm start"]);
    expect(commands.length).toBeGreaterThanOrEqual(10);
    for (const command of commands) expect(EXPECTED.some(([prefix]) => command.startsWith(prefix)) ? command : `no expectation for: ${command}`).toBe(command);
  });

  it("runs every command as written, each exiting 0 with the output the document describes", async () => {
    for (const command of commands) {
      const exported = /^export ([A-Z_]+)=(\S+)$/.exec(command);
      if (exported) {
        env[exported[1]!] = exported[2]!;
        continue;
      }
      const result = await run(command, env);
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: "" });
      EXPECTED.find(([prefix]) => command.startsWith(prefix))![1](result.stdout);
    }
  }, 300_000);

  it("runs its Python snippet after the commands (Debian's python3-grpcio; required under CI)", async () => {
    const ready = await python("import grpc, google.protobuf", env);
    if (ready.code !== 0 && !process.env["CI"]) {
      console.warn("not run: /usr/bin/python3 with python3-grpcio and python3-protobuf is missing (apt-get install python3-grpcio python3-protobuf)");
      return;
    }
    const [snippet, ...more] = quickstartPython(readFileSync(DOC, "utf8"));
    expect(more).toEqual([]);
    const result = await python(snippet!, env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    const [health, line] = result.stdout.trim().split("\n");
    expect(health).toBe("{'metadata': 'SERVING', 'online': 'SERVING', 'offline': 'SERVING', 'registry': 'SERVING'}");
    expect(line).toMatch(/^102 30 premium 3\.\d+$/);
  }, 120_000);
});
