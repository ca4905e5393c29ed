import type { EnvReader } from "@granary/config";
import { EXACT_SEARCH_THRESHOLD, SAVE_INTERVAL_MS } from "./index-parameters.js";

/** The nearest-neighbour indexes' settings; only the store's writer uses them (the only process, or the primary). */
export interface AnnConfig {
  /** Indexes with at most this many vectors are searched by an exact scan (GRANARY_ONLINE_ANN_EXACT_BELOW). */
  readonly exactBelow: number;
  /** How often changed indexes are written beside the LMDB environment (GRANARY_ONLINE_ANN_SAVE_INTERVAL_MS). */
  readonly saveIntervalMs: number;
}

export function readAnnConfig(r: EnvReader): AnnConfig {
  return {
    exactBelow: r.int("GRANARY_ONLINE_ANN_EXACT_BELOW", EXACT_SEARCH_THRESHOLD, { min: 0, max: 1_000_000_000 }),
    saveIntervalMs: r.int("GRANARY_ONLINE_ANN_SAVE_INTERVAL_MS", SAVE_INTERVAL_MS, { min: 10, max: 86_400_000 }),
  };
}
