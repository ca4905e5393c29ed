import { clone } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { MonitoringReportSchema, type MonitoringReport } from "@granary/proto/metadata";
import type { FeatureViewRef } from "@granary/proto/types";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction } from "./catalogue-transaction.js";
import { viewId } from "./feature-views-store.js";
import { fromRow, toRow } from "./json-resource.js";

/** Stores a report of an existing view version; the id (increasing) and, if unset, the creation time are assigned. */
export async function createMonitoringReport(pool: Pool, report: MonitoringReport): Promise<MonitoringReport> {
  return inCatalogueTransaction(pool, async (tx) => {
    const ref = report.featureView!;
    const id = await viewId(tx, report.project, ref.name, ref.version);
    const stored = clone(MonitoringReportSchema, report);
    stored.createTime ??= timestampFromDate(tx.now);
    const { rows } = await tx.client.query<{ id: string }>("SELECT nextval('monitoring_reports_id_seq')::text AS id");
    stored.id = BigInt(rows[0]!.id);
    await tx.client.query("INSERT INTO monitoring_reports (id, view_id, create_time, resource) VALUES ($1, $2, $3, $4)", [
      stored.id.toString(),
      id,
      timestampDate(stored.createTime),
      toRow(MonitoringReportSchema, stored),
    ]);
    return stored;
  });
}

/** A view version's reports, newest first (NOT_FOUND for a view version that does not exist). */
export async function listMonitoringReports(
  pool: Pool,
  project: string,
  ref: FeatureViewRef,
  pageSize: number,
  pageToken: string,
): Promise<{ items: MonitoringReport[]; nextPageToken: string }> {
  const view = await viewId({ client: pool }, project, ref.name, ref.version);
  const size = pageSizeOf(pageSize);
  const query = ["monitoring_reports", project, ref.name, ref.version];
  const after = decodePageToken(pageToken, query);
  const { rows } = await pool.query<{ t: string; id: string; resource: unknown }>(
    `SELECT to_char(create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS t, id::text AS id, resource FROM monitoring_reports
     WHERE view_id = $1 AND ($2::timestamp IS NULL OR (create_time AT TIME ZONE 'UTC', id) < ($2::timestamp, $3::bigint))
     ORDER BY create_time DESC, id DESC LIMIT $4`,
    [view, after?.[0] ?? null, after?.[1] ?? "0", size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.t, r.id]);
  return { items: page.items.map((r) => fromRow(MonitoringReportSchema, r.resource)), nextPageToken: page.nextPageToken };
}
