import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { UsageError } from "./cli-error.js";
import { suggest } from "./suggest.js";

/** The settings a config file may hold (file paths resolved against the file's directory). */
export interface ConfigFile {
  readonly path: string;
  readonly address?: string;
  readonly metadata?: string;
  readonly online?: string;
  readonly offline?: string;
  readonly registry?: string;
  readonly project?: string;
  readonly apiKey?: string;
  readonly apiKeyFile?: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly timeout?: number;
}

const STRING_KEYS = {
  address: "address",
  metadata: "metadata",
  online: "online",
  offline: "offline",
  registry: "registry",
  project: "project",
  api_key: "apiKey",
} as const;
const FILE_KEYS = { api_key_file: "apiKeyFile", ca_file: "caFile", cert_file: "certFile", key_file: "keyFile" } as const;
const KEYS = [...Object.keys(STRING_KEYS), ...Object.keys(FILE_KEYS), "timeout"];

/** Where config files are looked for, first found wins: GRANARY_CONFIG, ./granary.yaml, then the user's. */
export function configFileCandidates(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  if (env["GRANARY_CONFIG"]) return [resolve(cwd, env["GRANARY_CONFIG"])];
  const configHome = env["XDG_CONFIG_HOME"] || join(env["HOME"] || homedir(), ".config");
  return [resolve(cwd, "granary.yaml"), join(configHome, "granary", "config.yaml")];
}

/** The first config file found, checked (unknown keys and wrong types are a usage error naming the file); undefined when there is none. */
export function loadConfigFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ConfigFile | undefined {
  const candidates = configFileCandidates(env, cwd);
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    if (env["GRANARY_CONFIG"]) throw new UsageError(`GRANARY_CONFIG names ${candidates[0]}, which does not exist`);
    return undefined;
  }
  let data: unknown;
  try {
    data = parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`${path}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (data === null || data === undefined) return { path };
  if (typeof data !== "object" || Array.isArray(data)) throw new UsageError(`${path}: a config file is a mapping of ${KEYS.join(", ")}`);
  const out: Record<string, unknown> = { path };
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (key === "timeout") {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
        throw new UsageError(`${path}: timeout must be a positive number of milliseconds`);
      out["timeout"] = value;
      continue;
    }
    const name = STRING_KEYS[key as keyof typeof STRING_KEYS] ?? FILE_KEYS[key as keyof typeof FILE_KEYS];
    if (!name) {
      if (key === "feature_groups" || key === "feature_views")
        throw new UsageError(
          `${path} is a feature manifest, not a config file: name the manifest differently (granary.yaml is where the CLI looks for its settings)`,
        );
      const hint = suggest(key, KEYS);
      throw new UsageError(`${path}: unknown setting "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}; settings are ${KEYS.join(", ")}`);
    }
    if (typeof value !== "string" || value.trim() === "") throw new UsageError(`${path}: ${key} must be a non-empty string`);
    const home = env["HOME"] || homedir();
    out[name] = key in FILE_KEYS ? resolve(dirname(path), value.trim().replace(/^~(?=\/|$)/, home)) : value.trim();
  }
  return out as unknown as ConfigFile;
}
