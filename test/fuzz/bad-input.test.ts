// The bounded bad-input walk CI runs: a fixed seed, a few hostile calls per method of the four
// services, as the admin against a real fixture. `npm run fuzz` runs the same walk longer.
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";
import { MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { startSuiteOnFreePorts, type RunningSuite } from "@granary/suite";
import { createLogger } from "@granary/telemetry";
import { createTestDatabase, scratchDir, testKeys, type TestDatabase } from "@granary/testing";
import { createFixture, FIXTURE, methodsInOrder, walk } from "./walk.js";

const SEED = 20261206;
const ITERATIONS = 8;

const keys = testKeys();
const dir = scratchDir("fuzz");
let db: TestDatabase;
let suite: RunningSuite;

beforeAll(async () => {
  db = await createTestDatabase("fuzz");
  suite = await startSuiteOnFreePorts(
    { GRANARY_DATA_DIR: dir.path, DATABASE_URL: db.url, GRANARY_LOG_LEVEL: "error", ...keys.env },
    createLogger({ level: "error", service: "fuzz" }),
  );
  await createFixture(suite.addresses, keys.adminKey);
}, 60_000);

afterAll(async () => {
  await suite?.stop();
  await db?.drop();
  dir.remove();
});

it("answers every bad request of every method with a caller's code, leaks nothing and stays up", async () => {
  const result = await walk({ addresses: suite.addresses, adminKey: keys.adminKey, dataDir: dir.path, seed: SEED, iterations: ITERATIONS });
  expect(result.calls).toBe(methodsInOrder().length * ITERATIONS);
  expect(result.findings.map((f) => `${f.why}: ${f.method} → ${f.code} ${f.message}\n  ${f.request.slice(0, 300)}`)).toEqual([]);
}, 110_000);

// What earlier walks found, kept as fixed cases so they never depend on the seed reaching them.
it("refuses what the walk once found with INVALID_ARGUMENT, promptly", async () => {
  const metadata = createServiceClient(MetadataService, suite.addresses.metadata, { apiKey: keys.adminKey });
  const offline = createServiceClient(OfflineService, suite.addresses.offline, { apiKey: keys.adminKey });
  const group = { name: FIXTURE.group, version: FIXTURE.version };
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => "OK",
      (e: unknown) => Code[ConnectError.from(e).code],
    );
  // Timestamps past year 9999 or before year 1 reached Date.toISOString and timestamptz: INTERNAL.
  expect(
    await codeOf(metadata.listCommits({ project: FIXTURE.project, featureGroup: group, ingestionTimeRange: { start: { seconds: 9223372036854775807n } } })),
  ).toBe("InvalidArgument");
  expect(await codeOf(metadata.listCommits({ project: FIXTURE.project, featureGroup: group, ingestionTimeRange: { end: { seconds: -62167219200n } } }))).toBe(
    "InvalidArgument",
  );
  expect(await codeOf(metadata.createApiKey({ user: "fuzz", expireTime: { seconds: 9223372036854775807n, nanos: 999_999_999 } }))).toBe("InvalidArgument");
  // 10,000 unknown columns named in one status message overflowed the HTTP/2 trailers: a hang.
  const read = async () => {
    for await (const _ of offline.read(
      { project: FIXTURE.project, featureGroup: group, columns: Array.from({ length: 10_000 }, () => "../x") },
      { timeoutMs: 10_000 },
    ));
  };
  expect(await codeOf(read())).toBe("InvalidArgument");
});
