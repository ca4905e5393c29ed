import { describe, expect, it } from "@jest/globals";
import { SERVICE_NAMES, type ServiceName } from "@granary/config";
import { checkHealth, waitFor } from "@granary/testing";
import { startTestSuite } from "./test-suite.js";

describe("stopping the one-process suite", () => {
  it("takes all four services out of SERVING before any of them stops answering", async () => {
    const { suite, stop } = await startTestSuite("suite_stop", { GRANARY_DRAIN_DELAY_MS: "1000" });
    const health = (name: ServiceName) => checkHealth(suite.addresses[name], "", 500).catch(() => "GONE");
    await waitFor(async () => (await Promise.all(SERVICE_NAMES.map(health))).every((s) => s === "SERVING"), { timeoutMs: 20_000, what: "all SERVING" });

    // Each poll reads the four services at once; the first poll where one is gone must come after
    // the first poll where all four read NOT_SERVING.
    const polls: string[][] = [];
    let stopped = false;
    const stopping = stop().finally(() => (stopped = true));
    while (!stopped) polls.push(await Promise.all(SERVICE_NAMES.map(health)));
    await stopping;

    const allDraining = polls.findIndex((poll) => poll.every((s) => s === "NOT_SERVING"));
    const firstGone = polls.findIndex((poll) => poll.includes("GONE"));
    expect(allDraining).toBeGreaterThanOrEqual(0);
    expect(firstGone).toBeGreaterThan(allDraining);
    // Never one gone while another still SERVING.
    expect(polls.filter((poll) => poll.includes("GONE") && poll.includes("SERVING"))).toEqual([]);
  }, 60_000);
});
