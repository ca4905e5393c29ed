import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { TEST_NATS_URL } from "./nats-probe.js";

// Streams of the machine's NATS for tests and benchmarks, without Jest (benches import this).

/** A stream and subject prefix no other test (or deployment) uses, as the services' env names them. */
export function isolatedLog(kind: string): { stream: string; subjectPrefix: string; env: Record<string, string>; remove(): Promise<void> } {
  const id = randomBytes(4).toString("hex");
  const stream = `TEST_${kind.toUpperCase()}_${id}`;
  const subjectPrefix = `test-${kind.toLowerCase()}-${id}`;
  return {
    stream,
    subjectPrefix,
    env: { GRANARY_NATS_URL: TEST_NATS_URL, GRANARY_NATS_STREAM: stream, GRANARY_NATS_SUBJECT_PREFIX: subjectPrefix },
    remove: () => deleteStreams(stream, `${stream}_DEAD`),
  };
}

/** Deletes streams a test made (missing ones are fine). */
export async function deleteStreams(...streams: string[]): Promise<void> {
  const nc = await connect({ servers: TEST_NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}
