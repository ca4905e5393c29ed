import { describe, it } from "@jest/globals";
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
