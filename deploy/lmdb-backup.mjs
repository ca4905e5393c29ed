#!/usr/bin/env node
// A consistent copy of the online store's LMDB environment, taken while the service runs.
//
//   node deploy/lmdb-backup.mjs [LMDB_DIR] [TARGET_DIR] [--no-compact]
//
// LMDB_DIR defaults to /data/online (the image's and the chart's layout); TARGET_DIR to
// <LMDB_DIR>/backup-<UTC timestamp>, which must not exist yet (it is created). The copy is one
// read transaction: a snapshot of every commit made before it started; writers are not blocked.
// It needs free space for the copy (compacted by default: only the pages in use). Prints the
// target directory, which then holds a data.mdb that LMDB opens as it is.
import { mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";

const args = process.argv.slice(2);
const compact = !args.includes("--no-compact");
const [source = "/data/online", target] = args.filter((a) => !a.startsWith("--"));
const dir = target ?? join(source, `backup-${new Date().toISOString().replace(/[:.]/g, "-")}`);

if (!existsSync(join(source, "data.mdb"))) {
  process.stderr.write(`lmdb-backup: no LMDB environment at ${source}\n`);
  process.exit(1);
}
if (existsSync(dir)) {
  process.stderr.write(`lmdb-backup: ${dir} already exists\n`);
  process.exit(1);
}
mkdirSync(dir, { recursive: true });
const db = open({ path: source, readOnly: true });
try {
  await db.backup(dir, compact);
} finally {
  await db.close();
}
process.stdout.write(`${dir}\n`);
