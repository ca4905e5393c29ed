import type { Client } from "@connectrpc/connect";
import { serviceClientTls } from "@granary/config";
import { MetadataService } from "@granary/proto/metadata";
import { OnlineService } from "@granary/proto/online";
import { createServiceClient } from "@granary/service-clients";
import type { OfflineConfig } from "../config.js";

/** The services the offline service calls, each dialled with the internal service key. */
export interface UpstreamClients {
  readonly metadata: Client<typeof MetadataService>;
  readonly online: Client<typeof OnlineService>;
}

export function createUpstreamClients(config: OfflineConfig, serviceKey: string): UpstreamClients {
  const options = { apiKey: serviceKey, tls: serviceClientTls(config.server) };
  return {
    metadata: createServiceClient(MetadataService, config.metadataAddress, options),
    online: createServiceClient(OnlineService, config.onlineAddress, options),
  };
}
