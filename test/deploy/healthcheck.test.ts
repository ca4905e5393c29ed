import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

// deploy/healthcheck.mjs's HTTP mode, what compose's console healthcheck runs: healthy on 200 only.
const script = fileURLToPath(new URL("../../deploy/healthcheck.mjs", import.meta.url));
let server: Server;
let base: string;

function healthcheck(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

beforeAll(async () => {
  server = createServer((req, res) => res.writeHead(req.url === "/healthz" ? 200 : 503).end());
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

describe("node deploy/healthcheck.mjs http://HOST:PORT/PATH", () => {
  it("exits 0 on 200, 1 on another status, 1 when nothing listens", async () => {
    expect(await healthcheck(`${base}/healthz`)).toEqual({ code: 0, out: `${base}/healthz: 200\n` });
    expect(await healthcheck(`${base}/other`)).toMatchObject({ code: 1, out: `${base}/other: 503\n` });
    const closed = createServer();
    await new Promise<void>((ready) => closed.listen(0, "127.0.0.1", ready));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const refused = await healthcheck(`http://127.0.0.1:${port}/healthz`, "--timeout-ms", "2000");
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/ECONNREFUSED/);
  });
});
