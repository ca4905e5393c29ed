import { readFileSync } from "node:fs";
import { resolve } from "node:path";

type Env = Record<string, string | undefined>;

/** Where the API key came from (`key` set), or where it was looked for in vain. */
export interface ApiKeyLocation {
  readonly key: string | undefined;
  /** "GRANARY_API_KEY", "GRANARY_API_KEY_FILE (/path)", "/abs/.granary/admin.key", or undefined when none was found. */
  readonly source: string | undefined;
  /** The admin key file of the embedded suite this environment points at (GRANARY_DATA_DIR or ./.granary). */
  readonly adminKeyFile: string;
}

/** `<GRANARY_DATA_DIR or .granary>/admin.key`, absolute: where `npm start` writes the admin key on first start. */
export function adminKeyFile(env: Env = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, env["GRANARY_DATA_DIR"] || ".granary", "admin.key");
}

/**
 * Finds the API key the way the SDK, the CLI, the demos and the Python helper all do: GRANARY_API_KEY;
 * else the file GRANARY_API_KEY_FILE names (which must exist); else the admin key `npm start` wrote
 * under the data directory, when it exists. A key that is there but unreadable is an error, not "no key":
 * the server's UNAUTHENTICATED would hide the real cause.
 */
export function locateApiKey(env: Env = process.env, cwd: string = process.cwd()): ApiKeyLocation {
  const adminFile = adminKeyFile(env, cwd);
  const fromEnv = env["GRANARY_API_KEY"]?.trim();
  if (fromEnv) return { key: fromEnv, source: "GRANARY_API_KEY", adminKeyFile: adminFile };
  const named = env["GRANARY_API_KEY_FILE"];
  if (named) {
    const path = resolve(cwd, named);
    const key = readKeyFile(path, "GRANARY_API_KEY_FILE");
    if (key === undefined) throw new Error(`GRANARY_API_KEY_FILE names ${path}, which does not exist`);
    return { key, source: `GRANARY_API_KEY_FILE (${path})`, adminKeyFile: adminFile };
  }
  const key = readKeyFile(adminFile, "the admin key file");
  return { key, source: key === undefined ? undefined : adminFile, adminKeyFile: adminFile };
}

/** The API key of this environment (see locateApiKey), or undefined when there is none. */
export function resolveApiKey(env: Env = process.env, cwd: string = process.cwd()): string | undefined {
  return locateApiKey(env, cwd).key;
}

/** What to tell a user whose call came back UNAUTHENTICATED: which key was sent, or where one is looked for. */
export function apiKeyHint(location: Pick<ApiKeyLocation, "source" | "adminKeyFile">, option = "the apiKey option"): string {
  const where = `${option}, GRANARY_API_KEY, the file GRANARY_API_KEY_FILE names, or ${location.adminKeyFile} (written by \`npm start\` on first start; GRANARY_DATA_DIR moves it)`;
  return location.source === undefined
    ? `no API key was found: it is read from ${where}`
    : `the API key came from ${location.source}; keys are read from ${where}`;
}

function readKeyFile(path: string, what: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "EACCES" || code === "EPERM")
      throw new Error(`cannot read ${what} ${path}: permission denied (it is mode 0600: run as its owner, or set GRANARY_API_KEY)`);
    if (code === "EISDIR") throw new Error(`${what} ${path} is a directory`);
    throw err;
  }
  const key = text.trim();
  if (key === "") throw new Error(`${what} ${path} is empty`);
  return key;
}

/** TLS files of a connection (absolute paths); what createServiceTransport takes. */
export interface TlsFiles {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/**
 * TLS of the SDK's connections, as every Granary tool reads it: the CA to trust (caFile, else
 * GRANARY_TLS_CA) and a client certificate for servers that require one (certFile + keyFile, else
 * GRANARY_TLS_CERT + GRANARY_TLS_KEY). Undefined when none is set: then only `https://` addresses
 * use TLS, trusting the system's CAs; when set, bare host:port addresses are dialled over TLS too.
 */
export function resolveTls(options: TlsFiles = {}, env: Env = process.env, cwd: string = process.cwd()): TlsFiles | undefined {
  const pick = (given: string | undefined, name: string) => {
    const file = given ?? (env[name] || undefined);
    return file === undefined ? undefined : resolve(cwd, file);
  };
  const explicitPair = options.certFile !== undefined || options.keyFile !== undefined;
  const caFile = pick(options.caFile, "GRANARY_TLS_CA");
  const certFile = explicitPair ? options.certFile && resolve(cwd, options.certFile) : pick(undefined, "GRANARY_TLS_CERT");
  const keyFile = explicitPair ? options.keyFile && resolve(cwd, options.keyFile) : pick(undefined, "GRANARY_TLS_KEY");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new TypeError(
      explicitPair ? "certFile and keyFile go together (a client certificate and its key)" : "GRANARY_TLS_CERT and GRANARY_TLS_KEY must be set together",
    );
  }
  if (caFile === undefined && certFile === undefined) return undefined;
  return { caFile, certFile, keyFile };
}
