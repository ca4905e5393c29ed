import type { CatalogueCache } from "@granary/catalogue-cache";
import { UnavailableError } from "@granary/errors";

/** Answers UNAVAILABLE until the catalogue has been loaded once (afterwards the cache serves). */
export function requireCatalogue(catalogue: CatalogueCache): void {
  if (!catalogue.current && catalogue.revision === 0n) throw new UnavailableError("the offline service has not loaded the catalogue yet; retry shortly");
}
