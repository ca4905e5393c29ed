export { CatalogueCache, type CatalogueCacheLogger, type CatalogueCacheOptions } from "./catalogue-cache.js";
