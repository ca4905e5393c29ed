// Zero skew, as a property (issue 14): for random projects — groups of many column types with
// composite keys and TTLs, a view with nested joins, prefixes and selections, a history of inserts
// with late data and ties, deletes and appended columns — every entity's online vector at now
// equals its offline point-in-time row at now, and CheckConsistency reports no mismatch.
//
// Environment: GRANARY_PROPERTY_CASES (default 60, about a minute on two cores; thousands for a
// soak), GRANARY_PROPERTY_SEED (replays a run), GRANARY_PROPERTY_CASE (replays one case of it),
// GRANARY_PROPERTY_ALL=1 (report every failing case, not only the first), GRANARY_PROPERTY_SHRINK_S
// (time spent shrinking a failure, default 60), GRANARY_PROPERTY_STACKS=1 (stacks in errors).
// A case's event times are relative to the moment it starts, so a replay matches the printed case
// up to that shift.
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { scratchDir, testKeys } from "@granary/testing";
import { startOfflineStack, type OfflineStack } from "../integration/support/offline-stack.js";
import { caseJson, generateCase, type GenCase } from "./zero-skew-generator.js";
import { FEATURES, describeCase, shrink } from "./zero-skew-property.js";
import { checkCase, type CompareOptions } from "./zero-skew-run.js";

const CASES = Number(process.env.GRANARY_PROPERTY_CASES ?? 60);
/** Replays one case of the seed's run. */
const ONLY = process.env.GRANARY_PROPERTY_CASE === undefined ? undefined : Number(process.env.GRANARY_PROPERTY_CASE);
const SEED = Number(process.env.GRANARY_PROPERTY_SEED ?? Math.floor(Math.random() * 1_000_000));
/** How long online may lag Insert's return before a difference counts as skew. */
const SETTLE_MS = 10_000;
/** Time given to shrinking a failing case. */
const SHRINK_MS = Number(process.env.GRANARY_PROPERTY_SHRINK_S ?? 60) * 1000;

/** CheckConsistency runs for every case (string serving keys failed INTERNAL until 7d698cd). */
const tally = new Map<string, number>();
const COMPARE: CompareOptions = { consistencyFor: () => true, tally };

const keys = testKeys();
const dir = scratchDir("zero-skew");
let stack: OfflineStack;
let projects = 0;

beforeAll(async () => {
  stack = await startOfflineStack({ name: "zero_skew", dataDir: dir.path, keys, logLevel: "error" });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  dir.remove();
}, 30_000);

/** A fresh project per run keeps cases (and shrink attempts) independent on one stack. */
function run(c: GenCase, settleMs = SETTLE_MS, options = COMPARE): Promise<string[]> {
  return checkCase(stack, `zs_${SEED}_${projects++}`, c, settleMs, options).catch((err: unknown) => [
    `error: ${err instanceof Error ? (process.env.GRANARY_PROPERTY_STACKS === "1" ? err.stack : err.message) : String(err)}`,
  ]);
}

it(`online vectors at now equal offline point-in-time rows at now (seed ${SEED}, ${CASES} cases)`, async () => {
  const failures: string[] = [];
  for (let i = ONLY ?? 0; i < (ONLY === undefined ? CASES : ONLY + 1); i++) {
    const nowUs = BigInt(Date.now()) * 1000n;
    const c = generateCase(SEED * 10_007 + i, nowUs, FEATURES);
    describeCase(c, tally);
    const problems = await run(c);
    if (problems.length === 0) continue;
    const small = await shrink(c, problems, (x) => run(x, 2_000, { consistencyFor: COMPARE.consistencyFor }), SHRINK_MS);
    const message = [
      `zero-skew case ${i} of seed ${SEED} failed (replay: GRANARY_PROPERTY_SEED=${SEED} GRANARY_PROPERTY_CASE=${i}).`,
      `Problems of the generated case:`,
      ...problems.slice(0, 20).map((p) => `  ${p}`),
      `Problems of the shrunk case:`,
      ...small.problems.slice(0, 20).map((p) => `  ${p}`),
      `Shrunk case (event times relative to now = ${nowUs}µs):`,
      caseJson(small.c),
    ].join("\n");
    failures.push(message);
    if (process.env.GRANARY_PROPERTY_ALL !== "1") break;
  }
  console.log(`zero-skew seed ${SEED}: ${JSON.stringify(Object.fromEntries([...tally].sort()))}`);
  expect(failures.join("\n\n")).toBe("");
}, 900_000);
