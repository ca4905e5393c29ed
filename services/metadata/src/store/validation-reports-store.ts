import { randomUUID } from "node:crypto";
import { clone } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { ValidationReportSchema, type ValidationReport } from "@granary/proto/metadata";
import type { FeatureGroupRef } from "@granary/proto/types";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { inCatalogueTransaction } from "./catalogue-transaction.js";
import { groupId } from "./commits-store.js";
import { requireGroup } from "./feature-groups-store.js";
import { fromRow, toRow } from "./json-resource.js";

export async function createValidationReport(pool: Pool, report: ValidationReport): Promise<ValidationReport> {
  return inCatalogueTransaction(pool, async (tx) => {
    const ref = report.featureGroup!;
    const group = await requireGroup(tx, report.project, ref.name, ref.version);
    const stored = clone(ValidationReportSchema, report);
    stored.id = randomUUID();
    stored.createTime ??= timestampFromDate(tx.now);
    await tx.client.query("INSERT INTO validation_reports (id, group_id, create_time, resource) VALUES ($1, $2, $3, $4)", [
      stored.id,
      group.id.toString(),
      timestampDate(stored.createTime),
      toRow(ValidationReportSchema, stored),
    ]);
    return stored;
  });
}

/** Newest first. */
export async function listValidationReports(
  pool: Pool,
  project: string,
  ref: FeatureGroupRef,
  pageSize: number,
  pageToken: string,
): Promise<{ items: ValidationReport[]; nextPageToken: string }> {
  const group = await groupId(pool, project, ref);
  const size = pageSizeOf(pageSize);
  const query = ["validation_reports", project, ref.name, ref.version];
  const after = decodePageToken(pageToken, query);
  const { rows } = await pool.query<{ t: string; id: string; resource: unknown }>(
    `SELECT to_char(create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS t, id::text AS id, resource FROM validation_reports
     WHERE group_id = $1 AND ($2::timestamp IS NULL OR (create_time AT TIME ZONE 'UTC', id) < ($2::timestamp, $3::uuid))
     ORDER BY create_time DESC, id DESC LIMIT $4`,
    [group, after?.[0] ?? null, after?.[1] ?? "00000000-0000-0000-0000-000000000000", size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.t, r.id]);
  return { items: page.items.map((r) => fromRow(ValidationReportSchema, r.resource)), nextPageToken: page.nextPageToken };
}
