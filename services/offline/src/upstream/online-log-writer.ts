import { inSpan } from "@granary/telemetry";
import type { WriteLog } from "@granary/write-log";
import type { OnlineWriter } from "./online-writer.js";

/**
 * The online copy of offline commits through the write log (issue 16): the outbox appends each batch
 * (origin "insert", so the offline consumer does not take it back) and every online replica applies
 * it as it applies any batch. Acknowledged once the log has stored it. The batch's msgId is the
 * caller's, stable across retries, so a retry inside JetStream's duplicate window is stored once;
 * after it a replay is harmless (a row never overwrites a newer one online).
 */
export function logOnlineWriter(log: WriteLog): OnlineWriter {
  return {
    async writeColumns(project, group, rows, msgId) {
      await inSpan("granary.offline", "write_log.append", attributesOf(project, group, "upsert", rows.rowCount), () =>
        log.append({ project, group: group.name, version: group.version, kind: "upsert", origin: "insert", rows, msgId }),
      );
    },
    async deleteKeys(project, group, keys, msgId) {
      await inSpan("granary.offline", "write_log.append", attributesOf(project, group, "delete", keys.rowCount), () =>
        log.append({ project, group: group.name, version: group.version, kind: "delete", origin: "insert", rows: keys, msgId }),
      );
    },
  };
}

function attributesOf(project: string, group: { name: string; version: number }, kind: string, rows: number) {
  return {
    "messaging.system": "nats",
    "messaging.operation.name": "append",
    "granary.project": project,
    "granary.feature_group": group.name,
    "granary.feature_group.version": group.version,
    "granary.write.kind": kind,
    "granary.rows": rows,
  };
}
