export { loadSuiteConfig, startSuite, startSuiteOnFreePorts, type RunningSuite, type SuiteConfig } from "./suite.js";
export { startTestSuite } from "./test-suite.js";
