import { join } from "node:path";
import { parseApiKey } from "@granary/auth";
import { EnvReader, readCommonConfig, readServerConfig, type CommonConfig, type Env, type ServerConfig } from "@granary/config";

export interface MetadataConfig {
  readonly server: ServerConfig;
  readonly common: CommonConfig;
  readonly database: {
    /** Unset: an embedded PostgreSQL under <dataDir>/metadata/postgres. */
    readonly url: string | undefined;
    readonly poolSize: number;
  };
  readonly admin: {
    /**
     * GRANARY_BOOTSTRAP_ADMIN_KEY: an admin key (`grn_<id>_<secret>`, from a Kubernetes Secret)
     * stored at start when its id is not known yet.
     */
    readonly bootstrapKey: string | undefined;
    /**
     * GRANARY_ADMIN_KEY_FILE (default <data dir>/admin.key): without a bootstrap key, where the
     * admin key made on first start is written.
     */
    readonly keyFile: string;
  };
}

export function loadMetadataConfig(env: Env = process.env): Readonly<MetadataConfig> {
  const r = new EnvReader(env);
  const common = readCommonConfig(r, "granary-metadata");
  const bootstrapKey = r.optionalString("GRANARY_BOOTSTRAP_ADMIN_KEY");
  if (bootstrapKey !== undefined && !parseApiKey(bootstrapKey)) {
    r.problem(
      "GRANARY_BOOTSTRAP_ADMIN_KEY must be a Granary API key, grn_<id>_<secret>: id of 1-32 lowercase letters and digits, secret of 16-128 base64url characters",
    );
  }
  const config: MetadataConfig = {
    server: readServerConfig(r, "metadata"),
    common,
    database: {
      url: r.optionalUrl("DATABASE_URL", ["postgres:", "postgresql:"]),
      poolSize: r.int("GRANARY_METADATA_DB_POOL_SIZE", 10, { min: 1, max: 1000 }),
    },
    admin: {
      bootstrapKey,
      keyFile: r.string("GRANARY_ADMIN_KEY_FILE", join(common.dataDir, "admin.key")),
    },
  };
  r.finish();
  return Object.freeze(config);
}
