import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestSuite } from "@granary/suite";

// @granary/client as someone outside this repository gets it: `npm pack` (scripts/pack-client.mjs),
// installed with npm into an empty folder, imported by plain JavaScript that talks to a real suite,
// and type-checked by TypeScript from the tarball's declarations alone.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

let dir: string;
let app: string;
let tarball: string;
let stopSuite: (() => Promise<void>) | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "granary-sdk-package-"));
  app = join(dir, "app");
  mkdirSync(app);
  const packed = await run(process.execPath, ["scripts/pack-client.mjs", "--out", dir], { cwd: ROOT, timeout: 240_000 });
  tarball = packed.stdout.trim();
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "granary-sdk-consumer", private: true, type: "module" }));
  // Outside the repository: no workspace, no node_modules above it. The registry (or npm's cache)
  // supplies the SDK's dependencies, exactly as for a user.
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: app, timeout: 240_000 });
  const { suite, keys, stop } = await startTestSuite("sdkpkg");
  stopSuite = stop;
  const a = suite.addresses;
  env = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    GRANARY_METADATA_ADDRESS: a.metadata,
    GRANARY_ONLINE_ADDRESS: a.online,
    GRANARY_OFFLINE_ADDRESS: a.offline,
    GRANARY_REGISTRY_ADDRESS: a.registry,
    GRANARY_API_KEY: keys.adminKey,
  };
}, 600_000);

afterAll(async () => {
  await stopSuite?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const CONSUMER = `
import { connect } from "@granary/client";

const granary = connect();
await granary.waitUntilServing(30_000);
const fs = await granary.project("pkg");
const profiles = await fs.getOrCreateFeatureGroup({
  name: "profiles", version: 1, primaryKey: ["user_id"], eventTime: "ts", onlineEnabled: true,
  columns: [{ name: "user_id", type: "int64" }, { name: "ts", type: "timestamp" }, { name: "age", type: "int32" }, { name: "city", type: "string" }],
});
await profiles.insert([
  { user_id: 1, ts: new Date("2026-01-01T00:00:00Z"), age: 31, city: "Lyon" },
  { user_id: 2, ts: new Date("2026-01-01T00:00:00Z"), age: 47, city: "Oslo" },
]);
const view = await fs.getOrCreateFeatureView({ name: "people", version: 1, query: profiles.select(["age", "city"]) });
const vectors = await view.getFeatureVectors([{ user_id: 2 }, { user_id: 1 }, { user_id: 3 }]);
granary.close();
process.stdout.write(JSON.stringify(vectors));
`;

const TYPED = `
import { connect, type FeatureView } from "@granary/client";

export async function age(view: FeatureView, userId: number): Promise<unknown> {
  const vector = await view.getFeatureVector({ user_id: userId });
  return vector["age"];
}
export const granary = connect({ timeoutMs: 1000 });
`;

describe("the packed @granary/client", () => {
  it("holds the bundle, the declarations and the README, and depends on npm packages only", () => {
    const manifest = JSON.parse(readFileSync(join(app, "node_modules/@granary/client/package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      exports: Record<string, { types: string; default: string }>;
    };
    expect(Object.keys(manifest.dependencies).filter((name) => name.startsWith("@granary/"))).toEqual([]);
    expect(manifest.dependencies).toMatchObject({ "@grpc/grpc-js": expect.any(String), "apache-arrow": expect.any(String) });
    expect(manifest.exports["."]).toEqual({ types: expect.stringMatching(/\.d\.ts$/), default: "./dist/index.js" });
    expect(readFileSync(join(app, "node_modules/@granary/client/dist/index.js"), "utf8")).not.toMatch(/from\s*"@granary\//);
  });

  it("installs into an empty folder and runs there: connect, insert, online lookup", async () => {
    writeFileSync(join(app, "main.mjs"), CONSUMER);
    const { stdout } = await run(process.execPath, ["main.mjs"], { cwd: app, env, timeout: 120_000 });
    expect(JSON.parse(stdout)).toEqual([
      { age: 47, city: "Oslo" },
      { age: 31, city: "Lyon" },
      { age: null, city: null },
    ]);
  }, 150_000);

  it("type-checks a consumer from the tarball's declarations, and refuses a wrong call", async () => {
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const tsconfig = {
      compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, skipLibCheck: false, types: [] },
    };
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ ...tsconfig, files: ["typed.ts"] }));
    writeFileSync(join(app, "typed.ts"), TYPED);
    // @types/node comes from the repository (a consumer installs it themselves).
    const typeRoots = ["--typeRoots", join(ROOT, "node_modules/@types"), "--types", "node"];
    await expect(run(process.execPath, [tsc, "-p", "tsconfig.json", ...typeRoots], { cwd: app, timeout: 120_000 })).resolves.toBeDefined();
    writeFileSync(join(app, "typed.ts"), `${TYPED}\nexport const wrong: number = granary.project("x");\n`);
    const failed = await run(process.execPath, [tsc, "-p", "tsconfig.json", ...typeRoots], { cwd: app, timeout: 120_000 }).then(
      () => "",
      (err: { stdout?: string }) => err.stdout ?? "",
    );
    expect(failed).toMatch(/typed\.ts\(\d+,\d+\): error TS2322: Type 'Promise<Project>' is not assignable to type 'number'/);
  }, 150_000);
});
