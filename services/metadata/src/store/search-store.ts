import { create } from "@bufbuild/protobuf";
import type { Pool } from "pg";
import { SearchResultKind, SearchResultSchema, type SearchResult } from "@granary/proto/metadata";
import { decodePageToken, encodePageToken, pageSizeOf } from "@granary/server";
import { assertProjectExists } from "./feature-groups-store.js";

export interface SearchOptions {
  query: string;
  tags: readonly string[];
  kinds: readonly SearchResultKind[];
  pageSize: number;
  pageToken: string;
}

/**
 * Groups, views and models of a project whose name starts with the query or whose description
 * holds its words, restricted to resources carrying every given tag. Best matches first: exact
 * name, then name prefix, then description. Models are known here through their lineage edges.
 */
export async function search(pool: Pool, project: string, o: SearchOptions): Promise<{ results: SearchResult[]; nextPageToken: string }> {
  await assertProjectExists(pool, project);
  const size = pageSizeOf(o.pageSize);
  const kinds = o.kinds.length > 0 ? o.kinds : [SearchResultKind.FEATURE_GROUP, SearchResultKind.FEATURE_VIEW, SearchResultKind.MODEL];
  const queryKey = ["search", project, o.query, [...o.tags].sort(), [...kinds].sort()];
  const offset = Number(decodePageToken(o.pageToken, queryKey)?.[0] ?? 0);
  const prefix = `${o.query
    .trim()
    .toLowerCase()
    .replace(/[\\%_]/g, "\\$&")}%`;
  const { rows } = await pool.query<{ kind: number; name: string; version: number; description: string; tags: string[]; score: number }>(
    `WITH q AS (SELECT $2::text AS raw, $3::text AS prefix, plainto_tsquery('simple', $2) AS words),
     resources AS (
       SELECT ${SearchResultKind.FEATURE_GROUP} AS kind, name, version, description, tags FROM feature_groups WHERE project = $1
       UNION ALL
       SELECT ${SearchResultKind.FEATURE_VIEW}, name, version, description, tags FROM feature_views WHERE project = $1
       UNION ALL
       SELECT DISTINCT ${SearchResultKind.MODEL}, edge->'to'->>'name', (edge->'to'->>'version')::int, '', '{}'::text[]
         FROM lineage_edges WHERE project = $1 AND to_node LIKE 'MODEL_VERSION/%'
     )
     SELECT r.kind, r.name, r.version, r.description, r.tags,
            CASE WHEN q.raw = '' THEN 0
                 WHEN r.name = lower(q.raw) THEN 3
                 WHEN r.name LIKE q.prefix THEN 2
                 ELSE 1 END AS score
     FROM resources r, q
     WHERE r.kind = ANY ($4::int[])
       AND r.tags @> $5::text[]
       AND (q.raw = '' OR r.name LIKE q.prefix OR to_tsvector('simple', r.description) @@ q.words)
     ORDER BY score DESC, r.kind, r.name, r.version
     OFFSET $6 LIMIT $7`,
    [project, o.query.trim(), prefix, kinds, o.tags, offset, size + 1],
  );
  const results = rows
    .slice(0, size)
    .map((r) => create(SearchResultSchema, { kind: r.kind, name: r.name, version: r.version, description: r.description, tags: r.tags, score: r.score }));
  return { results, nextPageToken: rows.length > size ? encodePageToken(queryKey, [offset + size]) : "" };
}
