import { join } from "node:path";
import { ChangeKind, type Change } from "@granary/proto/metadata";
import type { Logger } from "@granary/telemetry";
import type { LmdbOnlineStore } from "../store/lmdb-online-store.js";
import type { AnnConfig } from "./ann-config.js";
import { AnnIndexes } from "./ann-indexes.js";

/**
 * The store writer's nearest-neighbour indexes, in `<lmdb path>/ann`: they hear every row change of
 * `store` and follow group definitions from the catalogue (register before the catalogue starts, so
 * no write of an indexed group comes before its index is open). Once the catalogue has loaded, what
 * belongs to indexes no group declares any more is removed. Stop them before closing the store.
 */
export function openAnnIndexes(
  store: LmdbOnlineStore,
  lmdbPath: string,
  config: AnnConfig,
  onCatalogueChange: (listener: (change: Change) => void) => void,
  catalogueLoaded: Promise<void>,
  log: Logger,
): AnnIndexes {
  const indexes = new AnnIndexes(store, { dir: join(lmdbPath, "ann"), log: log.child({ component: "ann" }), exactBelow: config.exactBelow });
  onCatalogueChange((change) => {
    if (change.resource.case === "featureGroup") indexes.syncGroup(change.resource.value, change.kind === ChangeKind.DELETED);
  });
  indexes.start(config.saveIntervalMs);
  // Groups deleted while the service was down were never heard of: their files go once the catalogue says which remain.
  catalogueLoaded
    .then(
      () => indexes.removeOrphans(),
      () => undefined,
    )
    .catch((err: unknown) => log.warn({ err }, "could not remove the files of dropped embedding indexes"));
  return indexes;
}
