import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, resolve, sep } from "node:path";
import { setSecurityHeaders } from "./security-headers.js";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

/** Vite names everything under assets/ by content hash, so a cached copy can never go stale. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * The file under `dist` a request path names, or undefined when the path is malformed or would
 * leave `dist` (`..`, encoded `%2e%2e` or `%2f`, a NUL). The only place a request reaches the disk.
 */
export function resolveInDist(dist: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const root = resolve(dist);
  const file = resolve(root, `.${decoded.startsWith("/") ? decoded : `/${decoded}`}`);
  return file === root || file.startsWith(root + sep) ? file : undefined;
}

async function isFile(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() ?? false;
}

/** Serves the built single-page app: files from dist, index.html for client routes. */
export async function serveStatic(dist: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  setSecurityHeaders(res);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
    return;
  }
  const index = resolve(dist, "index.html");
  if (!(await isFile(index))) {
    res.writeHead(503, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(notBuiltPage);
    return;
  }
  const file = resolveInDist(dist, pathname);
  if (file === undefined) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    return;
  }
  if (await isFile(file)) {
    sendFile(req, res, file, pathname.startsWith("/assets/") ? IMMUTABLE : "no-cache");
    return;
  }
  // A client route (/projects/p/groups/g/1) gets the app; a missing asset or file gets a 404, so
  // a stale tab asking for an old bundle fails loudly instead of parsing HTML as JavaScript.
  if (pathname.startsWith("/assets/") || extname(pathname) !== "") {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    return;
  }
  sendFile(req, res, index, "no-cache");
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): void {
  res.writeHead(200, {
    "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
    "cache-control": cacheControl,
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on("error", () => res.destroy());
  stream.pipe(res);
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Granary console not built</title></head>
<body><h1>The Granary console has not been built</h1>
<p>Run <code>npm run build:console</code> in the repository (npm install runs it too), then reload this page.</p>
</body></html>
`;
