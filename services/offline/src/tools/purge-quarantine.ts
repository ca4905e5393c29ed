// `npm run offline:purge-quarantine -- [--dry-run] [--older-than-days N]`: deletes the batches the
// offline service moved to `<data root>/.quarantine` at start (files no recorded commit listed).
// The service never deletes them itself; this is the operator's decision, after checking that
// the metadata database was the right one. The data root comes from the environment, as for the
// service: GRANARY_OFFLINE_DATA_ROOT, else GRANARY_DATA_DIR/offline.
import { EnvReader, type Env } from "@granary/config";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { purgeQuarantine } from "../store/quarantine.js";

export interface PurgeArgs {
  readonly dryRun: boolean;
  readonly olderThanDays: number;
}

export function purgeArgs(argv: readonly string[]): PurgeArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: { "dry-run": { type: "boolean", default: false }, "older-than-days": { type: "string", default: "0" } },
    strict: true,
  });
  const days = Number(values["older-than-days"]);
  if (!Number.isFinite(days) || days < 0) throw new Error(`--older-than-days must be a number of days ≥ 0, got "${values["older-than-days"]}"`);
  return { dryRun: values["dry-run"] === true, olderThanDays: days };
}

export function purgeDataRoot(env: Env): string {
  const r = new EnvReader(env);
  const root = r.string("GRANARY_OFFLINE_DATA_ROOT", join(r.string("GRANARY_DATA_DIR", ".granary"), "offline"));
  r.finish();
  return root;
}

/** Runs the command; returns the lines it prints. */
export async function runPurge(argv: readonly string[], env: Env, now = new Date()): Promise<string[]> {
  const args = purgeArgs(argv);
  const root = purgeDataRoot(env);
  const { purged, kept } = await purgeQuarantine(root, { dryRun: args.dryRun, olderThanMs: args.olderThanDays * 86_400_000, now });
  const lines = [`quarantine of ${join(root, ".quarantine")}${args.olderThanDays > 0 ? `, batches older than ${args.olderThanDays} day(s)` : ""}:`];
  for (const b of purged) lines.push(`${args.dryRun ? "would delete" : "deleted"} ${b.path} (${b.files} file(s), ${b.bytes} bytes)`);
  for (const b of kept) lines.push(`kept ${b.path}${b.plain && b.at ? " (too recent)" : " (not a quarantine batch)"}`);
  const files = purged.reduce((n, b) => n + b.files, 0);
  lines.push(
    purged.length === 0
      ? "nothing to delete"
      : `${args.dryRun ? "dry run: would delete" : "deleted"} ${purged.length} batch(es), ${files} file(s)${args.dryRun ? "; run again without --dry-run to delete" : ""}`,
  );
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    for (const line of await runPurge(process.argv.slice(2), process.env)) console.log(line);
  } catch (err) {
    console.error(`offline:purge-quarantine: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
