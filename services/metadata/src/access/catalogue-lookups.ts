import type { Pool } from "pg";
import type { AccessLookups } from "@granary/auth";
import { loadShareMap, shareKey } from "../store/shares-store.js";

const NONE: ReadonlySet<string> = new Set();

export interface CatalogueLookups extends AccessLookups {
  /** Forget the shares held in memory (a share changed); the next lookup reads them again. */
  invalidateShares(): void;
}

/**
 * What the authorizer asks of the catalogue, answered from PostgreSQL. Group creators are read per
 * call (only writes by data scientists ask); shares, asked by every shared read, are held in
 * memory and read again after a share changes.
 */
export function catalogueLookups(pool: Pool, translate: (err: unknown) => unknown = (err) => err): CatalogueLookups {
  let shares: Promise<Map<string, Set<string>>> | undefined;
  return {
    async groupCreator(project, group, version) {
      try {
        const { rows } = await pool.query<{ created_by: string | null }>(
          `SELECT resource->>'createdBy' AS created_by FROM feature_groups
           WHERE project = $1 AND name = $2 AND ($3 = 0 OR version = $3) ORDER BY version DESC LIMIT 1`,
          [project, group, version],
        );
        return rows[0] ? (rows[0].created_by ?? "") : undefined;
      } catch (err) {
        throw translate(err);
      }
    },
    async sharedWith(project, group) {
      const loading = (shares ??= loadShareMap(pool));
      try {
        return (await loading).get(shareKey(project, group)) ?? NONE;
      } catch (err) {
        if (shares === loading) shares = undefined;
        throw translate(err);
      }
    },
    invalidateShares() {
      shares = undefined;
    },
  };
}
