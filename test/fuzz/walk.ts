// Walks every RPC of the four services with bad requests and collects findings: INTERNAL or UNKNOWN
// codes, calls that hang, and messages that leak a stack, SQL text or the data directory.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createServiceClient, createServiceTransport } from "@granary/service-clients";
import type { ServiceName } from "@granary/config";
import { MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { ScalarType } from "@granary/proto/types";
import { checkHealth, seededRandom } from "@granary/testing";
import { badCall, summarize, type BadCall, type Fixture } from "./bad-requests.js";

export const SERVICES: [ServiceName, DescService][] = [
  ["metadata", MetadataService],
  ["online", OnlineService],
  ["offline", OfflineService],
  ["registry", RegistryService],
];

export const FIXTURE: Fixture = { project: "shop", group: "fg", view: "fv", model: "m", version: 1 };

export interface Finding {
  readonly method: string;
  readonly request: string;
  readonly code: string;
  readonly message: string;
  readonly why: string;
}

export interface WalkOptions {
  readonly addresses: Record<ServiceName, string>;
  readonly adminKey: string;
  readonly dataDir: string;
  readonly seed: number;
  /** Bad calls per method. */
  readonly iterations: number;
  readonly timeoutMs?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** Called before each call, for tracing a hang to its request. */
  readonly onCall?: (method: string, request: string) => void;
}

export interface WalkResult {
  readonly calls: number;
  readonly codes: Record<string, number>;
  readonly findings: Finding[];
}

/** The project and group the bad requests aim at, so they get past NOT_FOUND into the handlers. */
export async function createFixture(addresses: Record<ServiceName, string>, adminKey: string): Promise<void> {
  const registryAddress = addresses.registry;
  const admin = createServiceClient(MetadataService, addresses.metadata, { apiKey: adminKey });
  await admin.createProject({ name: FIXTURE.project });
  await admin.createFeatureGroup({
    featureGroup: {
      project: FIXTURE.project,
      name: FIXTURE.group,
      version: FIXTURE.version,
      columns: [
        { name: "id", type: { scalar: ScalarType.INT64 } },
        { name: "x", type: { scalar: ScalarType.DOUBLE } },
        { name: "t", type: { scalar: ScalarType.TIMESTAMP } },
      ],
      primaryKey: ["id"],
      eventTime: "t",
      onlineEnabled: true,
    },
  });
  const ref = { name: FIXTURE.group, version: FIXTURE.version };
  await admin.createFeatureView({ featureView: { project: FIXTURE.project, name: FIXTURE.view, version: FIXTURE.version, query: { featureGroup: ref } } });
  const registry = createServiceClient(RegistryService, registryAddress, { apiKey: adminKey });
  const { modelVersion } = await registry.createModelVersion({
    modelVersion: { project: FIXTURE.project, model: FIXTURE.model, featureView: { name: FIXTURE.view, version: FIXTURE.version }, metrics: { auc: 0.5 } },
  });
  await registry.finalizeModelVersion({ project: FIXTURE.project, model: FIXTURE.model, version: modelVersion!.version });
}

// Methods that destroy the fixture or the caller's own access go last, so the rest still reach it.
const DESTRUCTIVE = /^(Delete|Revoke|Archive|Purge|Drop)/;

const codeName = (code: Code) => Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

export function leak(message: string, dataDir: string): string | undefined {
  if (/\n\s+at /.test(message)) return "stack trace";
  if (/\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*\b(FROM|INTO|SET)\b/.test(message)) return "SQL text";
  if (/\brelation "|syntax error/i.test(message)) return "SQL error text";
  if (message.includes(dataDir)) return "data directory path";
  return undefined;
}

async function* stream(messages: readonly unknown[]) {
  yield* messages;
}

/** Makes the call; a hang (the deadline passing) comes back as DEADLINE_EXCEEDED. */
async function invoke(client: Record<string, unknown>, call: BadCall, timeoutMs: number): Promise<{ code: string; message: string }> {
  const fn = client[call.method.localName] as (input: unknown, options: object) => unknown;
  // Watches legitimately stay open: a short deadline, and running out of it is not a hang.
  const watch = call.method.name.startsWith("Watch");
  const options = { timeoutMs: watch ? 1000 : timeoutMs };
  try {
    switch (call.method.methodKind) {
      case "unary":
        await fn(call.messages[0], options);
        break;
      case "server_streaming":
        for await (const _ of fn(call.messages[0], options) as AsyncIterable<unknown>) if (watch) break;
        break;
      case "client_streaming":
        await fn(stream(call.messages), options);
        break;
      case "bidi_streaming":
        for await (const _ of fn(stream(call.messages), options) as AsyncIterable<unknown>);
        break;
    }
    return { code: "OK", message: "" };
  } catch (err) {
    const e = ConnectError.from(err);
    if (watch && e.code === Code.DeadlineExceeded) return { code: "OK", message: "" };
    return { code: codeName(e.code), message: e.rawMessage };
  }
}

export function methodsInOrder(): { service: ServiceName; method: DescMethod }[] {
  const all = SERVICES.flatMap(([service, desc]) => desc.methods.map((method) => ({ service, method })));
  return [...all.filter((m) => !DESTRUCTIVE.test(m.method.name)), ...all.filter((m) => DESTRUCTIVE.test(m.method.name))];
}

export async function walk(options: WalkOptions): Promise<WalkResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const rng = seededRandom(options.seed);
  const clients = new Map(
    SERVICES.map(([name, desc]) => [
      name,
      createClient(desc, createServiceTransport(options.addresses[name], { apiKey: options.adminKey })) as unknown as Record<string, unknown>,
    ]),
  );
  const methods = methodsInOrder();
  const findings: Finding[] = [];
  const codes: Record<string, number> = {};
  let calls = 0;
  for (const { service, method } of methods) {
    for (let i = 0; i < options.iterations; i++) {
      const call = badCall(rng, method, FIXTURE);
      const name = `${method.parent.name}/${method.name}`;
      const request = `${call.label}: ${call.messages.map((m) => summarize(m)).join(" | ")}`;
      options.onCall?.(name, request);
      const outcome = await invoke(clients.get(service)!, call, timeoutMs);
      calls += 1;
      codes[outcome.code] = (codes[outcome.code] ?? 0) + 1;
      const why =
        outcome.code === "INTERNAL" || outcome.code === "UNKNOWN"
          ? outcome.code
          : outcome.code === "DEADLINE_EXCEEDED"
            ? "hang"
            : leak(outcome.message, options.dataDir);
      if (why) findings.push({ method: name, request, code: outcome.code, message: outcome.message.slice(0, 500), why });
    }
    options.onProgress?.(calls, methods.length * options.iterations);
  }
  for (const [name] of SERVICES) {
    const status = await checkHealth(options.addresses[name], "", 5000).catch((err: unknown) => `unreachable: ${String(err)}`);
    if (status !== "SERVING") findings.push({ method: `${name}/health`, request: "after the walk", code: String(status), message: "", why: "crash or hang" });
  }
  return { calls, codes, findings };
}
