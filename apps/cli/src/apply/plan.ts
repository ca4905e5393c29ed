import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Services } from "@granary/client";
import type { FeatureGroup, FeatureView } from "@granary/proto/metadata";
import type { Column } from "@granary/proto/types";
import { groupMessage, viewMessage } from "./build-messages.js";
import { diffGroup, diffView, type FieldChange } from "./diff.js";
import type { GroupDecl, Manifest, QueryDecl, ViewDecl } from "./manifest-types.js";
import type { Problem } from "./yaml-checker.js";

/** What the server holds, as apply reads it; undefined for what does not exist. */
export interface Catalogue {
  /** A group version; version 0 is the latest. */
  group(name: string, version: number): Promise<FeatureGroup | undefined>;
  view(name: string, version: number): Promise<FeatureView | undefined>;
}

export type Action =
  | { readonly kind: "create" }
  | { readonly kind: "unchanged" }
  | { readonly kind: "update"; readonly appended: readonly Column[]; readonly changes: readonly FieldChange[] }
  /** A different definition of an existing version: only a new version can hold it. */
  | { readonly kind: "conflict"; readonly changes: readonly FieldChange[]; readonly latestVersion: number };

export interface PlannedItem<M> {
  readonly kind: "feature group" | "feature view";
  readonly name: string;
  readonly version: number;
  readonly message: M;
  readonly server: M | undefined;
  readonly action: Action;
}

export interface Plan {
  readonly project: string;
  readonly groups: readonly PlannedItem<FeatureGroup>[];
  readonly views: readonly PlannedItem<FeatureView>[];
  /** Problems found only against the server (an unknown group or column): the file must change. */
  readonly problems: readonly Problem[];
}

/** Compares every declaration with the server's copy: nothing is changed here. */
export async function planApply(project: string, manifest: Manifest, catalogue: Catalogue): Promise<Plan> {
  const groups = await Promise.all(manifest.featureGroups.map((g) => planGroup(project, g, catalogue)));
  const lookup = await groupLookup(project, manifest, catalogue);
  const problems: Problem[] = [];
  const views: PlannedItem<FeatureView>[] = [];
  for (const v of manifest.featureViews) {
    const message = viewMessage(project, v, lookup, problems);
    if (message) views.push(await planView(v, message, catalogue));
  }
  return { project, groups, views, problems };
}

async function planGroup(project: string, g: GroupDecl, catalogue: Catalogue): Promise<PlannedItem<FeatureGroup>> {
  const message = groupMessage(project, g);
  const server = await catalogue.group(g.name, g.version);
  const base = { kind: "feature group" as const, name: g.name, version: g.version, message, server };
  if (!server) return { ...base, action: { kind: "create" } };
  const diff = diffGroup(server, message);
  if (diff.immutable.length > 0) {
    const latest = (await catalogue.group(g.name, 0))?.version ?? g.version;
    return { ...base, action: { kind: "conflict", changes: [...diff.immutable, ...diff.mutable], latestVersion: latest } };
  }
  if (diff.appended.length === 0 && diff.mutable.length === 0) return { ...base, action: { kind: "unchanged" } };
  return { ...base, action: { kind: "update", appended: diff.appended, changes: diff.mutable } };
}

async function planView(v: ViewDecl, message: FeatureView, catalogue: Catalogue): Promise<PlannedItem<FeatureView>> {
  const server = await catalogue.view(v.name, v.version);
  const base = { kind: "feature view" as const, name: v.name, version: v.version, message, server };
  if (!server) return { ...base, action: { kind: "create" } };
  const diff = diffView(server, message);
  if (diff.immutable.length > 0) {
    const latest = (await catalogue.view(v.name, 0))?.version ?? v.version;
    return { ...base, action: { kind: "conflict", changes: [...diff.immutable, ...diff.mutable], latestVersion: latest } };
  }
  if (diff.mutable.length === 0) return { ...base, action: { kind: "unchanged" } };
  return { ...base, action: { kind: "update", appended: [], changes: diff.mutable } };
}

/**
 * The groups views read: a version given in the query, else the highest version declared in the
 * file, else the latest on the server. Server groups are fetched up front so building is synchronous.
 */
async function groupLookup(project: string, manifest: Manifest, catalogue: Catalogue) {
  const declared = new Map<string, GroupDecl[]>();
  for (const g of manifest.featureGroups) declared.set(g.name, [...(declared.get(g.name) ?? []), g]);
  const fromFile = (name: string, version: number | undefined) => {
    const list = declared.get(name) ?? [];
    const g =
      version === undefined
        ? list.reduce<GroupDecl | undefined>((best, x) => (!best || x.version > best.version ? x : best), undefined)
        : list.find((x) => x.version === version);
    return g && groupMessage(project, g);
  };
  const fetched = new Map<string, FeatureGroup | undefined>();
  const refs: { name: string; version: number | undefined }[] = [];
  const collect = (q: QueryDecl) => {
    refs.push({ name: q.group, version: q.version });
    q.joins.forEach((j) => collect(j.query));
  };
  manifest.featureViews.forEach((v) => collect(v.query));
  await Promise.all(
    refs
      .filter((r) => !fromFile(r.name, r.version))
      .map(async (r) => fetched.set(`${r.name}:${r.version ?? 0}`, await catalogue.group(r.name, r.version ?? 0))),
  );
  return (name: string, version: number | undefined) => fromFile(name, version) ?? fetched.get(`${name}:${version ?? 0}`);
}

/** What happened to one declaration when the plan was carried out. */
export interface Applied {
  readonly item: PlannedItem<FeatureGroup> | PlannedItem<FeatureView>;
  readonly result: "created" | "unchanged" | "updated";
}

/**
 * Carries out a plan without conflicts, groups before the views that read them. The services'
 * get-or-create makes a repeat harmless; a failure stops the run, leaving what was done in place.
 */
export async function executePlan(plan: Plan, services: Services, onApplied: (applied: Applied) => void): Promise<void> {
  const { metadata, unary } = services;
  for (const item of plan.groups) {
    const a = item.action;
    if (a.kind === "create") {
      await metadata.createFeatureGroup({ featureGroup: item.message }, unary());
      onApplied({ item, result: "created" });
    } else if (a.kind === "update") {
      let etag = item.server!.etag;
      if (a.appended.length > 0) {
        const res = await metadata.appendFeatures({ project: plan.project, name: item.name, version: item.version, columns: [...a.appended], etag }, unary());
        etag = res.featureGroup?.etag ?? "";
      }
      if (a.changes.length > 0) {
        await metadata.updateFeatureGroup(
          { featureGroup: { ...item.message, etag }, updateMask: create(FieldMaskSchema, { paths: a.changes.map((c) => c.field) }) },
          unary(),
        );
      }
      onApplied({ item, result: "updated" });
    } else if (a.kind === "unchanged") {
      onApplied({ item, result: "unchanged" });
    }
  }
  for (const item of plan.views) {
    const a = item.action;
    if (a.kind === "create") {
      await metadata.createFeatureView({ featureView: item.message }, unary());
      onApplied({ item, result: "created" });
    } else if (a.kind === "update") {
      await metadata.updateFeatureView(
        { featureView: { ...item.message, etag: item.server!.etag }, updateMask: create(FieldMaskSchema, { paths: a.changes.map((c) => c.field) }) },
        unary(),
      );
      onApplied({ item, result: "updated" });
    } else if (a.kind === "unchanged") {
      onApplied({ item, result: "unchanged" });
    }
  }
}

/** The catalogue of a project on the server; NOT_FOUND reads as absent. */
export function serverCatalogue(services: Services, project: string): Catalogue {
  const absent = (err: unknown) => {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  };
  return {
    group: (name, version) => services.metadata.getFeatureGroup({ project, name, version }, services.unary()).then((r) => r.featureGroup, absent),
    view: (name, version) => services.metadata.getFeatureView({ project, name, version }, services.unary()).then((r) => r.featureView, absent),
  };
}
