#!/usr/bin/env node
// Packs @granary/client, the TypeScript SDK, as a tarball that installs anywhere with npm:
//
//   node scripts/pack-client.mjs [--out <dir>]      → <dir>/granary-client-<version>.tgz (default build/)
//
// In the repository the SDK is TypeScript that imports private workspace packages (@granary/proto,
// @granary/arrow, @granary/cel, @granary/service-clients …). The tarball holds:
//   dist/index.js     the SDK and those workspace packages bundled into one ES module (esbuild);
//                     npm packages (grpc-js, connect, protobuf-es, apache-arrow …) stay imports and
//                     become the tarball's dependencies, at the versions this repository locks;
//   types/            declarations (tsc) for the SDK and the workspace code its types mention, with
//                     the workspace package names rewritten to relative paths;
//   package.json      an exports map (types, then the module), README.md.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CLIENT = join(ROOT, "libs/client");

/** Every workspace package by name: its directory and its exports map. */
function workspacePackages() {
  const packages = new Map();
  for (const group of ["libs", "services", "apps"]) {
    for (const name of readdirSync(join(ROOT, group))) {
      const file = join(ROOT, group, name, "package.json");
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, "utf8"));
      packages.set(manifest.name, { dir: join(ROOT, group, name), exports: manifest.exports ?? {} });
    }
  }
  return packages;
}

/** The package name of a bare import: "@scope/name/sub" → "@scope/name", "name/sub" → "name". */
const packageOf = (specifier) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

async function bundle(staging) {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: { index: join(CLIENT, "src/index.ts") },
    outdir: join(staging, "dist"),
    absWorkingDir: ROOT,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    keepNames: true,
    metafile: true,
    logLevel: "warning",
    plugins: [
      {
        name: "npm-packages-external",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith("@granary/") ? undefined : { external: true }));
        },
      },
    ],
  });
  const external = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports ?? []) if (imp.external && !imp.path.startsWith("node:")) external.add(packageOf(imp.path));
  }
  return [...external].sort();
}

/** The version of an npm package as installed (and locked) here. */
function installedVersion(name) {
  const file = join(ROOT, "node_modules", name, "package.json");
  if (!existsSync(file)) throw new Error(`${name} is imported by the SDK but not installed: run npm install`);
  return JSON.parse(readFileSync(file, "utf8")).version;
}

function declarations(staging, packages) {
  const tsconfig = join(staging, "tsconfig.types.json");
  // Resolved through node_modules, the workspace packages would count as libraries and get no
  // declarations; mapped to their sources they are compiled with the SDK.
  const paths = {};
  for (const [name, pkg] of packages) {
    const exports = typeof pkg.exports === "string" ? { ".": pkg.exports } : pkg.exports;
    for (const [subpath, entry] of Object.entries(exports)) {
      const source = typeof entry === "string" ? entry : (entry?.types ?? entry?.default);
      if (typeof source === "string" && !subpath.includes("*")) paths[`${name}${subpath.slice(1)}`] = [join(pkg.dir, source)];
    }
  }
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, "tsconfig.base.json"),
      compilerOptions: {
        rootDir: ROOT,
        outDir: join(staging, "types"),
        paths,
        declaration: true,
        emitDeclarationOnly: true,
        sourceMap: false,
        declarationMap: false,
      },
      files: [join(CLIENT, "src/index.ts")],
    }),
  );
  execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", tsconfig], { cwd: ROOT, stdio: "inherit" });
  rmSync(tsconfig);
}

/** Rewrites `@granary/<pkg>[/<sub>]` in every declaration file to the relative path of its declarations. */
function rewriteWorkspaceImports(typesDir, packages) {
  const target = (specifier, fromFile) => {
    const name = packageOf(specifier);
    const pkg = packages.get(name);
    if (!pkg) throw new Error(`declarations import ${specifier}, which is not a workspace package`);
    const subpath = `.${specifier.slice(name.length)}`;
    const entry = typeof pkg.exports === "string" ? (subpath === "." ? pkg.exports : undefined) : pkg.exports[subpath];
    const source = typeof entry === "string" ? entry : (entry?.types ?? entry?.default);
    if (typeof source !== "string") throw new Error(`${specifier}: ${name} exports no ${subpath}`);
    const declaration = join(typesDir, relative(ROOT, join(pkg.dir, source))).replace(/\.ts$/, ".js");
    const rel = relative(dirname(fromFile), declaration);
    return rel.startsWith(".") ? rel : `./${rel}`;
  };
  /** npm packages the declarations import: the tarball depends on them too (types need them). */
  const imported = new Set();
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith(".d.ts")) {
        const text = readFileSync(file, "utf8");
        const rewritten = text.replace(/(["'])(@granary\/[^"']+)\1/g, (_, quote, specifier) => `${quote}${target(specifier, file)}${quote}`);
        if (rewritten !== text) writeFileSync(file, rewritten);
        for (const m of rewritten.matchAll(/(?:from |import\()["']([^./"'][^"']*)["']/g)) if (!m[1].startsWith("node:")) imported.add(packageOf(m[1]));
      }
    }
  };
  visit(typesDir);
  return imported;
}

export async function packClient({ out = join(ROOT, "build") } = {}) {
  const manifest = JSON.parse(readFileSync(join(CLIENT, "package.json"), "utf8"));
  const staging = join(ROOT, "build", "client-package");
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const external = await bundle(staging);
  const packages = workspacePackages();
  declarations(staging, packages);
  const typeImports = rewriteWorkspaceImports(join(staging, "types"), packages);
  const dependencies = [...new Set([...external, ...typeImports])].sort();
  const rootManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const types = `./types/${relative(ROOT, join(CLIENT, "src/index.d.ts"))}`;
  writeFileSync(
    join(staging, "package.json"),
    `${JSON.stringify(
      {
        name: manifest.name,
        version: manifest.version,
        description: manifest.description,
        license: rootManifest.license,
        type: "module",
        engines: rootManifest.engines,
        exports: { ".": { types, default: "./dist/index.js" } },
        types,
        files: ["dist", "types", "README.md"],
        dependencies: Object.fromEntries(dependencies.map((name) => [name, installedVersion(name)])),
      },
      null,
      2,
    )}\n`,
  );
  cpSync(join(CLIENT, "README.md"), join(staging, "README.md"));
  mkdirSync(out, { recursive: true });
  const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: staging, encoding: "utf8" }));
  return { tarball: join(out, packed[0].filename), dependencies, files: packed[0].files.length, bytes: packed[0].size };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf("--out");
  const { tarball, files, bytes, dependencies } = await packClient(at > 0 ? { out: process.argv[at + 1] } : {});
  process.stdout.write(`${tarball}\n`);
  process.stderr.write(`${files} files, ${(bytes / 1e6).toFixed(2)} MB packed; dependencies: ${dependencies.join(", ")}\n`);
}
