// Test helpers of the write log, for this package's tests and the services' integration tests.
export { TEST_NATS_URL, probeNats } from "./nats-probe.js";
export { TcpProxy } from "./tcp-proxy.js";
export { natsDescribe } from "./nats-tests.js";
export { deleteStreams, isolatedLog } from "./nats-streams.js";
