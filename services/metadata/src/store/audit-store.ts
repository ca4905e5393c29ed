import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "pg";
import { AuditEventSchema, type AuditEvent } from "@granary/proto/metadata";
import { decodePageToken, pageOf, pageSizeOf } from "@granary/server";
import { assertProjectExists } from "./feature-groups-store.js";

interface AuditRow {
  id: string;
  time: Date;
  actor: string;
  project: string;
  method: string;
  resource: string;
  service: string;
  code: string;
  key_id: string;
}

/** Appends events in one statement; their ids are assigned here (an event's own id is ignored). */
export async function insertAuditEvents(pool: Pool, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const column = <T>(f: (e: AuditEvent) => T): T[] => events.map(f);
  await pool.query(
    `INSERT INTO audit_events (time, actor, project, method, resource, service, code, key_id)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
    [
      column((e) => (e.time ? timestampDate(e.time) : new Date())),
      column((e) => e.actor),
      column((e) => e.project),
      column((e) => e.method),
      column((e) => e.resource),
      column((e) => e.service),
      column((e) => e.code),
      column((e) => e.keyId),
    ],
  );
}

/** A project's audit log, newest first. */
export async function listAuditEvents(
  pool: Pool,
  project: string,
  pageSize: number,
  pageToken: string,
): Promise<{ items: AuditEvent[]; nextPageToken: string }> {
  await assertProjectExists(pool, project);
  const size = pageSizeOf(pageSize);
  const query = ["audit_events", project];
  const after = decodePageToken(pageToken, query);
  const { rows } = await pool.query<AuditRow>(
    `SELECT id::text, time, actor, project, method, resource, service, code, key_id FROM audit_events
     WHERE project = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [project, after?.[0] ?? null, size + 1],
  );
  const page = pageOf(rows, size, query, (r) => [r.id]);
  return {
    items: page.items.map((r) =>
      create(AuditEventSchema, {
        id: BigInt(r.id),
        time: timestampFromDate(r.time),
        actor: r.actor,
        project: r.project,
        method: r.method,
        resource: r.resource,
        service: r.service,
        code: r.code,
        keyId: r.key_id,
      }),
    ),
    nextPageToken: page.nextPageToken,
  };
}
