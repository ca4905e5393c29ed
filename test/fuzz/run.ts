// `npm run fuzz -- --seed 7 --iterations 200`: the bad-input walk, longer than CI's, against a suite
// it starts itself (on DATABASE_URL when set, else an embedded PostgreSQL in a temp dir).
import { parseArgs } from "node:util";
import { startEmbeddedPostgres } from "@granary/postgres";
import { startSuiteOnFreePorts } from "@granary/suite";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys } from "@granary/testing";
import { createFixture, walk } from "./walk.js";

const { values } = parseArgs({
  options: { seed: { type: "string" }, iterations: { type: "string", default: "100" }, verbose: { type: "boolean", default: false } },
});
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const iterations = Number(values.iterations);
if (!Number.isInteger(seed) || !Number.isInteger(iterations) || iterations < 1) throw new Error("--seed and --iterations take positive integers");

const dir = scratchDir("fuzz");
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: `${dir.path}/postgres` });
if (embedded) process.env.GRANARY_TEST_DATABASE_URL = embedded.url;
const db = await createTestDatabase("fuzz");
const keys = testKeys();
const logger = createLogger({ level: "error", service: "fuzz" });
const suite = await startSuiteOnFreePorts({ GRANARY_DATA_DIR: `${dir.path}/data`, DATABASE_URL: db.url, GRANARY_LOG_LEVEL: "error", ...keys.env }, logger);
const started = Date.now();
let failed = true;
try {
  await createFixture(suite.addresses, keys.adminKey);
  process.stdout.write(`fuzz: seed ${seed}, ${iterations} bad calls per method\n`);
  const result = await walk({
    addresses: suite.addresses,
    adminKey: keys.adminKey,
    dataDir: `${dir.path}/data`,
    seed,
    iterations,
    onProgress: (done, total) => process.stderr.write(`\r${done}/${total} calls`),
    onCall: values.verbose ? (method, request) => process.stderr.write(`\n${method} ${request.slice(0, 300)}`) : undefined,
  });
  process.stderr.write("\n");
  for (const f of result.findings)
    process.stdout.write(`FINDING ${f.why}: ${f.method} → ${f.code} ${JSON.stringify(f.message)}\n  request: ${f.request.slice(0, 400)}\n`);
  process.stdout.write(
    `${JSON.stringify({ seed, iterations, calls: result.calls, seconds: (Date.now() - started) / 1000, codes: result.codes, findings: result.findings.length })}\n`,
  );
  failed = result.findings.length > 0;
} finally {
  await suite.stop();
  await db.drop();
  await embedded?.stop();
  dir.remove();
}
process.exit(failed ? 1 : 0);
