import { join } from "node:path";
import { JetStreamWriteLog, type JetStreamWriteLogOptions } from "./jetstream-write-log.js";
import { LocalWriteLog, type LocalWriteLogOptions } from "./local-write-log.js";
import type { WriteLog } from "./write-log.js";

export type WriteLogConfig = ({ readonly kind: "jetstream" } & JetStreamWriteLogOptions) | ({ readonly kind: "local" } & LocalWriteLogOptions);

/** The adapter a service's config picks: JetStream when GRANARY_NATS_URL is set, the local LMDB log otherwise. */
export async function createWriteLog(config: WriteLogConfig): Promise<WriteLog> {
  switch (config.kind) {
    case "jetstream":
      return JetStreamWriteLog.connect(config);
    case "local":
      return new LocalWriteLog(config);
  }
}

/** The config from a NATS URL (empty or absent: none) and the data directory, where the local log lives in `write-log/`. */
export function writeLogConfig(natsUrl: string | undefined, dataDir: string): WriteLogConfig {
  return natsUrl ? { kind: "jetstream", url: natsUrl } : { kind: "local", path: join(dataDir, "write-log") };
}
