import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

export type HealthStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

const HealthClient = grpc.makeClientConstructor(healthService as grpc.ServiceDefinition, "grpc.health.v1.Health");

interface RawHealthClient extends grpc.Client {
  check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: HealthStatus }) => void): void;
  watch(req: { service: string }): grpc.ClientReadableStream<{ status: HealthStatus }>;
}

function clientFor(address: string): RawHealthClient {
  return new HealthClient(address, grpc.credentials.createInsecure()) as unknown as RawHealthClient;
}

/** grpc.health.v1.Health/Check from a plain @grpc/grpc-js client, as Kubernetes probes call it. */
export async function checkHealth(address: string, service = "", timeoutMs = 2000): Promise<HealthStatus> {
  const client = clientFor(address);
  try {
    return await new Promise<HealthStatus>((resolve, reject) => {
      client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(err);
        else resolve(res?.status ?? "UNKNOWN");
      });
    });
  } finally {
    client.close();
  }
}

/** Polls Check until the service reports SERVING; throws with the last status or error. */
export async function waitForServing(address: string, timeoutMs = 10_000, service = ""): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      last = await checkHealth(address, service, 1000);
      if (last === "SERVING") return;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${address} not SERVING after ${timeoutMs} ms (last: ${String(last)})`);
}

/** Opens a Watch stream; statuses arrive in order in the returned array. */
export function watchHealth(address: string, service = ""): { statuses: HealthStatus[]; close(): void } {
  const client = clientFor(address);
  const statuses: HealthStatus[] = [];
  const stream = client.watch({ service });
  stream.on("data", (res: { status: HealthStatus }) => statuses.push(res.status));
  stream.on("error", () => {});
  return {
    statuses,
    close() {
      stream.cancel();
      client.close();
    },
  };
}
