import { EnvReader, readCommonConfig, readServerConfig, type CommonConfig, type Env, type ServerConfig } from "@granary/config";

export interface MetadataConfig {
  readonly server: ServerConfig;
  readonly common: CommonConfig;
  readonly database: {
    /** Unset: an embedded PostgreSQL under <dataDir>/metadata/postgres. */
    readonly url: string | undefined;
    readonly poolSize: number;
  };
}

export function loadMetadataConfig(env: Env = process.env): Readonly<MetadataConfig> {
  const r = new EnvReader(env);
  const config: MetadataConfig = {
    server: readServerConfig(r, "metadata"),
    common: readCommonConfig(r, "granary-metadata"),
    database: {
      url: r.optionalUrl("DATABASE_URL", ["postgres:", "postgresql:"]),
      poolSize: r.int("GRANARY_METADATA_DB_POOL_SIZE", 10, { min: 1, max: 1000 }),
    },
  };
  r.finish();
  return Object.freeze(config);
}
