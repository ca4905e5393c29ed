#!/usr/bin/env node
// grpc.health.v1.Health/Check for container healthchecks, where no grpc_health_probe binary exists;
// or, given an http:// URL with a path (the console's /healthz), an HTTP GET that must answer 200.
//
//   node deploy/healthcheck.mjs [https://]HOST:PORT [SERVICE] [--timeout-ms N]
//   node deploy/healthcheck.mjs http://HOST:PORT/PATH [--timeout-ms N]
//
// SERVICE defaults to "" (the whole server). Exit 0 when the answer is SERVING, 1 otherwise
// (NOT_SERVING, an error, a timeout or bad arguments), as Docker's HEALTHCHECK expects.
// With https:// or with GRANARY_TLS_CERT and GRANARY_TLS_KEY in the environment (the service's own
// settings) it speaks TLS, presents that certificate if any (for mTLS) and trusts GRANARY_TLS_CA,
// else NODE_EXTRA_CA_CERTS, else the system's roots.
// Plain JavaScript, so it runs without tsx; it needs only @grpc/grpc-js and grpc-health-check.
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

function usage(message) {
  process.stderr.write(
    `healthcheck: ${message}\nusage: node deploy/healthcheck.mjs [https://]HOST:PORT [SERVICE] [--timeout-ms N]\n` +
      `       node deploy/healthcheck.mjs http://HOST:PORT/PATH [--timeout-ms N]\n`,
  );
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
const [target = "", serviceName = ""] = positional;
if (/^http:\/\/[^/]+\/./.test(target)) await httpCheck(target);

async function httpCheck(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    process.stdout.write(`${url}: ${res.status}\n`);
    process.exit(res.status === 200 ? 0 : 1);
  } catch (err) {
    process.stderr.write(`healthcheck: ${url}: ${err.cause?.code ?? err.message}\n`);
    process.exit(1);
  }
}
const https = target.startsWith("https://");
const address = target.replace(/^https:\/\//, "");
if (!address || !/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(address)) usage("HOST:PORT is required");

const Health = grpc.makeClientConstructor(healthService, "Health");
const client = new Health(address, credentials());

function credentials() {
  const { GRANARY_TLS_CERT: cert, GRANARY_TLS_KEY: key, GRANARY_TLS_CA: ca, NODE_EXTRA_CA_CERTS: extraCa } = process.env;
  if (!https && (!cert || !key)) return grpc.credentials.createInsecure();
  const read = (file) => {
    try {
      return readFileSync(file);
    } catch (err) {
      process.stderr.write(`healthcheck: cannot read ${file}: ${err.message}\n`);
      process.exit(1);
    }
  };
  const trust = ca || extraCa;
  return grpc.credentials.createSsl(trust ? read(trust) : null, cert && key ? read(key) : null, cert && key ? read(cert) : null);
}

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
