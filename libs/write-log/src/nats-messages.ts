import type { JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import type { StoredMessage } from "./follower.js";
import { HEADER } from "./log-message.js";

/** A message delivered by JetStream as the log's StoredMessage. */
export function storedOf(m: JsMsg): StoredMessage {
  return { subject: m.subject, headers: headersOf(m.headers), data: m.data, sequence: BigInt(m.seq) };
}

/** NATS headers as a plain record (the last value of a repeated key). */
export function headersOf(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined) return out;
  for (const k of h.keys()) out[k] = h.last(k);
  return out;
}

/** A record as NATS headers, without Nats-Msg-Id: the client sets that one from the publish option. */
export function toNatsHeaders(record: Readonly<Record<string, string>>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(record)) if (k !== HEADER.msgId) h.set(k, v);
  return h;
}
