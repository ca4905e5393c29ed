// Every workspace package declares, in its own package.json, the workspace packages (@granary/*)
// its code imports. npm hoists every workspace into the root node_modules, so a missing
// declaration works here and breaks the day a package is installed or built on its own.
// Test files may import what the package's devDependencies declare. Run by `npm run lint:deps`.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)["'](@granary\/[a-z0-9-]+)(?:\/[^"']*)?["']/g;
const rootPackage = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const workspaces = rootPackage.workspaces.flatMap((pattern) => {
  const base = pattern.replace(/\/\*$/, "");
  return readdirSync(join(root, base))
    .map((d) => join(root, base, d))
    .filter((d) => statSync(join(d, "package.json"), { throwIfNoEntry: false })?.isFile());
});

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === "node_modules" || entry.name === "gen") continue;
      yield* sources(path);
    } else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) {
      yield path;
    }
  }
}

const problems = [];
for (const dir of workspaces) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const runtime = new Set(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }));
  const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
  const missing = new Map();
  for (const file of sources(dir)) {
    const test = /\.test\.ts$|\/testing\//.test(file);
    for (const [, name] of readFileSync(file, "utf8").matchAll(IMPORT)) {
      if (name === pkg.name || runtime.has(name) || (test && dev.has(name))) continue;
      if (!missing.has(name)) missing.set(name, relative(root, file));
    }
  }
  for (const [name, file] of missing)
    problems.push(`${pkg.name} (${relative(root, dir)}/package.json) imports ${name} (first in ${file}) without declaring it`);
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(
    `\n${problems.length} undeclared workspace dependencies: add each to the package's "dependencies" (or "devDependencies" when only its tests use it), then run npm install`,
  );
  process.exit(1);
}
console.log(`every workspace package declares the workspace packages it imports (${workspaces.length} packages)`);
