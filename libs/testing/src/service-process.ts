import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

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
 * process, as production runs it: `node --import tsx <entry>` with the given environment.
 * Only PATH and HOME are inherited, so the test's own GRANARY_* settings never leak in: spread
 * `testKeys().env` into `env` (services started apart agree on the service key only through it).
 */
export function startServiceProcess(entry: string, env: Record<string, string | undefined>): ServiceProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
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
