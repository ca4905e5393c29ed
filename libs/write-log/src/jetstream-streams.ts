import { FailedPreconditionError } from "@granary/errors";
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { displayUrl } from "./nats-errors.js";
import type { LogSubjects } from "./subjects.js";

const DAY_MS = 86_400_000;

/** How the streams are made when this client creates them. */
export interface StreamSettings {
  /** Stream replicas: 1, or 3 on a cluster (RAFT). */
  readonly replicas?: number;
  /** How long the log keeps a batch: the longest a replica may take to bootstrap and catch up. Default 7 days. */
  readonly maxAgeMs?: number;
  /** Bound on the log's size (oldest dropped first); default unbounded. */
  readonly maxBytes?: number;
  /** How long dead letters are kept; default 30 days. */
  readonly deadMaxAgeMs?: number;
  /** Default 2 minutes. */
  readonly duplicateWindowMs?: number;
}

/**
 * Creates the log's stream and its dead-letter stream when they are missing. An existing stream is
 * used as it is (operators may have tuned it with `nats stream edit`), as long as it holds the
 * subjects; FAILED_PRECONDITION otherwise.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  names: { stream: string; deadStream: string; subjects: LogSubjects; url: string },
  settings: StreamSettings,
): Promise<void> {
  const common: Partial<StreamConfig> = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: settings.replicas ?? 1,
    duplicate_window: nanos(settings.duplicateWindowMs ?? 120_000),
  };
  const log = {
    ...common,
    name: names.stream,
    subjects: [names.subjects.filter()],
    max_age: nanos(settings.maxAgeMs ?? 7 * DAY_MS),
    max_bytes: settings.maxBytes ?? -1,
  };
  const dead = { ...common, name: names.deadStream, subjects: [`${names.subjects.deadPrefix}.>`], max_age: nanos(settings.deadMaxAgeMs ?? 30 * DAY_MS) };
  for (const config of [log, dead]) {
    let subjects: string[] | undefined;
    try {
      subjects = (await jsm.streams.info(config.name)).config.subjects;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await jsm.streams.add(config);
      continue;
    }
    const missing = config.subjects.filter((s) => !subjects?.includes(s));
    if (missing.length > 0) {
      throw new FailedPreconditionError(
        `JetStream stream ${config.name} at NATS ${displayUrl(names.url)} does not hold ${missing.join(", ")}; operators: fix the stream or the subject prefix`,
      );
    }
  }
}
