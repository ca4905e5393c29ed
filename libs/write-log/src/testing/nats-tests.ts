import { randomBytes } from "node:crypto";
import { describe, it } from "@jest/globals";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { TEST_NATS_URL, probeNats } from "./nats-probe.js";

/**
 * For a test file that needs the machine's NATS with JetStream: `describe` when NATS answers, or
 * when CI=true requires it (then a failing test says NATS is missing); otherwise `describe.skip`
 * with a "not run: …" line saying why, as `npm test` on a machine with only Node must pass.
 */
export async function natsDescribe(what: string): Promise<typeof describe | typeof describe.skip> {
  const probe = await probeNats(TEST_NATS_URL);
  const required = Boolean(process.env["CI"]);
  if (probe.ok) return describe;
  if (!required) {
    console.warn(`not run: ${what} need NATS with JetStream at ${TEST_NATS_URL} (${probe.reason})`);
    return describe.skip;
  }
  it("NATS with JetStream is reachable (CI=true requires it)", () => {
    throw new Error(`CI=true needs NATS with JetStream at ${TEST_NATS_URL}: ${probe.reason}`);
  });
  return describe;
}

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
