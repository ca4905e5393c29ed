import { setTimeout as delay } from "node:timers/promises";
import type { Pool } from "pg";
import { OutOfRangeError } from "@granary/errors";
import type { Change } from "@granary/proto/metadata";
import type { ChangeFeed } from "../store/change-feed.js";

const RETRY_MS = 1000;

export interface AccessChangeHandlers {
  /** A key or share changed (on this replica or another one). */
  onChange(change: Change): void;
  /** Changes may have been missed: forget everything cached. */
  onGap(): void;
  readonly logger: { warn(obj: object, msg?: string): void };
}

/**
 * Follows the catalogue's change feed from its head, in the background, and hands key and share
 * changes on: a key revoked through any metadata replica leaves every replica's cache within the
 * feed's delay (a NOTIFY, at worst its one-second poll). Resumes after a lost connection from the
 * last revision seen, so nothing is skipped.
 */
export async function followAccessChanges(pool: Pool, feed: ChangeFeed, handlers: AccessChangeHandlers): Promise<{ stop(): Promise<void> }> {
  const stopping = new AbortController();
  let from = await headRevision(pool);
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        for await (const item of feed.watch("", from, stopping.signal)) {
          if ("caughtUp" in item) continue;
          from = item.revision;
          if (item.resource.case === "apiKey" || item.resource.case === "share") handlers.onChange(item);
        }
        return; // the feed closed or we were stopped
      } catch (err) {
        if (stopping.signal.aborted) return;
        if (err instanceof OutOfRangeError) {
          handlers.onGap();
          from = await headRevision(pool).catch(() => from);
        } else {
          handlers.logger.warn({ err }, "cannot follow key and share changes; retrying");
        }
        await delay(RETRY_MS, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}

async function headRevision(pool: Pool): Promise<bigint> {
  const { rows } = await pool.query<{ head: string }>("SELECT coalesce(max(revision), 0)::text AS head FROM changes");
  return BigInt(rows[0]?.head ?? "0");
}
