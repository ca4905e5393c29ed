// Reads jest's JSON results for .ci/run.
//   node scripts/ci-results.mjs crashed <results.json>
//     prints the test files whose worker process died from a signal (a native crash, not a failed
//     assertion), space-separated — only when every failure of the run is such a crash;
//   node scripts/ci-results.mjs summary <dir>
//     prints "N passed, N failed" over every <run>.json, where a crashed suite that was run again
//     (<run>.rerun.json) counts with its rerun's results. Crashes are listed first, never hidden;
//   node scripts/ci-results.mjs postgres-suites <results.json> <users dir>
//     prints the test files of a run that depend on which PostgreSQL serves them, one per line:
//     those that asked libs/testing for the test server (recorded in <users dir> during the run),
//     and those whose source names DATABASE_URL or the embedded server (they start PostgreSQL, or a
//     suite that does, themselves). The rest never touch PostgreSQL.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const CRASH = /terminated by another process|was killed|signal=SIG/;
const read = (file) => JSON.parse(readFileSync(file, "utf8"));
const crashedSuites = (r) =>
  r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0 && CRASH.test(t.message ?? t.failureMessage ?? ""));

const [mode, target] = process.argv.slice(2);
if (mode === "crashed") {
  const r = read(target);
  const crashed = crashedSuites(r);
  const failedSuites = r.testResults.filter((t) => t.status === "failed").length;
  if (crashed.length > 0 && crashed.length === failedSuites) console.log(crashed.map((t) => relative(process.cwd(), t.name)).join(" "));
} else if (mode === "summary") {
  let passed = 0;
  let failed = 0;
  for (const f of readdirSync(target).filter((f) => f.endsWith(".json") && !f.endsWith(".rerun.json"))) {
    const r = read(join(target, f));
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    const rerunFile = join(target, f.replace(/\.json$/, ".rerun.json"));
    if (existsSync(rerunFile)) {
      const crashed = crashedSuites(r);
      for (const t of crashed)
        console.log(
          `note: ${relative(process.cwd(), t.name)} crashed in run "${f.replace(/\.json$/, "")}" (${(t.message ?? "")
            .split("\n")
            .find((l) => CRASH.test(l))
            ?.trim()}); counted with its rerun`,
        );
      const rerun = read(rerunFile);
      failed -= crashed.length;
      passed += rerun.numPassedTests;
      failed += rerun.numFailedTests + (rerun.numRuntimeErrorTestSuites || 0);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
} else if (mode === "postgres-suites") {
  const usersDir = process.argv[4];
  const recorded = new Set(existsSync(usersDir) ? readdirSync(usersDir).map((f) => readFileSync(join(usersDir, f), "utf8")) : []);
  const STARTS_POSTGRES = /DATABASE_URL|[Ee]mbedded/;
  for (const t of read(target).testResults) {
    if (recorded.has(t.name) || STARTS_POSTGRES.test(readFileSync(t.name, "utf8"))) console.log(relative(process.cwd(), t.name));
  }
} else {
  console.error("usage: ci-results.mjs crashed <results.json> | summary <dir> | postgres-suites <results.json> <users dir>");
  process.exit(2);
}
