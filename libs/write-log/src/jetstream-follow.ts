import { DataLossError } from "@granary/errors";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { sleep, type StoredMessage } from "./follower.js";
import { storedOf } from "./nats-messages.js";

/** Messages an ordered consumer asks for at a time: up to ~32 MiB in flight at NATS's 1 MiB max_payload. */
const FOLLOW_BUFFER = 32;

/**
 * The stream's messages after the follower's position through an ordered consumer (an ephemeral
 * consumer without acknowledgements, which the client recreates on any gap), itself recreated from
 * the position whenever it ends, as after an outage. No state per follower stays on the server.
 * `everything` (no subject filter): first check that retention kept what comes next.
 */
export async function* orderedMessages(
  nats: { js: JetStreamClient; jsm: JetStreamManager; stream: string },
  filter: string,
  everything: boolean,
  position: () => bigint,
  signal: AbortSignal,
): AsyncGenerator<StoredMessage> {
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const from = position();
      if (everything) await checkRetained(nats.jsm, nats.stream, from);
      const ordered = await nats.js.consumers.get(nats.stream, { filter_subjects: filter, opt_start_seq: Number(from) + 1 });
      const messages = await ordered.consume({ max_messages: FOLLOW_BUFFER });
      // stop(), not close(): close() waits for the iterator to drain, which nobody does once we leave.
      const stop = () => messages.stop();
      signal.addEventListener("abort", stop, { once: true });
      attempt = 0;
      try {
        for await (const m of messages) {
          yield storedOf(m);
        }
      } finally {
        signal.removeEventListener("abort", stop);
        messages.stop();
        void ordered.delete().catch(() => {});
      }
    } catch (err) {
      if (err instanceof DataLossError) throw err;
      // NATS unreachable, or the consumer could not be made: try again from where we are.
    }
    await sleep(Math.min(250 * 2 ** attempt++, 2000), signal);
  }
}

/** DATA_LOSS when retention removed messages a follower starting after `from` would need. */
async function checkRetained(jsm: JetStreamManager, stream: string, from: bigint): Promise<void> {
  const { state } = await jsm.streams.info(stream);
  if (BigInt(state.first_seq) > from + 1n) {
    throw new DataLossError(
      `the write log no longer holds sequence ${from + 1n} (its oldest is ${state.first_seq}); bootstrap this replica from a snapshot, then follow from the snapshot's sequence`,
    );
  }
}
