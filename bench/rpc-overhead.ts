// Which server library carries Granary's RPCs? One unary call shaped like an online lookup (100
// keys in, 50 features × 100 rows = 5,000 doubles out), served from a child process by
//   - connect-node (gzip off, as datacenter traffic wants),
//   - grpc-js with the bare protobuf-es adapter,
//   - grpc-js through Granary's full pipeline (validation, spans, authentication and authorization
//     of a viewer's API key, error mapping),
// and called by a @grpc/grpc-js client at concurrency 1 and 32, sending `authorization: Bearer` on
// every call (to every server, so the comparison stays fair). Prints one JSON line.
//
//   npm run bench:rpc [-- --seconds 3]
import { fork, type ChildProcess } from "node:child_process";
import http2 from "node:http2";
import { once } from "node:events";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import {
  GetFeatureVectorsRequestSchema,
  GetFeatureVectorsResponseSchema,
  OnlineService,
  type GetFeatureVectorsRequest,
  type GetFeatureVectorsResponse,
} from "@granary/proto/online";
import { ApiKeySchema, Role } from "@granary/proto/metadata";
import { ValueStatus } from "@granary/proto/types";
import { Authenticator, createAccessControl, newApiKey, NO_LOOKUPS } from "@granary/auth";
import { UnauthenticatedError } from "@granary/errors";
import { createServer, defineService } from "@granary/server";

const KEYS = 100;
/** The key the client sends; the child serving the calls gets it in its environment. */
const API_KEY = process.env.GRANARY_BENCH_API_KEY ?? newApiKey().token;
const FEATURES = 50;

const impl: Partial<ServiceImpl<typeof OnlineService>> = {
  getFeatureVectors(req) {
    const keys = req.entities?.servingKeys[0]?.data?.values;
    const n = keys?.case === "int64s" ? keys.value.values.length : 0;
    const columns = [];
    for (let f = 0; f < FEATURES; f++) {
      const values = new Array<number>(n);
      for (let i = 0; i < n; i++) values[i] = i * 0.5 + f;
      columns.push({
        name: `f${f}`,
        values: { values: { case: "doubles" as const, value: { values } } },
        statuses: new Array<ValueStatus>(n).fill(ValueStatus.PRESENT),
      });
    }
    return { vectors: { rowCount: n, columns } };
  },
};

async function serve(kind: string): Promise<void> {
  let port: number;
  if (kind === "connect") {
    const server = http2.createServer(connectNodeAdapter({ routes: (r) => r.service(OnlineService, impl), acceptCompression: [] }));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as { port: number }).port;
  } else if (kind === "grpc-js") {
    const server = new grpc.Server();
    const method = OnlineService.method.getFeatureVectors;
    server.addService(
      {
        GetFeatureVectors: {
          path: `/${OnlineService.typeName}/${method.name}`,
          requestStream: false,
          responseStream: false,
          requestSerialize: () => Buffer.alloc(0),
          requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
          responseSerialize: (m: GetFeatureVectorsResponse) => Buffer.from(toBinary(method.output, m)),
          responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
        },
      } as grpc.ServiceDefinition,
      {
        GetFeatureVectors: (call: grpc.ServerUnaryCall<GetFeatureVectorsRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          cb(null, create(method.output, impl.getFeatureVectors?.(call.request, {} as never) as never));
        },
      },
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
  } else {
    const logger = pino({ level: "silent" });
    // A viewer of project "bench", resolved here instead of by a metadata service: after the first
    // call the key is served from the authenticator's cache, as on a running service.
    const viewer = create(ApiKeySchema, { id: "bench", user: "bench", scopes: [{ project: "bench", role: Role.VIEWER }] });
    const authenticator = new Authenticator({
      serviceKey: newApiKey().token,
      resolveKey: (token) => (token === API_KEY ? Promise.resolve(viewer) : Promise.reject(new UnauthenticatedError("unknown API key"))),
    });
    const server = createServer({
      name: "bench",
      services: [defineService(OnlineService, impl)],
      config: { host: "127.0.0.1", port: 0, maxMessageBytes: 16 << 20, drainDelayMs: 0, shutdownGraceMs: 1000 },
      logger,
      access: createAccessControl({ enabled: true, authenticator, lookups: NO_LOOKUPS, service: "bench", logger }),
    });
    await server.start();
    port = server.port;
  }
  process.send?.({ port });
}

function request(): Buffer {
  const values = Array.from({ length: KEYS }, (_, i) => BigInt(i * 7919));
  const msg = create(GetFeatureVectorsRequestSchema, {
    project: "bench",
    featureView: { name: "fraud", version: 1 },
    entities: { rowCount: KEYS, servingKeys: [{ name: "cc_num", data: { values: { case: "int64s", value: { values } } } }] },
  });
  return Buffer.from(toBinary(GetFeatureVectorsRequestSchema, msg));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(port: number, concurrency: number, seconds: number) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const body = request();
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${API_KEY}`);
  const call = () =>
    new Promise<number>((resolve, reject) => {
      const start = performance.now();
      client.makeUnaryRequest(
        "/granary.online.v1.OnlineService/GetFeatureVectors",
        (b: Buffer) => b,
        (b: Buffer) => fromBinary(GetFeatureVectorsResponseSchema, b),
        body,
        metadata,
        (err: grpc.ServiceError | null, res?: GetFeatureVectorsResponse) => {
          if (err) reject(err);
          else if (res?.vectors?.columns.length !== FEATURES) reject(new Error("bad response"));
          else resolve(performance.now() - start);
        },
      );
    });
  const run = async (ms: number, record: number[]) => {
    const until = performance.now() + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) record.push(await call());
      }),
    );
  };
  await run(1000, []); // warm-up: JIT, connection, window growth
  const latencies: number[] = [];
  const started = performance.now();
  await run(seconds * 1000, latencies);
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)), rps: Math.round(latencies.length / elapsed) };
}

async function main(): Promise<void> {
  const secondsArg = process.argv.indexOf("--seconds");
  const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 5;
  const results: Record<string, unknown> = { bench: "rpc-overhead", keys_in: KEYS, doubles_out: KEYS * FEATURES, seconds };
  for (const kind of ["connect", "grpc-js", "grpc-js-granary"]) {
    const child: ChildProcess = fork(process.argv[1] ?? "", ["--serve", kind], {
      execArgv: process.execArgv,
      env: { ...process.env, GRANARY_BENCH_API_KEY: API_KEY },
    });
    const [{ port }] = (await once(child, "message")) as [{ port: number }];
    for (const c of [1, 32]) {
      const r = await measure(port, c, seconds);
      for (const [k, v] of Object.entries(r)) results[`${kind.replace(/-/g, "_")}_c${c}_${k}`] = v;
    }
    child.kill();
    await once(child, "exit");
  }
  console.log(JSON.stringify(results));
}

const serveArg = process.argv.indexOf("--serve");
if (serveArg > 0) await serve(process.argv[serveArg + 1] ?? "grpc-js");
else await main();
