// Jest on native ESM: @swc/jest strips types (no type-check: `npm run typecheck` does that) and
// keeps `import`; jest runs under `node --experimental-vm-modules` (see package.json "test").
// Relative imports are written with .js as Node's ESM resolution requires; the mapper points them
// back at the .ts sources.

/** @type {import('jest').Config} */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript" }, target: "es2022", keepClassNames: true },
        module: { type: "es6" },
        sourceMaps: "inline",
      },
    ],
  },
  moduleNameMapper: {
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  testMatch: [
    "<rootDir>/libs/*/src/**/*.test.ts",
    "<rootDir>/services/*/src/**/*.test.ts",
    "<rootDir>/apps/*/src/**/*.test.ts",
    "<rootDir>/test/**/*.test.ts",
    "<rootDir>/examples/**/*.test.ts",
  ],
  // GRANARY_TEST_IGNORE (comma-separated paths): .ci/run's second pass leaves out tests that do not
  // depend on which PostgreSQL runs (the SDK's packaging), which the first pass has run.
  testPathIgnorePatterns: ["/node_modules/", ...(process.env.GRANARY_TEST_IGNORE ?? "").split(",").filter(Boolean)],
  // The packed SDK (scripts/pack-client.mjs stages it in build/) has the workspace package's name.
  modulePathIgnorePatterns: ["<rootDir>/build/", "<rootDir>/dist/", "<rootDir>/apps/cli/dist/"],
  globalSetup: "<rootDir>/test/global-setup.mjs",
  globalTeardown: "<rootDir>/test/global-teardown.mjs",
  testTimeout: 30_000,
  // Two cores: integration tests start processes and PostgreSQL; keep workers to what the machine has.
  maxWorkers: 2,
};
