import { connect } from "node:net";

/** The NATS the JetStream tests use: the machine's (never stopped by a test), or GRANARY_TEST_NATS_URL. */
export const TEST_NATS_URL = process.env["GRANARY_TEST_NATS_URL"] ?? "nats://127.0.0.1:4222";

/**
 * Whether a NATS server with JetStream answers at `url`: connects, reads the server's INFO line.
 * Resolves with the reason when it does not; never throws.
 */
export function probeNats(url: string, timeoutMs = 2000): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  const { hostname, port } = new URL(url.replace(/^nats:/, "http:"));
  return new Promise((resolve) => {
    const socket = connect(Number(port || 4222), hostname);
    let buffer = "";
    const finish = (result: { ok: true; version: string } | { ok: false; reason: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer from ${url} within ${timeoutMs} ms` }), timeoutMs);
    socket.on("error", (err) => finish({ ok: false, reason: `${url}: ${err.message}` }));
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      const end = buffer.indexOf("\r\n");
      if (end < 0) return;
      const line = buffer.slice(0, end);
      if (!line.startsWith("INFO ")) return finish({ ok: false, reason: `${url} is not a NATS server` });
      const info = JSON.parse(line.slice(5)) as { version?: string; jetstream?: boolean };
      if (!info.jetstream) return finish({ ok: false, reason: `NATS at ${url} runs without JetStream (start it with -js)` });
      finish({ ok: true, version: info.version ?? "?" });
    });
  });
}
