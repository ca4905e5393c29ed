import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { FailedPreconditionError, NotFoundError } from "@granary/errors";
import {
  ChangeKind,
  FeatureLoggingSchema,
  FeatureViewSchema,
  LineageEdgeSchema,
  LineageNodeKind,
  type FeatureGroup,
  type FeatureLogging,
  type FeatureView,
} from "@granary/proto/metadata";
import { FeatureGroupRefSchema } from "@granary/proto/types";
import { loggingFeatureGroup, validateFeatureGroup } from "@granary/catalogue-rules";
import { inCatalogueTransaction, type CatalogueTx } from "./catalogue-transaction.js";
import { findGroup, insertGroup } from "./feature-groups-store.js";
import { requireView, validateLoggingAndMonitoring } from "./feature-views-store.js";
import { toRow } from "./json-resource.js";
import { addEdge, lineageNode } from "./lineage-store.js";
import { lockProject } from "./projects-store.js";

/**
 * Get-or-create the logging feature group of a view version ("<view>_<version>_logging", schema from
 * loggingSchema) and, when `logging` is given, set the view's logging settings; in one catalogue
 * transaction with the view's logging_feature_group and a lineage edge view → group. Calling it
 * again returns the same group. Version 0 means the view's latest version.
 */
export async function enableFeatureLogging(
  pool: Pool,
  project: string,
  name: string,
  version: number,
  logging: FeatureLogging | undefined,
  createdBy: string,
): Promise<{ featureView: FeatureView; loggingFeatureGroup: FeatureGroup }> {
  return inCatalogueTransaction(pool, async (tx) => {
    await lockProject(tx, project);
    const current = await requireView(tx, project, name, version || (await latestViewVersion(tx, project, name)));
    const wanted = loggingFeatureGroup(current, createdBy);
    validateFeatureGroup(wanted);
    let group = await findGroup(tx, project, wanted.name, wanted.version, true);
    if (group && !sameSchema(group, wanted)) {
      throw new FailedPreconditionError(
        `feature group "${wanted.name}" version 1 exists but is not the logging group of feature view "${current.name}" version ${current.version} (another schema); delete or rename it first`,
      );
    }
    const ref = create(FeatureGroupRefSchema, { name: wanted.name, version: wanted.version });
    const settingsChange = logging !== undefined && !sameLogging(current.logging, logging);
    const refChange = current.loggingFeatureGroup?.name !== ref.name || current.loggingFeatureGroup.version !== ref.version;
    if (!group) {
      group = await insertGroup(tx, wanted);
      const viewNode = lineageNode(LineageNodeKind.FEATURE_VIEW, current.name, current.version);
      await addEdge(tx, project, create(LineageEdgeSchema, { from: viewNode, to: lineageNode(LineageNodeKind.FEATURE_GROUP, group.name, group.version) }));
    }
    if (!settingsChange && !refChange) return { featureView: current, loggingFeatureGroup: group };
    const next = clone(FeatureViewSchema, current);
    if (logging !== undefined) next.logging = clone(FeatureLoggingSchema, logging);
    next.loggingFeatureGroup = ref;
    validateLoggingAndMonitoring(next);
    next.updateTime = timestampFromDate(tx.now);
    next.etag = await tx.recordChange({ kind: ChangeKind.UPDATED, project, resource: { case: "featureView", value: next } });
    await tx.client.query("UPDATE feature_views SET resource = $2, etag = $3 WHERE id = $1", [next.id.toString(), toRow(FeatureViewSchema, next), next.etag]);
    return { featureView: next, loggingFeatureGroup: group };
  });
}

/** Columns, key and event time: what the logs need (description, tags, statistics may have been changed since). */
function sameSchema(a: FeatureGroup, b: FeatureGroup): boolean {
  const columns = (g: FeatureGroup) => JSON.stringify(g.columns.map((c) => [c.name, c.type?.scalar, c.type?.list, c.type?.dimension]));
  return columns(a) === columns(b) && a.primaryKey.join() === b.primaryKey.join() && a.eventTime === b.eventTime;
}

function sameLogging(a: FeatureLogging | undefined, b: FeatureLogging): boolean {
  return (a?.onlineEnabled ?? false) === b.onlineEnabled && (a?.sampleRate ?? 0) === b.sampleRate;
}

async function latestViewVersion(tx: CatalogueTx, project: string, name: string): Promise<number> {
  const { rows } = await tx.client.query<{ v: number | null }>("SELECT max(version) AS v FROM feature_views WHERE project = $1 AND name = $2", [project, name]);
  if (!rows[0]?.v) throw new NotFoundError(`feature view "${name}" does not exist in project "${project}"`);
  return rows[0].v;
}
