#!/usr/bin/env node
// grpc.health.v1.Health/Check for container healthchecks, where no grpc_health_probe binary exists.
//
//   node deploy/healthcheck.mjs HOST:PORT [SERVICE] [--timeout-ms N]
//
// SERVICE defaults to "" (the whole server). Exit 0 when the answer is SERVING, 1 otherwise
// (NOT_SERVING, an error, a timeout or bad arguments), as Docker's HEALTHCHECK expects.
// Plain JavaScript, so it runs without tsx; it needs only @grpc/grpc-js and grpc-health-check.
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

function usage(message) {
  process.stderr.write(`healthcheck: ${message}\nusage: node deploy/healthcheck.mjs HOST:PORT [SERVICE] [--timeout-ms N]\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
let timeoutMs = 3000;
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--timeout-ms") {
    timeoutMs = Number(args[++i]);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) usage("--timeout-ms needs a positive integer");
  } else {
    positional.push(args[i]);
  }
}
const [address, serviceName = ""] = positional;
if (!address || !/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(address)) usage("HOST:PORT is required");

const Health = grpc.makeClientConstructor(healthService, "Health");
const client = new Health(address, grpc.credentials.createInsecure());

client.check({ service: serviceName }, { deadline: Date.now() + timeoutMs }, (err, res) => {
  client.close();
  if (err) {
    process.stderr.write(`healthcheck: ${address}: ${err.message}\n`);
    process.exit(1);
  }
  const status = res?.status ?? "UNKNOWN";
  process.stdout.write(`${address}${serviceName ? ` ${serviceName}` : ""}: ${status}\n`);
  process.exit(status === "SERVING" ? 0 : 1);
});
