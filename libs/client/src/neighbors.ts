import type { FindNeighborsResponse } from "@granary/proto/online";
import type { DataType } from "@granary/proto/types";
import { vectorBatchOfMessage } from "./feature-vector-batch.js";
import type { ColumnTypes, FilterExpr } from "./query.js";
import type { Services } from "./services.js";
import { columnDecoder, type Row } from "./values.js";

export interface NeighborOptions {
  /** How many neighbours (1 to 1000); 10 by default. */
  readonly k?: number;
  /** Only rows of the indexed group matching this (`feature("category").eq("shoes")`). */
  readonly filter?: FilterExpr;
  /** Also return each neighbour's vector: the group's row, or the view's feature vector. */
  readonly includeVectors?: boolean;
  /** Scan every row instead of searching the index (slower; for small groups and recall checks). */
  readonly exact?: boolean;
  /** Read-your-writes: answer once the replica has applied the write log up to this sequence. */
  readonly minLogSequence?: bigint;
  readonly signal?: AbortSignal;
}

export interface ViewNeighborOptions extends NeighborOptions {
  readonly untransformed?: boolean;
  readonly trainingDatasetVersion?: number;
  readonly includeEventTimes?: boolean;
  readonly includeInferenceHelpers?: boolean;
}

/** One neighbour, nearest first. */
export interface Neighbor {
  /** Its key: the group's primary key, or the view's serving keys. */
  readonly key: Row;
  /** Distance to the query in the index's metric (cosine: 1 - cos, L2: Euclidean, inner product: 1 - a·b). */
  readonly distance: number;
  /** Its vector as getFeatureVectors() returns one, when includeVectors. */
  readonly vector?: Row;
}

/** The target of a search: a group or a view version, with the types of its key columns and filter columns. */
export interface NeighborTarget {
  readonly project: string;
  readonly ref: { readonly case: "featureGroup" | "featureView"; readonly value: { readonly name: string; readonly version: number } };
  readonly keyType: (name: string) => DataType | undefined;
  readonly columnTypes: ColumnTypes;
}

/** FindNeighbors on the online service, answered as plain objects. */
export async function findNeighbors(
  services: Services,
  target: NeighborTarget,
  column: string,
  query: ArrayLike<number>,
  options: ViewNeighborOptions = {},
): Promise<Neighbor[]> {
  const res: FindNeighborsResponse = await services.online.findNeighbors(
    {
      project: target.project,
      target: { case: target.ref.case, value: { ...target.ref.value } },
      column,
      query: Array.from(query),
      k: options.k ?? 10,
      filter: options.filter?.toMessage(target.columnTypes),
      includeVectors: options.includeVectors ?? false,
      exact: options.exact ?? false,
      options: {
        untransformed: options.untransformed ?? false,
        trainingDatasetVersion: options.trainingDatasetVersion ?? 0,
        includeEventTimes: options.includeEventTimes ?? false,
        includeInferenceHelpers: options.includeInferenceHelpers ?? false,
        minLogSequence: options.minLogSequence ?? 0n,
      },
    },
    services.unary(options.signal),
  );
  const keys = res.keys.map((k) => {
    const type = target.keyType(k.name);
    if (!type) throw new TypeError(`the online service answered with key "${k.name}", which ${target.ref.value.name} does not have`);
    return { name: k.name, read: columnDecoder(k.data, type) };
  });
  const vectors = res.vectors ? vectorBatchOfMessage(res.vectors) : undefined;
  return Array.from({ length: res.count }, (_, i) => {
    const key: Row = {};
    for (const k of keys) key[k.name] = k.read(i);
    const distance = res.distances[i] ?? Number.NaN;
    return vectors ? { key, distance, vector: vectors.row(i) } : { key, distance };
  });
}
