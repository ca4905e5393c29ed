import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool, PoolClient } from "pg";
import { withTransaction } from "@granary/postgres";
import { ChangeSchema, type Change, type ChangeKind } from "@granary/proto/metadata";
import { toRow } from "./json-resource.js";

/** Channel on which committed revisions are announced (LISTEN/NOTIFY). */
export const CHANGES_CHANNEL = "granary_metadata_changes";

// One key for every catalogue writer: see CatalogueTx.
const WRITE_LOCK = 7_310_472_912_001n;

/** What changed: the kind, and the resource after the change (before it, for a deletion). */
export interface ChangeInit {
  readonly kind: ChangeKind;
  readonly project: string;
  readonly resource: Change["resource"];
}

/**
 * A transaction that changes the catalogue. It holds one advisory lock from its first statement to
 * its commit, so revisions are handed out gapless and commit in order — WatchChanges readers never
 * skip a revision that commits late. Metadata writes are few and short; serialising them is cheap
 * and also makes etag checks race-free.
 */
export interface CatalogueTx {
  readonly client: PoolClient;
  /** The time of this transaction, the same for every resource it touches. */
  readonly now: Date;
  /** Records a change; its revision is returned and doubles as the changed resource's etag. */
  recordChange(change: ChangeInit): Promise<string>;
}

export async function inCatalogueTransaction<T>(pool: Pool, fn: (tx: CatalogueTx) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [WRITE_LOCK.toString()]);
    const { rows } = await client.query<{ last: string | null; now: Date }>("SELECT (SELECT max(revision) FROM changes)::text AS last, now() AS now");
    let revision = BigInt(rows[0]?.last ?? "0");
    const now = rows[0]?.now ?? new Date();
    const tx: CatalogueTx = {
      client,
      now,
      async recordChange(init) {
        revision += 1n;
        const change: Change = create(ChangeSchema, {
          kind: init.kind,
          project: init.project,
          resource: init.resource,
          revision,
          changeTime: timestampFromDate(now),
        });
        await client.query("INSERT INTO changes (revision, project, change_time, change) VALUES ($1, $2, $3, $4)", [
          revision.toString(),
          change.project,
          now,
          toRow(ChangeSchema, change),
        ]);
        await client.query("SELECT pg_notify($1, $2)", [CHANGES_CHANNEL, revision.toString()]);
        return revision.toString();
      },
    };
    return fn(tx);
  });
}
