import type { CommandContext } from "../context.js";
import { toJson } from "../output.js";

export interface ShareOptions {
  readonly with: string;
}

/** `granary share <project> <group> --with <project>`: read-only use of a feature group by another project. */
export async function shareCommand(ctx: CommandContext, project: string, group: string, options: ShareOptions): Promise<void> {
  const { metadata, unary } = ctx.granary.services;
  await metadata.shareFeatureGroup({ project, featureGroup: group, withProject: options.with }, unary(ctx.signal));
  ctx.output.out(
    ctx.json
      ? toJson({ project, feature_group: group, with_project: options.with, shared: true })
      : `feature group ${project}/${group} shared read-only with project ${options.with}`,
  );
}

/** `granary unshare <project> <group> --with <project>`: takes the share back. */
export async function unshareCommand(ctx: CommandContext, project: string, group: string, options: ShareOptions): Promise<void> {
  const { metadata, unary } = ctx.granary.services;
  await metadata.unshareFeatureGroup({ project, featureGroup: group, withProject: options.with }, unary(ctx.signal));
  ctx.output.out(
    ctx.json
      ? toJson({ project, feature_group: group, with_project: options.with, shared: false })
      : `feature group ${project}/${group} no longer shared with project ${options.with}`,
  );
}
