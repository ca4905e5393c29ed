#!/usr/bin/env node
// The CLI runs from its compiled bundle, apps/cli/dist/cli.js (scripts/build.mjs; `npm install`
// builds it). In a source checkout a source newer than the bundle rebuilds it first (~1 s, once),
// so the command never runs stale code; the check itself costs ~15 ms.
import { existsSync } from "node:fs";

const build = new URL("../../../scripts/build.mjs", import.meta.url);
if (existsSync(new URL("../src/", import.meta.url)) && existsSync(build)) {
  const { ensureBuilt } = await import(build.href);
  await ensureBuilt({ quiet: true });
}
await import("../dist/cli.js");
