export { checkHealth, waitForServing, watchHealth, type HealthStatus } from "./health-client.js";
export { captureLogs } from "./log-capture.js";
export { waitFor } from "./wait-for.js";
export { createTestDatabase, testServerUrl, type TestDatabase } from "./test-database.js";
export { startServiceProcess, type ServiceProcess } from "./service-process.js";
export { clientOf, scratchDir, type StartedService } from "./suite-under-test.js";
export { seededRandom } from "./seeded-random.js";
export { testKeys, type TestKeys } from "./test-keys.js";
export { failure } from "./call-failure.js";
