import type { Command } from "commander";
import type { ConnectOptions, Granary, Project, ServiceName } from "@granary/client";
import { readFileSync } from "node:fs";
import { CliError, UsageError } from "./cli-error.js";
import { loadConfigFile, type ConfigFile } from "./config-file.js";
import { runtime } from "./runtime.js";

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
  static of(command: Command, output: Output, signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): CommandContext {
    let root: Command = command;
    while (root.parent) root = root.parent;
    const given = command.optsWithGlobals<GlobalOptions>();
    const config = loadConfigFile(env);
    const options = config ? withConfigFile(given, config, root.getOptionValueSource("project") === "default", env) : given;
    const apiKeySource = given.apiKey ? root.getOptionValueSource("apiKey") : options.apiKey ? `the config file ${config!.path}` : undefined;
    return new CommandContext(options, output, signal, root.getOptionValueSource("project") === "cli", apiKeySource);
  }

  get json(): boolean {
    return this.options.json === true;
  }

  /** The connection to the suite (opened on first use; nothing is sent until a call). */
  get granary(): Granary {
    this.#granary ??= runtime().client.connect(connectOptions(this.options));
    return this.#granary;
  }

  /** The connection if one was opened (for explaining a failure), without opening one. */
  get openedGranary(): Granary | undefined {
    return this.#granary;
  }

  /** For an UNAUTHENTICATED answer: which key was sent, or where keys are looked for. */
  apiKeyHint(): string {
    const source = this.apiKeySource === "cli" ? "--api-key" : this.apiKeySource === "env" ? "GRANARY_API_KEY" : this.apiKeySource;
    const { adminKeyFile, apiKeyHint, locateApiKey } = runtime().client;
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
      const { Code, ConnectError } = runtime().connect;
      if (ConnectError.from(err).code !== Code.NotFound) throw err;
      throw new CliError(`project "${name}" does not exist: choose one with --project (or GRANARY_PROJECT), or create it with granary apply`);
    }
  }
}

/**
 * The options with the config file's settings where neither a flag nor the environment gave one:
 * flags > environment > config file > defaults.
 */
export function withConfigFile(options: GlobalOptions, config: ConfigFile, projectIsDefault: boolean, env: NodeJS.ProcessEnv): GlobalOptions {
  const unset = (flag: unknown, ...vars: string[]) => flag === undefined && vars.every((v) => !env[v]);
  const out: { -readonly [K in keyof GlobalOptions]: GlobalOptions[K] } = { ...options };
  // An address given by flag or environment (a host, or any service's) wins over all of the file's.
  const addressGiven = options.address !== undefined || !!env["GRANARY_HOST"];
  for (const name of SERVICES) {
    if (!addressGiven && unset(options[name], `GRANARY_${name.toUpperCase()}_ADDRESS`) && config[name]) out[name] = config[name];
  }
  if (!addressGiven && config.address && SERVICES.every((n) => out[n] === undefined && !env[`GRANARY_${n.toUpperCase()}_ADDRESS`]))
    out.address = config.address;
  else if (!addressGiven && config.address) {
    // Services the file and environment leave unset go to the file's host, on their default ports.
    for (const name of SERVICES)
      if (out[name] === undefined && !env[`GRANARY_${name.toUpperCase()}_ADDRESS`]) out[name] = `${config.address}:${DEFAULT_PORTS[name]}`;
  }
  if (projectIsDefault && config.project) out.project = config.project;
  if (unset(options.apiKey, "GRANARY_API_KEY", "GRANARY_API_KEY_FILE")) {
    if (config.apiKey) out.apiKey = config.apiKey;
    else if (config.apiKeyFile) {
      try {
        out.apiKey = readFileSync(config.apiKeyFile, "utf8").trim();
      } catch (err) {
        throw new UsageError(`cannot read the API key file ${config.apiKeyFile} named by ${config.path}: ${(err as Error).message}`);
      }
    }
  }
  if (unset(options.caFile, "GRANARY_TLS_CA") && config.caFile) out.caFile = config.caFile;
  if (unset(options.certFile, "GRANARY_TLS_CERT") && config.certFile) out.certFile = config.certFile;
  if (unset(options.keyFile, "GRANARY_TLS_KEY") && config.keyFile) out.keyFile = config.keyFile;
  if (options.timeout === undefined && config.timeout) out.timeout = config.timeout;
  return out;
}

const DEFAULT_PORTS: Record<ServiceName, number> = { metadata: 50051, online: 50052, offline: 50053, registry: 50054 };

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
