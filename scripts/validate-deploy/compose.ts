// docker-compose.yml: interpolated as `docker compose` would with `.env` made from .env.example,
// validated against the vendored Compose Specification schema, then Granary's own rules.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import AjvModule from "ajv";
import formatsModule from "ajv-formats";
import { asArray, asRecord, check, get, type Check } from "./report.js";

// ajv and ajv-formats are CommonJS with a `default` property; Node's ESM import gives module.exports.
type AjvClass = typeof AjvModule.default;
const Ajv: AjvClass = (AjvModule as unknown as { default?: AjvClass }).default ?? (AjvModule as unknown as AjvClass);
type AddFormats = typeof formatsModule.default;
const addFormats: AddFormats = (formatsModule as unknown as { default?: AddFormats }).default ?? (formatsModule as unknown as AddFormats);

export const GRANARY_SERVICES = ["metadata", "online", "offline", "registry"] as const;
type GranaryService = (typeof GRANARY_SERVICES)[number];

/**
 * Who must be healthy before whom: metadata and registry use PostgreSQL, everything calls metadata,
 * offline calls online, and online and offline follow the write log on NATS.
 */
export const REQUIRED_DEPENDENCIES: Record<GranaryService, readonly string[]> = {
  metadata: ["postgres"],
  online: ["metadata", "nats"],
  offline: ["metadata", "online", "nats"],
  registry: ["postgres", "metadata"],
};

/** The services that follow the write log: GRANARY_NATS_URL must point them at the nats service. */
export const WRITE_LOG_SERVICES: readonly GranaryService[] = ["online", "offline"];

/** Infrastructure the Granary services wait for: each needs a healthcheck. */
const INFRASTRUCTURE = ["postgres", "nats"] as const;

/** Where each service writes (its environment variable) — it must be a named volume. */
const STORE_VARIABLES: Partial<Record<GranaryService, string>> = {
  online: "GRANARY_ONLINE_LMDB_PATH",
  offline: "GRANARY_OFFLINE_DATA_ROOT",
  registry: "GRANARY_REGISTRY_BLOB_ROOT",
};

/**
 * Keys the documented setup generates into .env (scripts/dev-keys.sh) and .env.example leaves
 * empty, so that no two machines share a key. The checks interpolate them with a stand-in.
 */
export const GENERATED_VARIABLES = ["GRANARY_SERVICE_KEY", "GRANARY_BOOTSTRAP_ADMIN_KEY"] as const;
const GENERATED_STAND_IN = "<made by scripts/dev-keys.sh>";

/** KEY=VALUE lines of a .env file (comments and blank lines skipped, surrounding quotes removed). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    env[line.slice(0, eq).trim()] = value;
  }
  return env;
}

export interface Interpolation {
  readonly value: string;
  /** Variables referenced with no default. */
  readonly unset: string[];
  /** Errors of ${VAR:?message} whose variable is unset or empty. */
  readonly errors: string[];
}

/**
 * Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
 * ${VAR?error}, ${VAR:+replacement}, ${VAR+replacement}; defaults may nest.
 */
export function interpolate(input: string, env: Record<string, string>): Interpolation {
  const unset: string[] = [];
  const errors: string[] = [];
  let out = "";
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch !== "$") {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
      continue;
    }
    if (next === "{") {
      let depth = 1;
      let j = i + 2;
      while (j < input.length && depth > 0) {
        if (input[j] === "{") depth++;
        else if (input[j] === "}") depth--;
        j++;
      }
      if (depth !== 0) {
        errors.push(`unterminated \${ in "${input}"`);
        out += input.slice(i);
        break;
      }
      const body = input.slice(i + 2, j - 1);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
      if (!m) {
        errors.push(`invalid interpolation \${${body}}`);
      } else {
        const [, name, op, arg = ""] = m as unknown as [string, string, string | undefined, string | undefined];
        const value = env[name!];
        const set = value !== undefined;
        const nonEmpty = set && value !== "";
        const nested = () => {
          const r = interpolate(arg, env);
          unset.push(...r.unset);
          errors.push(...r.errors);
          return r.value;
        };
        switch (op) {
          case undefined:
            if (!set) unset.push(name!);
            out += value ?? "";
            break;
          case ":-":
            out += nonEmpty ? value : nested();
            break;
          case "-":
            out += set ? value : nested();
            break;
          case ":?":
            if (!nonEmpty) errors.push(`${name}: ${arg || "required"}`);
            out += value ?? "";
            break;
          case "?":
            if (!set) errors.push(`${name}: ${arg || "required"}`);
            out += value ?? "";
            break;
          case ":+":
            out += nonEmpty ? nested() : "";
            break;
          case "+":
            out += set ? nested() : "";
            break;
        }
      }
      i = j;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i + 1));
    if (m) {
      if (env[m[0]] === undefined) unset.push(m[0]);
      out += env[m[0]] ?? "";
      i += 1 + m[0].length;
    } else {
      out += "$";
      i++;
    }
  }
  return { value: out, unset, errors };
}

/** Interpolates every string value of a parsed compose file (not the keys, as compose does). */
export function interpolateDocument(doc: unknown, env: Record<string, string>): { doc: unknown; unset: Set<string>; errors: string[] } {
  const unset = new Set<string>();
  const errors: string[] = [];
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") {
      const r = interpolate(value, env);
      r.unset.forEach((u) => unset.add(u));
      errors.push(...r.errors);
      return r.value;
    }
    if (Array.isArray(value)) return value.map(walk);
    const record = asRecord(value);
    if (record) return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return { doc: walk(doc), unset, errors };
}

export interface ComposeFile {
  /** As written, YAML merge keys (<<) resolved. */
  readonly raw: unknown;
  /** After interpolation with `env`. */
  readonly doc: unknown;
  readonly env: Record<string, string>;
  /** .env.example as written (before the generated keys' stand-ins). */
  readonly example: Record<string, string>;
  readonly unset: ReadonlySet<string>;
  readonly interpolationErrors: readonly string[];
}

export function loadCompose(composeText: string, envText: string): ComposeFile {
  const raw = parse(composeText, { merge: true }) as unknown;
  const example = parseEnvFile(envText);
  // As after `cp .env.example .env && scripts/dev-keys.sh`.
  const env = { ...example };
  for (const key of GENERATED_VARIABLES) if (key in env && env[key] === "") env[key] = GENERATED_STAND_IN;
  const { doc, unset, errors } = interpolateDocument(raw, env);
  return { raw, doc, env, example, unset, interpolationErrors: errors };
}

export function loadComposeFiles(composePath: string, envExamplePath: string): ComposeFile {
  return loadCompose(readFileSync(composePath, "utf8"), readFileSync(envExamplePath, "utf8"));
}

let validator: ReturnType<InstanceType<AjvClass>["compile"]> | undefined;
let validatorSchema: string | undefined;

/** The interpolated file against the Compose Specification JSON schema. */
export function validateComposeSchema(doc: unknown, schemaPath: string): string[] {
  if (!validator || validatorSchema !== schemaPath) {
    // strict: false — the official schema uses annotation keywords (deprecated) that draft-07 lacks.
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as { $schema?: string };
    // The official file names draft-07 by its https URL; ajv knows the meta-schema by its http id.
    if (schema.$schema && /json-schema\.org\/draft-07\/schema#?$/.test(schema.$schema)) schema.$schema = "http://json-schema.org/draft-07/schema#";
    validator = ajv.compile(schema);
    validatorSchema = schemaPath;
  }
  if (validator(doc)) return [];
  // oneOf/anyOf alternatives repeat themselves; keep one line per distinct message.
  const lines = (validator.errors ?? []).map((e) => {
    const extra = e.keyword === "additionalProperties" ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : "";
    return `${e.instancePath || "/"} ${e.message ?? e.keyword}${extra}`;
  });
  return [...new Set(lines)];
}

export function environmentOf(service: unknown): Record<string, string> {
  const env = get(service, "environment");
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const item of env) {
      const s = String(item);
      const eq = s.indexOf("=");
      if (eq > 0) out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else {
    for (const [k, v] of Object.entries(asRecord(env) ?? {})) out[k] = v === null || v === undefined ? "" : String(v);
  }
  return out;
}

export interface Mount {
  readonly source: string | undefined;
  readonly target: string;
  readonly readOnly: boolean;
  readonly named: boolean;
}

export function mountsOf(service: unknown): Mount[] {
  return asArray(get(service, "volumes")).flatMap((v): Mount[] => {
    if (typeof v === "string") {
      const parts = v.split(":");
      if (parts.length === 1) return [{ source: undefined, target: parts[0]!, readOnly: false, named: false }];
      const [source, target, mode = ""] = parts as [string, string, string?];
      return [{ source, target, readOnly: /\bro\b/.test(mode), named: !/^[./~]/.test(source) }];
    }
    const r = asRecord(v);
    if (!r) return [];
    const source = typeof r.source === "string" ? r.source : undefined;
    return [{ source, target: String(r.target), readOnly: r.read_only === true, named: r.type === "volume" && source !== undefined }];
  });
}

function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const re = /(\d+(?:\.\d+)?)(us|ms|s|m|h)/g;
  let total = 0;
  let matched = "";
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "us" | "ms" | "s" | "m" | "h"];
    matched += m[0];
  }
  return matched === value ? total : undefined;
}

/** Granary's rules for the compose file. `file` is the interpolated, merged document. */
export function checkCompose(file: ComposeFile, options: { envFileExists?: (name: string) => boolean } = {}): Check[] {
  const section = "compose";
  const doc = file.doc;
  const services = asRecord(get(doc, "services")) ?? {};
  const rawServices = asRecord(get(file.raw, "services")) ?? {};
  const topVolumes = asRecord(get(doc, "volumes")) ?? {};
  const checks: Check[] = [];
  const granary = GRANARY_SERVICES.filter((s) => services[s] !== undefined);

  checks.push(
    check(
      section,
      "services: postgres, nats, metadata, online, offline, registry, otel-collector",
      [...INFRASTRUCTURE, ...GRANARY_SERVICES, "otel-collector"].filter((s) => services[s] === undefined).map((s) => `service ${s} is missing`),
    ),
  );

  checks.push(
    check(section, ".env.example defines every variable the file needs", [
      ...file.interpolationErrors.map((e) => `with .env copied from .env.example: ${e}`),
      ...[...file.unset].map((v) => `\${${v}} has no default and is not in .env.example`),
    ]),
  );

  // Healthchecks.
  const healthProblems: string[] = [];
  for (const name of [...INFRASTRUCTURE.filter((s) => services[s] !== undefined), ...granary]) {
    const hc = asRecord(get(services[name], "healthcheck"));
    if (!hc || hc.disable === true) {
      healthProblems.push(`${name}: no healthcheck (depends_on service_healthy needs one)`);
      continue;
    }
    const test = Array.isArray(hc.test) ? hc.test.map(String).join(" ") : String(hc.test ?? "");
    if (test === "" || /^NONE\b/.test(test)) healthProblems.push(`${name}: healthcheck.test is empty or NONE`);
    for (const field of ["interval", "timeout", "retries"]) if (hc[field] === undefined) healthProblems.push(`${name}: healthcheck.${field} is not set`);
    if ((GRANARY_SERVICES as readonly string[]).includes(name)) {
      const port = environmentOf(services[name])[`GRANARY_${name.toUpperCase()}_PORT`];
      if (!test.includes("deploy/healthcheck.mjs")) healthProblems.push(`${name}: the healthcheck must call grpc.health.v1 with node deploy/healthcheck.mjs`);
      if (!port) healthProblems.push(`${name}: GRANARY_${name.toUpperCase()}_PORT is not set in its environment`);
      else if (!test.includes(`:${port}`)) healthProblems.push(`${name}: the healthcheck does not probe its port ${port}`);
      if (hc.start_period === undefined) healthProblems.push(`${name}: healthcheck.start_period is not set (a first start migrates the catalogue)`);
    }
  }
  checks.push(check(section, "healthchecks (grpc health for the four services, pg_isready for postgres, /healthz for nats)", healthProblems));

  // depends_on.
  const dependsProblems: string[] = [];
  for (const name of granary) {
    const dependsOn = get(services[name], "depends_on");
    if (Array.isArray(dependsOn)) {
      dependsProblems.push(`${name}: depends_on is a list, which only waits for the start; use the long form with condition: service_healthy`);
      continue;
    }
    const deps = asRecord(dependsOn) ?? {};
    for (const required of REQUIRED_DEPENDENCIES[name]) {
      if (deps[required] === undefined) dependsProblems.push(`${name}: must depend on ${required}`);
    }
    for (const [dep, spec] of Object.entries(deps)) {
      if (services[dep] === undefined) dependsProblems.push(`${name}: depends on ${dep}, which is not a service`);
      const condition = get(spec, "condition");
      const depHasHealthcheck = asRecord(get(services[dep], "healthcheck")) !== undefined;
      if (depHasHealthcheck && condition !== "service_healthy") {
        dependsProblems.push(`${name}: depends_on ${dep} has condition ${String(condition ?? "service_started")}, must be service_healthy`);
      }
      if (!depHasHealthcheck && condition === "service_healthy") {
        dependsProblems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
      if (!depHasHealthcheck && ((INFRASTRUCTURE as readonly string[]).includes(dep) || (GRANARY_SERVICES as readonly string[]).includes(dep))) {
        dependsProblems.push(`${name}: depends on ${dep}, which needs a healthcheck so that the start waits for it to serve`);
      }
    }
  }
  checks.push(check(section, "depends_on with condition service_healthy", dependsProblems));

  // Volumes.
  const volumeProblems: string[] = [];
  const requireNamedVolume = (service: string, path: string, what: string): void => {
    const mount = mountsOf(services[service]).find((m) => path === m.target || path.startsWith(`${m.target.replace(/\/$/, "")}/`));
    if (!mount) {
      volumeProblems.push(`${service}: ${what} ${path} is not on a volume (the container's root filesystem is read-only and ephemeral)`);
      return;
    }
    if (!mount.named) volumeProblems.push(`${service}: ${what} ${path} is on ${mount.source ?? "an anonymous volume"}, use a named volume`);
    else if (!Object.prototype.hasOwnProperty.call(topVolumes, mount.source!))
      volumeProblems.push(`${service}: volume ${mount.source} is not declared under the top-level volumes`);
    if (mount.readOnly) volumeProblems.push(`${service}: ${mount.target} is mounted read-only, but the service writes ${path}`);
  };
  if (services.postgres !== undefined) requireNamedVolume("postgres", "/var/lib/postgresql/data", "PGDATA");
  for (const name of granary) {
    const variable = STORE_VARIABLES[name];
    if (!variable) continue;
    const path = environmentOf(services[name])[variable];
    if (!path) volumeProblems.push(`${name}: ${variable} is not set in its environment`);
    else requireNamedVolume(name, path, variable);
  }
  checks.push(check(section, "named volumes for postgres and the online, offline and registry data", volumeProblems));

  checks.push(check(section, "nats: the official image (2.9.x or 2.10.x) with JetStream on a named volume, /healthz on its monitoring port", checkNats(file)));
  checks.push(check(section, "online and offline follow the write log: GRANARY_NATS_URL points at the nats service", checkWriteLogWiring(file)));

  // Memory limits.
  checks.push(
    check(
      section,
      "memory limits on every service",
      Object.entries(services)
        .filter(([, s]) => get(s, "deploy", "resources", "limits", "memory") === undefined && get(s, "mem_limit") === undefined)
        .map(([name]) => `${name}: set deploy.resources.limits.memory`),
    ),
  );

  // env_file.
  const envFileProblems: string[] = [];
  for (const name of granary) {
    const envFile = get(services[name], "env_file");
    const files = (Array.isArray(envFile) ? envFile : envFile === undefined ? [] : [envFile]).map((f) => (typeof f === "string" ? f : String(get(f, "path"))));
    if (!files.includes(".env")) envFileProblems.push(`${name}: env_file must include .env (the shared settings)`);
  }
  if (options.envFileExists && !options.envFileExists(".env.example"))
    envFileProblems.push(".env.example is missing (the documented first step is cp .env.example .env)");
  checks.push(check(section, "env_file: .env on the four services", envFileProblems));

  // As locked down as the Kubernetes pods.
  const securityProblems: string[] = [];
  for (const name of granary) {
    const s = services[name];
    if (get(s, "read_only") !== true) securityProblems.push(`${name}: read_only must be true`);
    const tmpfs = get(s, "tmpfs");
    const tmpfsList = (Array.isArray(tmpfs) ? tmpfs : [tmpfs]).map((t) => String(t).split(":")[0]);
    if (!tmpfsList.includes("/tmp")) securityProblems.push(`${name}: needs a tmpfs at /tmp (HOME, temporary files) with read_only`);
    if (!asArray(get(s, "cap_drop")).includes("ALL")) securityProblems.push(`${name}: cap_drop must include ALL`);
    if (!asArray(get(s, "security_opt")).some((o) => /^no-new-privileges(:true)?$/.test(String(o))))
      securityProblems.push(`${name}: security_opt must include no-new-privileges:true`);
  }
  for (const [name, s] of Object.entries(services)) {
    if (get(s, "privileged") === true) securityProblems.push(`${name}: privileged must not be true`);
    if (get(s, "user") === "root" || get(s, "user") === "0") securityProblems.push(`${name}: must not run as root`);
  }
  checks.push(check(section, "read-only root, tmpfs /tmp, cap_drop ALL, no-new-privileges", securityProblems));

  // Secrets only through interpolation.
  const secretProblems: string[] = [];
  for (const [name, s] of Object.entries(rawServices)) {
    for (const [key, value] of Object.entries(environmentOf(s))) {
      // ${...} interpolations become a placeholder; the password must be nothing but one.
      const url = /postgres(?:ql)?:\/\/([^/\s@]*)@/i.exec(value.replace(/\$\{[^}]*\}/g, "\u0000"));
      const password = url?.[1]?.split(":")[1];
      if (password !== undefined && password !== "" && !/^\u0000+$/.test(password)) {
        secretProblems.push(`${name}: ${key} has a literal password; take it from .env (\${POSTGRES_PASSWORD})`);
      }
      if ((/PASSWORD|SECRET|TOKEN/i.test(key) || /^GRANARY_(SERVICE|BOOTSTRAP_ADMIN|API|ADMIN)_KEY$/.test(key)) && value !== "" && !value.includes("${")) {
        secretProblems.push(`${name}: ${key} is a literal; take it from .env`);
      }
      if (/\bgrn_[a-z0-9]{1,32}_[A-Za-z0-9_-]{16,}/.test(value)) secretProblems.push(`${name}: ${key} holds an API key; take it from .env`);
    }
  }
  checks.push(check(section, "no credentials written into docker-compose.yml", secretProblems));

  // Keys: generated per machine, required, the admin key for metadata only.
  const keyProblems: string[] = [];
  for (const key of GENERATED_VARIABLES) {
    if (!(key in file.example)) keyProblems.push(`.env.example must list ${key}= (empty: scripts/dev-keys.sh fills it in)`);
    else if (file.example[key] !== "") keyProblems.push(`.env.example sets ${key}: leave it empty, every machine makes its own (scripts/dev-keys.sh)`);
  }
  for (const name of granary) {
    const rawEnv = environmentOf(rawServices[name]);
    const env = environmentOf(services[name]);
    if (!/^\$\{GRANARY_SERVICE_KEY:\?/.test(rawEnv.GRANARY_SERVICE_KEY ?? ""))
      keyProblems.push(`${name}: GRANARY_SERVICE_KEY must be \${GRANARY_SERVICE_KEY:?...} (from .env, required)`);
    if (name === "metadata") {
      if (!/^\$\{GRANARY_BOOTSTRAP_ADMIN_KEY:\?/.test(rawEnv.GRANARY_BOOTSTRAP_ADMIN_KEY ?? ""))
        keyProblems.push("metadata: GRANARY_BOOTSTRAP_ADMIN_KEY must be ${GRANARY_BOOTSTRAP_ADMIN_KEY:?...} (from .env, required)");
    } else if (env.GRANARY_BOOTSTRAP_ADMIN_KEY !== "") {
      keyProblems.push(`${name}: set GRANARY_BOOTSTRAP_ADMIN_KEY to "" (env_file would hand it the admin key; only metadata needs it)`);
    }
  }
  checks.push(check(section, "the service key and the bootstrap admin key from .env (generated, required; the admin key for metadata only)", keyProblems));

  // TLS on every Granary service, from a read-only volume.
  const tlsProblems: string[] = [];
  for (const name of granary) {
    const env = { ...file.env, ...environmentOf(services[name]) };
    for (const variable of ["GRANARY_TLS_CERT", "GRANARY_TLS_KEY"]) {
      const path = env[variable];
      if (!path) {
        tlsProblems.push(`${name}: ${variable} is not set (TLS on every port)`);
        continue;
      }
      const mount = mountsOf(services[name]).find((m) => path.startsWith(`${m.target.replace(/\/$/, "")}/`));
      if (!mount) tlsProblems.push(`${name}: ${variable} ${path} is on no volume`);
      else if (!mount.readOnly) tlsProblems.push(`${name}: ${mount.target} (TLS files) must be mounted read-only`);
    }
  }
  checks.push(check(section, "TLS on the four services, certificates on a read-only volume", tlsProblems));

  // Ports published on the loopback only.
  const portProblems: string[] = [];
  for (const [name, s] of Object.entries(services)) {
    for (const p of asArray(get(s, "ports"))) {
      const hostIp =
        typeof p === "string" || typeof p === "number" ? (String(p).split(":").length === 3 ? String(p).split(":")[0] : undefined) : get(p, "host_ip");
      if (hostIp !== "127.0.0.1")
        portProblems.push(`${name}: port ${typeof p === "object" ? JSON.stringify(p) : String(p)} is published on every interface; bind it to 127.0.0.1`);
    }
  }
  checks.push(check(section, "ports published on 127.0.0.1 only", portProblems));

  // Images and shutdown.
  const miscProblems: string[] = [];
  for (const [name, s] of Object.entries(services)) {
    const image = get(s, "image");
    if (typeof image === "string" && (!/:[^/]+$|@sha256:/.test(image) || image.endsWith(":latest")))
      miscProblems.push(`${name}: image ${image} needs an explicit version tag`);
    if (typeof image !== "string" && get(s, "build") === undefined) miscProblems.push(`${name}: neither image nor build`);
  }
  for (const name of granary) {
    const env = { ...file.env, ...environmentOf(services[name]) };
    const drain = Number(env.GRANARY_DRAIN_DELAY_MS ?? 0);
    const grace = Number(env.GRANARY_SHUTDOWN_GRACE_MS ?? 10_000);
    const stop = durationMs(get(services[name], "stop_grace_period")) ?? 10_000;
    if (!(stop > drain + grace))
      miscProblems.push(
        `${name}: stop_grace_period (${stop / 1000}s) must exceed GRANARY_DRAIN_DELAY_MS + GRANARY_SHUTDOWN_GRACE_MS (${(drain + grace) / 1000}s)`,
      );
  }
  checks.push(check(section, "image tags; stop_grace_period longer than drain + grace", miscProblems));

  return checks;
}

/** A command as its list of arguments (the string form split on whitespace, as compose does without quotes). */
export function commandArgs(service: unknown): string[] {
  const command = get(service, "command");
  if (Array.isArray(command)) return command.map(String);
  return typeof command === "string" ? command.trim().split(/\s+/) : [];
}

/** The value after the first of `flags` (`-sd /data`, `--store_dir=/data`); true when a flag has no value; undefined when absent. */
function flagValue(args: readonly string[], flags: readonly string[]): string | true | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    for (const flag of flags) {
      if (arg === flag) {
        const next = args[i + 1];
        return next !== undefined && !next.startsWith("-") ? next : true;
      }
      if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
    }
  }
  return undefined;
}

/** nats-server's client port: `-p`/`--port`, 4222 by default. */
function natsClientPort(args: readonly string[]): string {
  const port = flagValue(args, ["-p", "--port"]);
  return typeof port === "string" ? port : "4222";
}

/**
 * The nats service: the official image pinned to a 2.9.x or 2.10.x release (the write log needs
 * JetStream as 2.9 has it; decision 0005), JetStream on (`-js`) with its store directory (`-sd`) on a
 * writable named volume, the monitoring port (`-m`) on, and a healthcheck asking its /healthz.
 */
export function checkNats(file: ComposeFile): string[] {
  const services = asRecord(get(file.doc, "services")) ?? {};
  const topVolumes = asRecord(get(file.doc, "volumes")) ?? {};
  const nats = services.nats;
  if (nats === undefined) return ["service nats is missing: online and offline follow the write log on NATS JetStream"];
  const problems: string[] = [];
  const image = String(get(nats, "image") ?? "");
  if (!/^(docker\.io\/)?(library\/)?nats:2\.(9|10)\.\d+(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?$/.test(image)) {
    problems.push(`nats: image ${image || "(none)"} must be the official nats image pinned to a 2.9.x or 2.10.x release, such as nats:2.10.16-alpine3.19`);
  }
  const args = commandArgs(nats);
  if (flagValue(args, ["-js", "--jetstream"]) === undefined)
    problems.push("nats: the command must turn JetStream on (-js): the write log is a JetStream stream");
  const storeDir = flagValue(args, ["-sd", "--store_dir"]);
  if (typeof storeDir !== "string") {
    problems.push("nats: the command must give JetStream a store directory (-sd /data) on a volume; the default is a temporary directory in the container");
  } else {
    const mount = mountsOf(nats).find((m) => storeDir === m.target || storeDir.startsWith(`${m.target.replace(/\/$/, "")}/`));
    if (!mount) problems.push(`nats: the JetStream store ${storeDir} is not on a volume, so the log is lost with the container`);
    else {
      if (!mount.named) problems.push(`nats: the JetStream store ${storeDir} is on ${mount.source ?? "an anonymous volume"}, use a named volume`);
      else if (!Object.prototype.hasOwnProperty.call(topVolumes, mount.source!))
        problems.push(`nats: volume ${mount.source} is not declared under the top-level volumes`);
      if (mount.readOnly) problems.push(`nats: ${mount.target} is mounted read-only, but JetStream writes ${storeDir}`);
    }
  }
  const monitor = flagValue(args, ["-m", "--http_port"]);
  const hc = asRecord(get(nats, "healthcheck"));
  const test = Array.isArray(hc?.test) ? hc.test.map(String).join(" ") : String(hc?.test ?? "");
  if (typeof monitor !== "string") {
    problems.push("nats: the command must turn the monitoring port on (-m 8222): the healthcheck asks its /healthz");
  } else if (hc && !new RegExp(`:${monitor}/healthz\\b`).test(test)) {
    problems.push(`nats: the healthcheck must ask the monitoring port's /healthz (http://127.0.0.1:${monitor}/healthz), is ${test || "empty"}`);
  }
  return problems;
}

/** GRANARY_NATS_URL on online and offline: nats://nats:<client port>, so both follow the one log. */
export function checkWriteLogWiring(file: ComposeFile): string[] {
  const services = asRecord(get(file.doc, "services")) ?? {};
  if (services.nats === undefined) return [];
  const expected = `nats://nats:${natsClientPort(commandArgs(services.nats))}`;
  const problems: string[] = [];
  for (const name of WRITE_LOG_SERVICES) {
    if (services[name] === undefined) continue;
    const url = environmentOf(services[name]).GRANARY_NATS_URL ?? file.env.GRANARY_NATS_URL;
    if (url === undefined || url === "") problems.push(`${name}: GRANARY_NATS_URL is not set; it must be ${expected} (the nats service)`);
    else if (url.replace(/\/$/, "") !== expected) problems.push(`${name}: GRANARY_NATS_URL is ${url}, must be ${expected} (the nats service)`);
  }
  return problems;
}
