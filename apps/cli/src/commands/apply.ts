import { CliError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { ManifestError, loadManifest } from "../apply/load-manifest.js";
import { executePlan, planApply, serverCatalogue, type Action, type Applied, type PlannedItem } from "../apply/plan.js";
import { toJson } from "../output.js";

export interface ApplyOptions {
  readonly dryRun?: boolean;
}

/**
 * `granary apply <file.yaml>`: makes the groups and views of the file exist as declared. Every
 * declaration is compared with the server first; if any conflicts (an existing version with a
 * different definition), nothing is applied.
 */
export async function applyCommand(ctx: CommandContext, file: string, options: ApplyOptions): Promise<void> {
  const { manifest, describe } = await loadManifest(file);
  const project = ctx.projectFromCommandLine ? ctx.options.project : (manifest.project ?? ctx.options.project);
  const { services } = ctx.granary;
  // A project that does not exist yet reads as empty: everything in it is to be created.
  const plan = await planApply(project, manifest, serverCatalogue(services, project));
  if (plan.problems.length > 0) throw new ManifestError(plan.problems.map(describe));

  const conflicts = [...plan.groups, ...plan.views].filter((i) => i.action.kind === "conflict");
  if (conflicts.length > 0) {
    const lines = conflicts.map((i) => `${label(i)}: ${conflictText(i.action as Extract<Action, { kind: "conflict" }>, i.version)}`);
    throw new CliError(`${lines.join("\n")}\nnothing was applied`);
  }

  const results: Applied[] = [];
  if (options.dryRun) {
    for (const item of [...plan.groups, ...plan.views])
      results.push({ item, result: item.action.kind === "create" ? "created" : item.action.kind === "update" ? "updated" : "unchanged" });
  } else {
    await ctx.granary.project(project, { create: true });
    await executePlan(plan, services, (applied) => {
      results.push(applied);
      if (!ctx.json) ctx.output.out(resultLine(applied, false));
    });
  }
  if (ctx.json) {
    ctx.output.out(
      toJson({
        project,
        dry_run: options.dryRun === true,
        results: results.map(({ item, result }) => ({
          kind: item.kind.replace(" ", "_"),
          name: item.name,
          version: item.version,
          result,
          ...(item.action.kind === "update" ? { appended_columns: item.action.appended.map((c) => c.name), changes: item.action.changes } : {}),
        })),
      }),
    );
  } else if (options.dryRun) {
    for (const r of results) ctx.output.out(resultLine(r, true));
  }
  if (results.length === 0 && !ctx.json) ctx.output.out("nothing declared");
}

function label(item: PlannedItem<unknown>): string {
  return `${item.kind} ${item.name} v${item.version}`;
}

function resultLine({ item, result }: Applied, dryRun: boolean): string {
  const a = item.action;
  const details =
    a.kind === "update"
      ? ` (${[...(a.appended.length > 0 ? [`appended columns ${a.appended.map((c) => c.name).join(", ")}`] : []), ...a.changes.map((c) => `${c.field}: ${c.detail}`)].join("; ")})`
      : "";
  const verb = dryRun && result !== "unchanged" ? `would be ${result}` : result;
  return `${label(item)}: ${verb}${details}`;
}

function conflictText(a: Extract<Action, { kind: "conflict" }>, version: number): string {
  const changes = a.changes.map((c) => `${c.field} (${c.detail})`).join("; ");
  return `differs from the server's definition in ${changes}; a version's definition cannot change: bump version to ${Math.max(a.latestVersion, version) + 1} in the file`;
}
