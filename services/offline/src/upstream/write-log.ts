import type { CommonConfig } from "@granary/config";
import { createWriteLog, type WriteLog } from "@granary/write-log";

/**
 * The shared write log on NATS JetStream (issue 16), as the online service opens it: the stream and
 * subject prefix from GRANARY_NATS_STREAM / GRANARY_NATS_SUBJECT_PREFIX, dead letters beside them.
 * Undefined without GRANARY_NATS_URL: then the offline service works as before (no consumer, the
 * outbox pushes to the online service over gRPC).
 */
export async function openWriteLog(common: CommonConfig, clientName: string): Promise<WriteLog | undefined> {
  if (!common.natsUrl) return undefined;
  const { stream, subjectPrefix, replicas, maxAgeMs } = common.writeLog;
  return createWriteLog({
    kind: "jetstream",
    url: common.natsUrl,
    stream,
    deadStream: `${stream}_DEAD`,
    subjectPrefix,
    deadSubjectPrefix: `${subjectPrefix}-dead`,
    replicas,
    maxAgeMs,
    clientName,
  });
}
