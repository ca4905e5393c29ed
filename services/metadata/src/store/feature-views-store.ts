import { clone, create, equals } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@granary/errors";
import {
  ChangeKind,
  FeatureGroupSchema,
  FeatureLoggingSchema,
  FeatureViewSchema,
  LineageEdgeSchema,
  LineageNodeKind,
  MonitoringConfigSchema,
  type DriftThresholds,
  type FeatureGroup,
  type FeatureView,
} from "@granary/proto/metadata";
import type { FeatureGroupRef } from "@granary/proto/types";
import { checkIdentifier, collectGroupRefs, resolveFeatureView, validateTags } from "@granary/catalogue-rules";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction, type CatalogueTx } from "./catalogue-transaction.js";
import { assertProjectExists } from "./feature-groups-store.js";
import { fromRow, toRow } from "./json-resource.js";
import { addEdge, lineageNode, removeEdgesOf } from "./lineage-store.js";
import { lockProject, staleEtag } from "./projects-store.js";

const label = (project: string, name: string, version: number) => `feature view "${name}" version ${version} in project "${project}"`;

/** Logging and monitoring settings: a sample rate in [0, 1], thresholds of the view's own output columns, none negative. */
export function validateLoggingAndMonitoring(view: FeatureView): void {
  const rate = view.logging?.sampleRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) {
    throw new InvalidArgumentError(`feature_view.logging.sample_rate must lie in [0, 1] (0 means 1), got ${rate}`, {
      field: "feature_view.logging.sample_rate",
    });
  }
  const checkThresholds = (t: DriftThresholds | undefined, field: string) => {
    for (const [name, value] of [
      ["psi", t?.psi],
      ["ks", t?.ks],
      ["null_share_increase", t?.nullShareIncrease],
    ] as const) {
      if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
        throw new InvalidArgumentError(`${field}.${name} must be a finite number of 0 or more, got ${value}`, { field: `${field}.${name}` });
      }
    }
  };
  checkThresholds(view.monitoring?.defaultThresholds, "feature_view.monitoring.default_thresholds");
  const outputs = new Set(view.outputColumns.map((c) => c.name));
  const seen = new Set<string>();
  view.monitoring?.features.forEach((f, i) => {
    const field = `feature_view.monitoring.features[${i}]`;
    if (outputs.size > 0 && !outputs.has(f.column)) {
      throw new InvalidArgumentError(`${field}.column "${f.column}" is not an output column of the view (it has ${[...outputs].join(", ")})`, {
        field: `${field}.column`,
      });
    }
    if (seen.has(f.column)) throw new InvalidArgumentError(`${field}.column "${f.column}" has thresholds twice`, { field: `${field}.column` });
    seen.add(f.column);
    checkThresholds(f.thresholds, `${field}.thresholds`);
  });
}

/** What the user defines; derived and server-assigned fields cleared. */
function definitionOf(view: FeatureView): FeatureView {
  const copy = clone(FeatureViewSchema, view);
  copy.outputColumns = [];
  copy.servingKeys = [];
  copy.resolved = undefined;
  copy.id = 0n;
  copy.createTime = undefined;
  copy.updateTime = undefined;
  copy.etag = "";
  copy.logging = undefined;
  copy.monitoring = undefined;
  copy.loggingFeatureGroup = undefined;
  return copy;
}

/**
 * Resolves the query against the groups it names (INVALID_ARGUMENT naming the bad part), then
 * get-or-create as for groups. Records group → view lineage.
 */
export async function createFeatureView(pool: Pool, view: FeatureView): Promise<{ featureView: FeatureView; created: boolean }> {
  checkIdentifier(view.project, "feature_view.project", "project");
  checkIdentifier(view.name, "feature_view.name", "feature view name");
  if (view.version < 1) throw new InvalidArgumentError(`feature_view.version must be 1 or more, got ${view.version}`, { field: "feature_view.version" });
  validateTags(view.tags, "feature_view.tags");
  if (!view.query) throw new InvalidArgumentError("feature_view.query is required", { field: "feature_view.query" });
  return inCatalogueTransaction(pool, async (tx) => {
    await lockProject(tx, view.project);
    const refs = collectGroupRefs(view.query!);
    const groups = await loadGroups(tx, view.project, refs);
    const resolved = resolveFeatureView(view, (ref) => groups.get(refKey(ref))?.group);
    const existing = await findView(tx, view.project, view.name, view.version);
    if (existing) {
      if (equals(FeatureViewSchema, definitionOf(existing), definitionOf(view))) return { featureView: existing, created: false };
      throw new AlreadyExistsError(
        `${label(view.project, view.name, view.version)} already exists with a different definition; create version ${(await latestVersion(tx, view.project, view.name)) + 1}`,
      );
    }
    const { rows } = await tx.client.query<{ id: string }>("SELECT nextval(pg_get_serial_sequence('feature_views', 'id'))::text AS id");
    const stored = clone(FeatureViewSchema, view);
    stored.outputColumns = resolved.outputColumns;
    stored.servingKeys = resolved.servingKeys;
    stored.resolved = resolved.resolved;
    stored.loggingFeatureGroup = undefined;
    validateLoggingAndMonitoring(stored);
    stored.id = BigInt(rows[0]?.id ?? "0");
    stored.createTime = timestampFromDate(tx.now);
    stored.updateTime = stored.createTime;
    stored.etag = await tx.recordChange({ kind: ChangeKind.CREATED, project: view.project, resource: { case: "featureView", value: stored } });
    await tx.client.query(
      `INSERT INTO feature_views (id, project, name, version, tags, description, resource, etag)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [stored.id.toString(), stored.project, stored.name, stored.version, stored.tags, stored.description, toRow(FeatureViewSchema, stored), stored.etag],
    );
    const viewNode = lineageNode(LineageNodeKind.FEATURE_VIEW, stored.name, stored.version);
    for (const ref of resolved.sourceGroups) {
      const source = groups.get(refKey(ref));
      if (!source) continue;
      await tx.client.query("INSERT INTO feature_view_sources (view_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [stored.id.toString(), source.id]);
      const from = lineageNode(LineageNodeKind.FEATURE_GROUP, ref.name, ref.version);
      await addEdge(tx, stored.project, create(LineageEdgeSchema, { from, to: viewNode }));
    }
    return { featureView: stored, created: true };
  });
}

export async function getFeatureView(pool: Pool, project: string, name: string, version: number): Promise<FeatureView> {
  const { rows } = await pool.query<{ resource: unknown }>(
    `SELECT resource FROM feature_views WHERE project = $1 AND name = $2 AND ($3 = 0 OR version = $3)
     ORDER BY version DESC LIMIT 1`,
    [project, name, version],
  );
  if (!rows[0]) {
    throw new NotFoundError(
      version === 0 ? `feature view "${name}" does not exist in project "${project}"` : `${label(project, name, version)} does not exist`,
    );
  }
  return fromRow(FeatureViewSchema, rows[0].resource);
}

export async function listFeatureViews(
  pool: Pool,
  project: string,
  o: { pageSize: number; pageToken: string; name: string; tag: string },
): Promise<{ items: FeatureView[]; nextPageToken: string }> {
  await assertProjectExists(pool, project);
  const size = pageSizeOf(o.pageSize);
  const query = ["feature_views", project, o.name, o.tag];
  const after = decodePageToken(o.pageToken, query);
  const { rows } = await pool.query<{ name: string; version: number; resource: unknown }>(
    `SELECT name, version, resource FROM feature_views
     WHERE project = $1 AND ($2 = '' OR name = $2) AND ($3 = '' OR $3 = ANY (tags))
       AND ($4::text IS NULL OR (name, version) > ($4, $5::int))
     ORDER BY name, version LIMIT $6`,
    [project, o.name, o.tag, after?.[0] ?? null, after?.[1] ?? 0, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.name, r.version]);
  return { items: page.items.map((r) => fromRow(FeatureViewSchema, r.resource)), nextPageToken: page.nextPageToken };
}

const MUTABLE_VIEW_FIELDS = ["description", "tags", "logging", "monitoring"] as const;

/** Description, tags and the logging and monitoring settings may change; the query, labels and transformations define the version. */
export async function updateFeatureView(pool: Pool, patch: FeatureView, paths: readonly string[]): Promise<FeatureView> {
  return inCatalogueTransaction(pool, async (tx) => {
    const current = await requireView(tx, patch.project, patch.name, patch.version);
    if (patch.etag !== "" && patch.etag !== current.etag) throw staleEtag("feature view", patch.name);
    const mutable: readonly string[] = MUTABLE_VIEW_FIELDS;
    const immutable = paths.filter((p) => !mutable.includes(p));
    const next = clone(FeatureViewSchema, current);
    const effective = paths.length > 0 ? paths : MUTABLE_VIEW_FIELDS;
    if (effective.includes("description")) next.description = patch.description;
    if (effective.includes("tags")) next.tags = [...patch.tags];
    if (effective.includes("logging")) next.logging = patch.logging && clone(FeatureLoggingSchema, patch.logging);
    if (effective.includes("monitoring")) next.monitoring = patch.monitoring && clone(MonitoringConfigSchema, patch.monitoring);
    if (immutable.length > 0 || (paths.length === 0 && !equals(FeatureViewSchema, definitionOf(next), definitionOf(patch)))) {
      throw new FailedPreconditionError(
        `only the description, tags, logging and monitoring of ${label(patch.project, patch.name, patch.version)} can change; create version ${(await latestVersion(tx, patch.project, patch.name)) + 1} for a different query`,
      );
    }
    validateTags(next.tags, "feature_view.tags");
    validateLoggingAndMonitoring(next);
    next.updateTime = timestampFromDate(tx.now);
    next.etag = await tx.recordChange({ kind: ChangeKind.UPDATED, project: next.project, resource: { case: "featureView", value: next } });
    await tx.client.query("UPDATE feature_views SET tags = $2, description = $3, resource = $4, etag = $5 WHERE id = $1", [
      next.id.toString(),
      next.tags,
      next.description,
      toRow(FeatureViewSchema, next),
      next.etag,
    ]);
    return next;
  });
}

export async function deleteFeatureView(pool: Pool, project: string, name: string, version: number, etag: string): Promise<void> {
  await inCatalogueTransaction(pool, async (tx) => {
    const current = await requireView(tx, project, name, version);
    if (etag !== "" && etag !== current.etag) throw staleEtag("feature view", name);
    const { rows } = await tx.client.query<{ n: string }>("SELECT count(*)::text AS n FROM training_datasets WHERE view_id = $1", [current.id.toString()]);
    if (Number(rows[0]?.n ?? 0) > 0) {
      throw new FailedPreconditionError(`${label(project, name, version)} has ${rows[0]?.n} training dataset(s); delete them first`);
    }
    // Its logs outlive it only on purpose: the logging group goes first (see docs/feature-logging.md).
    const logs = current.loggingFeatureGroup;
    if (
      logs &&
      (await tx.client.query("SELECT 1 FROM feature_groups WHERE project = $1 AND name = $2 AND version = $3", [project, logs.name, logs.version])).rowCount
    ) {
      throw new FailedPreconditionError(
        `${label(project, name, version)} has its feature logs in feature group "${logs.name}" version ${logs.version}; delete that group first (its logs go with it)`,
      );
    }
    await removeEdgesOf(tx, project, lineageNode(LineageNodeKind.FEATURE_VIEW, name, version));
    await tx.client.query("DELETE FROM feature_views WHERE id = $1", [current.id.toString()]);
    await tx.recordChange({ kind: ChangeKind.DELETED, project, resource: { case: "featureView", value: current } });
  });
}

export async function requireView(tx: CatalogueTx, project: string, name: string, version: number): Promise<FeatureView> {
  const view = await findView(tx, project, name, version);
  if (!view) throw new NotFoundError(`${label(project, name, version)} does not exist`);
  return view;
}

/** The view's row id, for tables keyed by it. */
export async function viewId(tx: CatalogueTx | { client: Pool }, project: string, name: string, version: number): Promise<string> {
  const { rows } = await tx.client.query<{ id: string }>("SELECT id::text AS id FROM feature_views WHERE project = $1 AND name = $2 AND version = $3", [
    project,
    name,
    version,
  ]);
  if (!rows[0]) throw new NotFoundError(`${label(project, name, version)} does not exist`);
  return rows[0].id;
}

async function findView(tx: CatalogueTx, project: string, name: string, version: number): Promise<FeatureView | undefined> {
  const { rows } = await tx.client.query<{ resource: unknown }>(
    "SELECT resource FROM feature_views WHERE project = $1 AND name = $2 AND version = $3 FOR UPDATE",
    [project, name, version],
  );
  return rows[0] ? fromRow(FeatureViewSchema, rows[0].resource) : undefined;
}

async function latestVersion(tx: CatalogueTx, project: string, name: string): Promise<number> {
  const { rows } = await tx.client.query<{ v: number | null }>("SELECT max(version) AS v FROM feature_views WHERE project = $1 AND name = $2", [project, name]);
  return rows[0]?.v ?? 0;
}

const refKey = (ref: Pick<FeatureGroupRef, "name" | "version">) => `${ref.name}/${ref.version}`;

async function loadGroups(tx: CatalogueTx, project: string, refs: readonly FeatureGroupRef[]): Promise<Map<string, { id: string; group: FeatureGroup }>> {
  const { rows } = await tx.client.query<{ id: string; resource: unknown }>(
    `SELECT id::text AS id, resource FROM feature_groups
     WHERE project = $1 AND (name, version) IN (SELECT * FROM unnest($2::text[], $3::int[]))`,
    [project, refs.map((r) => r.name), refs.map((r) => r.version)],
  );
  const groups = new Map<string, { id: string; group: FeatureGroup }>();
  for (const row of rows) {
    const group = fromRow(FeatureGroupSchema, row.resource);
    groups.set(refKey(group), { id: row.id, group });
  }
  return groups;
}

/**
 * Views stored before the service resolved views carry no `resolved`; readers need it. Resolves each
 * against its groups once, at start, and records the result as an update so every watcher sees it.
 * A view whose groups no longer resolve is left as it is (reads of it fail as before). Returns how
 * many views were filled in.
 */
export async function backfillResolvedViews(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ project: string; name: string; version: number }>(
    "SELECT project, name, version FROM feature_views WHERE NOT (resource ? 'resolved') ORDER BY id",
  );
  let filled = 0;
  for (const row of rows) {
    const done = await inCatalogueTransaction(pool, async (tx) => {
      const current = await requireView(tx, row.project, row.name, row.version);
      if (current.resolved) return false;
      const groups = await loadGroups(tx, current.project, collectGroupRefs(current.query!));
      let resolved;
      try {
        resolved = resolveFeatureView(current, (ref) => groups.get(refKey(ref))?.group);
      } catch {
        return false;
      }
      const next = clone(FeatureViewSchema, current);
      next.resolved = resolved.resolved;
      next.etag = await tx.recordChange({ kind: ChangeKind.UPDATED, project: next.project, resource: { case: "featureView", value: next } });
      await tx.client.query("UPDATE feature_views SET resource = $2, etag = $3 WHERE id = $1", [next.id.toString(), toRow(FeatureViewSchema, next), next.etag]);
      return true;
    });
    if (done) filled++;
  }
  return filled;
}
