import { Code, ConnectError } from "@connectrpc/connect";
import type { Command } from "commander";
import { adminKeyFile, apiKeyHint, connect, locateApiKey, type ConnectOptions, type Granary, type Project, type ServiceName } from "@granary/client";
import { CliError, UsageError } from "./cli-error.js";

/** The options every command takes (declared on the program). */
export interface GlobalOptions {
  readonly address?: string;
  readonly metadata?: string;
  readonly online?: string;
  readonly offline?: string;
  readonly registry?: string;
  readonly project: string;
  readonly apiKey?: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly timeout?: number;
  readonly json?: boolean;
  readonly progress: boolean;
}

/** Where a command writes: results to stdout, progress and diagnostics to stderr. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** Whether progress bars may be drawn (stderr is a terminal and --no-progress was not given). */
  readonly interactive: boolean;
}

export const processOutput = (progress: boolean): Output => ({
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  interactive: progress && process.stderr.isTTY === true,
});

const SERVICES: readonly ServiceName[] = ["metadata", "online", "offline", "registry"];

/** What a command runs with: the options, a lazily opened connection, the output, and Ctrl-C as a signal. */
export class CommandContext {
  readonly options: GlobalOptions;
  readonly output: Output;
  readonly signal: AbortSignal;
  /** Where --project came from: given on the command line wins over a YAML file's project. */
  readonly projectFromCommandLine: boolean;
  /** Where --api-key came from: "cli", "env" (GRANARY_API_KEY) or undefined (the SDK looks further). */
  readonly apiKeySource: string | undefined;
  #granary: Granary | undefined;

  constructor(options: GlobalOptions, output: Output, signal: AbortSignal, projectFromCommandLine: boolean, apiKeySource?: string) {
    this.options = options;
    this.output = output;
    this.signal = signal;
    this.projectFromCommandLine = projectFromCommandLine;
    this.apiKeySource = apiKeySource;
  }

  /** The context of a command's action, from the options of the program and the command. */
  static of(command: Command, output: Output, signal: AbortSignal): CommandContext {
    const options = command.optsWithGlobals<GlobalOptions>();
    let root: Command = command;
    while (root.parent) root = root.parent;
    return new CommandContext(
      options,
      output,
      signal,
      root.getOptionValueSource("project") === "cli",
      options.apiKey ? root.getOptionValueSource("apiKey") : undefined,
    );
  }

  get json(): boolean {
    return this.options.json === true;
  }

  /** The connection to the suite (opened on first use; nothing is sent until a call). */
  get granary(): Granary {
    this.#granary ??= connect(connectOptions(this.options));
    return this.#granary;
  }

  /** The connection if one was opened (for explaining a failure), without opening one. */
  get openedGranary(): Granary | undefined {
    return this.#granary;
  }

  /** For an UNAUTHENTICATED answer: which key was sent, or where keys are looked for. */
  apiKeyHint(): string {
    const source = this.apiKeySource === "cli" ? "--api-key" : this.apiKeySource === "env" ? "GRANARY_API_KEY" : undefined;
    try {
      return apiKeyHint(source ? { source, adminKeyFile: adminKeyFile() } : locateApiKey(), "--api-key");
    } catch {
      return apiKeyHint({ source: undefined, adminKeyFile: adminKeyFile() }, "--api-key");
    }
  }

  /** The project of --project, which must exist (apply is what creates projects). */
  async project(): Promise<Project> {
    const name = this.options.project;
    try {
      return await this.granary.project(name, { create: false });
    } catch (err) {
      if (ConnectError.from(err).code !== Code.NotFound) throw err;
      throw new CliError(`project "${name}" does not exist: choose one with --project (or GRANARY_PROJECT), or create it with granary apply`);
    }
  }
}

/** The SDK's connection options from the global options. */
export function connectOptions(options: GlobalOptions): ConnectOptions {
  const addresses: Partial<Record<ServiceName, string>> = {};
  for (const name of SERVICES) {
    const value = options[name];
    if (value === undefined) continue;
    if (!/^(?:https?:\/\/)?(?:\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/.test(value))
      throw new UsageError(`--${name} "${value}" is not host:port (or https://host:port)`);
    addresses[name] = value;
  }
  if (options.address !== undefined && /:\d+$/.test(options.address) && !options.address.startsWith("[")) {
    throw new UsageError(
      `--address "${options.address}" names a port: give the host only (each service has its own port) or use --metadata/--online/--offline/--registry host:port`,
    );
  }
  const timeoutMs = options.timeout;
  return {
    address: options.address,
    addresses,
    // Unset, the SDK reads GRANARY_API_KEY_FILE or <GRANARY_DATA_DIR or .granary>/admin.key.
    apiKey: options.apiKey || undefined,
    // Unset, the SDK reads GRANARY_TLS_CA / GRANARY_TLS_CERT / GRANARY_TLS_KEY.
    caFile: options.caFile,
    certFile: options.certFile,
    keyFile: options.keyFile,
    timeoutMs,
    // Inserts and training data stream for as long as the data takes; --timeout only ever extends that.
    streamTimeoutMs: Math.max(600_000, timeoutMs ?? 0),
  };
}
