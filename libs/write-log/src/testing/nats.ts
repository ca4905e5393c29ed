// The machine's NATS for benchmarks and scripts: no Jest here (see index.ts for the test helpers).
export { TEST_NATS_URL, probeNats } from "./nats-probe.js";
export { deleteStreams, isolatedLog } from "./nats-streams.js";
