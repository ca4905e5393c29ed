import type { Project } from "@granary/client";
import { UsageError } from "../cli-error.js";
import { confirmByName } from "../confirm.js";
import type { CommandContext } from "../context.js";
import { toJson } from "../output.js";
import type { VersionedRef } from "../refs.js";
import { findKind, KIND_NAMES, parseThing, type ThingKind } from "./describe.js";

export interface DeleteOptions {
  readonly yes?: boolean;
}

/** The version a bare group or view name deletes: its only one (with several, the user must name it). */
async function versionToDelete(project: Project, kind: "group" | "view", ref: VersionedRef): Promise<number> {
  const current = kind === "group" ? await project.getFeatureGroup(ref.name, ref.version) : await project.getFeatureView(ref.name, ref.version);
  if (ref.version !== 0) return current.version;
  const all = kind === "group" ? await project.listFeatureGroups() : await project.listFeatureViews();
  const versions = all.filter((x) => x.name === ref.name).map((x) => x.version);
  if (versions.length > 1)
    throw new UsageError(
      `${KIND_NAMES[kind]} ${ref.name} has versions ${versions.sort((a, b) => a - b).join(", ")}: name the one to delete, e.g. ${ref.name}:${current.version}`,
    );
  return current.version;
}

/**
 * `granary delete [group|view|model] <name[:version]> [--yes]`: deletes a feature group or view
 * version, a model version, or a whole model, once the user has typed its name.
 */
export async function deleteCommand(ctx: CommandContext, first: string, second: string | undefined, options: DeleteOptions): Promise<void> {
  const { kind: given, ref } = parseThing(first, second);
  const project = await ctx.project();
  const kind: ThingKind = given ?? (await findKind(project, ref));
  const { metadata, registry, unary } = ctx.granary.services;
  let described: string;
  let run: () => Promise<unknown>;
  if (kind === "model") {
    if (ref.version === 0) {
      await project.modelRegistry.model(ref.name);
      described = `model ${ref.name} (every version and artifact)`;
      run = () => registry.deleteModel({ project: project.name, name: ref.name }, unary());
    } else {
      await project.modelRegistry.getModel(ref.name, { version: ref.version });
      described = `model ${ref.name} version ${ref.version} and its artifacts`;
      run = () => registry.deleteModelVersion({ project: project.name, model: ref.name, version: ref.version }, unary());
    }
  } else {
    const version = await versionToDelete(project, kind, ref);
    described = `${KIND_NAMES[kind]} ${ref.name} v${version}${kind === "group" ? " and its data" : ""}`;
    run = () =>
      kind === "group"
        ? metadata.deleteFeatureGroup({ project: project.name, name: ref.name, version }, unary())
        : metadata.deleteFeatureView({ project: project.name, name: ref.name, version }, unary());
  }
  await confirmByName(`delete ${described} from project ${project.name}`, ref.name, { yes: options.yes, signal: ctx.signal });
  await run();
  if (ctx.json) ctx.output.out(toJson({ deleted: described, project: project.name }));
  else ctx.output.out(`deleted ${described} from project ${project.name}`);
}
