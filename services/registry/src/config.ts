import { join } from "node:path";
import { EnvReader, readCommonConfig, readServerConfig, readServiceAddress, type CommonConfig, type Env, type ServerConfig } from "@granary/config";

export interface RegistryConfig {
  readonly server: ServerConfig;
  readonly common: CommonConfig;
  readonly database: {
    /** Unset: an embedded PostgreSQL under <dataDir>/registry/postgres. */
    readonly url: string | undefined;
    readonly poolSize: number;
  };
  /** Content-addressed artifact store: <blobRoot>/sha256/<aa>/<digest> */
  readonly blobRoot: string;
  readonly maxArtifactBytes: number;
  /**
   * An upload idle this long is abandoned: a version still UPLOADING with no activity (created,
   * updated, an artifact stored) is removed with its artifacts, and so is a temporary file nobody
   * has written to. 0 removes them at the next sweep whatever their age.
   */
  readonly uploadTimeoutMs: number;
  readonly metadataAddress: string;
}

export function loadRegistryConfig(env: Env = process.env): Readonly<RegistryConfig> {
  const r = new EnvReader(env);
  const common = readCommonConfig(r, "granary-registry");
  const config: RegistryConfig = {
    server: readServerConfig(r, "registry"),
    common,
    database: {
      url: r.optionalUrl("DATABASE_URL", ["postgres:", "postgresql:"]),
      poolSize: r.int("GRANARY_REGISTRY_DB_POOL_SIZE", 10, { min: 1, max: 1000 }),
    },
    blobRoot: r.string("GRANARY_REGISTRY_BLOB_ROOT", join(common.dataDir, "registry", "blobs")),
    maxArtifactBytes: r.int("GRANARY_REGISTRY_MAX_ARTIFACT_MB", 10 * 1024, { min: 1, max: 1024 * 1024 }) * 1024 * 1024,
    uploadTimeoutMs: r.int("GRANARY_REGISTRY_UPLOAD_TIMEOUT_MIN", 60, { min: 0, max: 7 * 24 * 60 }) * 60_000,
    metadataAddress: readServiceAddress(r, "metadata"),
  };
  r.finish();
  return Object.freeze(config);
}
