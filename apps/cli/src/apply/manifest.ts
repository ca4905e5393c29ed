import { checkGroup } from "./check-group.js";
import { checkView } from "./check-view.js";
import type { GroupDecl, Manifest, ViewDecl } from "./manifest-types.js";
import { At, type PathSegment } from "./yaml-checker.js";

const TOP_FIELDS = ["project", "feature_groups", "feature_views"] as const;

/**
 * Checks a parsed YAML document against the format of README.md, returning the declarations and
 * every problem found, each at its path (`feature_groups[1].columns[2].type: unknown type "dobule"`).
 */
export function checkManifest(document: unknown): { manifest: Manifest; problems: At["problems"] } {
  const root = At.root(document);
  if (document === undefined || document === null) {
    root.fail("the file is empty: declare feature_groups and/or feature_views");
    return { manifest: { featureGroups: [], featureViews: [] }, problems: root.problems };
  }
  const top = root.object(TOP_FIELDS, "a mapping with project, feature_groups and feature_views");
  if (!top) return { manifest: { featureGroups: [], featureViews: [] }, problems: root.problems };
  const project = top["project"]!.identifier("project", { required: false });
  const featureGroups = (top["feature_groups"]!.list() ?? []).map(checkGroup).filter((g): g is GroupDecl => g !== undefined);
  const featureViews = (top["feature_views"]!.list() ?? []).map(checkView).filter((v): v is ViewDecl => v !== undefined);
  if (!top["feature_groups"]!.present && !top["feature_views"]!.present) root.fail("declares nothing: add feature_groups and/or feature_views");
  duplicates(featureGroups, root, "feature group");
  duplicates(featureViews, root, "feature view");
  return { manifest: { project, featureGroups, featureViews }, problems: root.problems };
}

function duplicates(items: readonly { path: readonly PathSegment[]; name: string; version: number }[], root: At, what: string): void {
  const seen = new Map<string, readonly PathSegment[]>();
  for (const item of items) {
    const key = `${item.name}:${item.version}`;
    const first = seen.get(key);
    if (first)
      new At(root.problems, item.path, undefined).fail(`${what} "${item.name}" version ${item.version} is declared twice (first at ${first.join(".")})`);
    else seen.set(key, item.path);
  }
}
