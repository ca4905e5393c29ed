import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** The compiled bundle of each service entry point (scripts/build.mjs; jest's global setup builds it). */
const COMPILED: Readonly<Record<string, string>> = {
  "scripts/start.ts": "dist/granary.js",
  "services/metadata/src/main.ts": "dist/metadata.js",
  "services/online/src/main.ts": "dist/online.js",
  "services/offline/src/main.ts": "dist/offline.js",
  "services/registry/src/main.ts": "dist/registry.js",
  "apps/console/src/server/main.ts": "dist/console.js",
};

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Sends a signal and waits for the exit; SIGKILL after `timeoutMs`. Resolves to the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** Resolves to the exit code once the process has exited. */
  exited(): Promise<number | null>;
}

/**
 * Starts a Granary entry point (`services/metadata/src/main.ts`, `scripts/start.ts`) as its own Node
 * process, as production runs it: `node dist/<service>.js`, the compiled bundle of that entry
 * (`npm run build`; jest's global setup builds it when a source is newer), with the given environment.
 * Only PATH and HOME are inherited, so the test's own GRANARY_* settings never leak in: spread
 * `testKeys().env` into `env` (services started apart agree on the service key only through it).
 */
export function startServiceProcess(entry: string, env: Record<string, string | undefined>): ServiceProcess {
  const compiled = COMPILED[entry];
  if (!compiled) throw new Error(`${entry} is not an entry point scripts/build.mjs compiles (${Object.keys(COMPILED).join(", ")})`);
  if (!existsSync(`${repoRoot}${compiled}`)) throw new Error(`${compiled} is missing: run npm run build`);
  const child = spawn(process.execPath, [compiled], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString("utf8")));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString("utf8")));
  const exit = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  return {
    child,
    output: () => out,
    exited: () => exit,
    async stop(signal = "SIGTERM", timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        await Promise.race([exit, once(child, "exit")]);
        clearTimeout(timer);
      }
      return exit;
    },
  };
}
