// The project's catalogue search as plain objects.
import { SearchResultKind } from "@granary/proto/metadata";
import type { Services } from "./services.js";

export type SearchKind = "featureGroup" | "featureView" | "model";

export interface SearchResult {
  readonly kind: SearchKind;
  readonly name: string;
  /** The version matched (a model version for models). */
  readonly version: number;
  readonly description: string;
  readonly tags: readonly string[];
  /** 3 for an exact name, 2 for a name prefix, 1 for words of the description (0 when the text is empty). */
  readonly score: number;
}

export interface SearchOptions {
  /** Only resources carrying every one of these tags. */
  readonly tags?: readonly string[];
  /** Only these kinds (default: all). */
  readonly kinds?: readonly SearchKind[];
  /** At most this many results (default 100). */
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

const KINDS: Record<SearchKind, SearchResultKind> = {
  featureGroup: SearchResultKind.FEATURE_GROUP,
  featureView: SearchResultKind.FEATURE_VIEW,
  model: SearchResultKind.MODEL,
};

/** Groups, views and models whose name starts with `text` or whose description holds its words; best first. */
export async function searchProject(services: Services, project: string, text: string, options: SearchOptions = {}): Promise<SearchResult[]> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number of results, got ${limit}`);
  const kinds = (options.kinds ?? []).map((k) => {
    const kind = KINDS[k];
    if (kind === undefined) throw new TypeError(`unknown search kind "${k}": use ${Object.keys(KINDS).join(", ")}`);
    return kind;
  });
  const out: SearchResult[] = [];
  let pageToken = "";
  do {
    const res = await services.metadata.search(
      { project, query: text, tags: [...(options.tags ?? [])], kinds, pageSize: Math.min(limit - out.length, 1000), pageToken },
      services.unary(options.signal),
    );
    for (const r of res.results) {
      const kind = (Object.keys(KINDS) as SearchKind[]).find((k) => KINDS[k] === r.kind);
      if (kind) out.push({ kind, name: r.name, version: r.version, description: r.description, tags: [...r.tags], score: r.score });
    }
    pageToken = res.nextPageToken;
  } while (pageToken && out.length < limit);
  return out.slice(0, limit);
}
