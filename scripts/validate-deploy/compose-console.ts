// docker-compose.yml's browser-facing pieces: each service's HTTP port (Connect, gRPC-Web, JSON)
// set and published on the loopback, and the console service: the image's console server on its
// published port, proxying to each service's HTTP port (over TLS when the service serves it,
// trusting the CA from a read-only volume), holding no key, healthy by its /healthz.
import { commandArgs, environmentOf, GRANARY_SERVICES, mountsOf, type ComposeFile } from "./compose.js";
import { asArray, asRecord, check, get, type Check } from "./report.js";

export const CONSOLE_SERVICE = "console";
export const CONSOLE_ENTRY = "dist/console.js";

/** Host ports published on 127.0.0.1, by container port. */
function published(service: unknown): Map<number, string> {
  const out = new Map<number, string>();
  for (const p of asArray(get(service, "ports"))) {
    if (typeof p === "string" || typeof p === "number") {
      const parts = String(p).split(":");
      if (parts.length === 3) out.set(Number(parts[2]), parts[0]!);
    } else {
      out.set(Number(get(p, "target")), String(get(p, "host_ip")));
    }
  }
  return out;
}

export function checkComposeConsole(file: ComposeFile): Check[] {
  const section = "compose";
  const services = asRecord(get(file.doc, "services")) ?? {};
  const envOf = (name: string) => ({ ...file.env, ...environmentOf(services[name]) });

  const httpProblems: string[] = [];
  const httpPorts = new Map<string, number>();
  for (const name of GRANARY_SERVICES) {
    if (services[name] === undefined) continue;
    const env = environmentOf(services[name]);
    // A service in its own process reads GRANARY_HTTP_PORT; with its gRPC port set and this unset, the HTTP port would be random.
    const raw = env[`GRANARY_${name.toUpperCase()}_HTTP_PORT`] ?? env.GRANARY_HTTP_PORT;
    const port = Number(raw);
    if (raw === undefined || !Number.isInteger(port) || port <= 0) {
      httpProblems.push(`${name}: GRANARY_HTTP_PORT is not set (with GRANARY_${name.toUpperCase()}_PORT set, the HTTP port would be a random one)`);
      continue;
    }
    httpPorts.set(name, port);
    if (String(port) === env[`GRANARY_${name.toUpperCase()}_PORT`]) httpProblems.push(`${name}: GRANARY_HTTP_PORT ${port} is its gRPC port`);
    if (published(services[name]).get(port) !== "127.0.0.1") httpProblems.push(`${name}: its HTTP port ${port} is not published on 127.0.0.1`);
  }
  const checks = [check(section, "each service's HTTP port (Connect, gRPC-Web, JSON): GRANARY_HTTP_PORT set and published on 127.0.0.1", httpProblems)];

  const console = services[CONSOLE_SERVICE];
  const name = "console: the image's console server on a published port, proxying to each service's HTTP port, no keys, healthy by /healthz";
  if (console === undefined) return [...checks, check(section, name, ["service console is missing (the web console)"])];
  const problems: string[] = [];
  const env = environmentOf(console);
  if (!commandArgs(console).includes(CONSOLE_ENTRY)) problems.push(`console: the command must run ${CONSOLE_ENTRY}`);
  if (get(console, "build") === undefined && get(console, "image") !== get(services.metadata, "image"))
    problems.push("console: must run the services' image (it holds the built console)");
  const port = Number(env.GRANARY_CONSOLE_PORT ?? 51050);
  if (env.GRANARY_CONSOLE_HOST !== "0.0.0.0")
    problems.push("console: GRANARY_CONSOLE_HOST must be 0.0.0.0 (the default 127.0.0.1 is unreachable through the published port)");
  if (published(console).get(port) !== "127.0.0.1") problems.push(`console: its port ${port} is not published on 127.0.0.1`);

  for (const service of GRANARY_SERVICES) {
    const variable = `GRANARY_${service.toUpperCase()}_HTTP_URL`;
    const value = env[variable];
    const expectedPort = httpPorts.get(service);
    if (value === undefined) {
      problems.push(`console: ${variable} is not set (the default, 127.0.0.1, is the console's own container)`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      problems.push(`console: ${variable} ${value} is not a URL`);
      continue;
    }
    const tls = envOf(service).GRANARY_TLS_CERT !== undefined && envOf(service).GRANARY_TLS_CERT !== "";
    const scheme = tls ? "https:" : "http:";
    if (url.protocol !== scheme)
      problems.push(`console: ${variable} ${value} must use ${scheme.slice(0, -1)} (${service} ${tls ? "serves" : "does not serve"} TLS)`);
    if (url.hostname !== service) problems.push(`console: ${variable} ${value} is not the ${service} service`);
    if (expectedPort !== undefined && Number(url.port) !== expectedPort)
      problems.push(`console: ${variable} ${value} is not ${service}'s HTTP port ${expectedPort}`);
  }
  const anyTls = GRANARY_SERVICES.some((s) => services[s] !== undefined && (envOf(s).GRANARY_TLS_CERT ?? "") !== "");
  if (anyTls) {
    const ca = env.NODE_EXTRA_CA_CERTS;
    const mount = ca === undefined ? undefined : mountsOf(console).find((m) => ca.startsWith(`${m.target.replace(/\/$/, "")}/`));
    if (ca === undefined) problems.push("console: NODE_EXTRA_CA_CERTS is not set: it cannot trust the services' certificates");
    else if (!mount || !mount.readOnly) problems.push(`console: NODE_EXTRA_CA_CERTS ${ca} must be on a read-only volume`);
  }

  // No keys: the browser sends the user's own with each call.
  if (get(console, "env_file") !== undefined) problems.push("console: no env_file: .env holds the service key and the bootstrap admin key");
  for (const key of Object.keys(env)) {
    if (/^(GRANARY_(SERVICE|BOOTSTRAP_ADMIN|API|ADMIN)_KEY|DATABASE_URL|GRANARY_TLS_KEY)$/.test(key))
      problems.push(`console: ${key} is set, but the console holds no key`);
  }

  const hc = asRecord(get(console, "healthcheck"));
  const test = Array.isArray(hc?.test) ? hc.test.map(String).join(" ") : String(hc?.test ?? "");
  if (!new RegExp(`:${port}/healthz\\b`).test(test))
    problems.push(`console: the healthcheck must ask http://127.0.0.1:${port}/healthz, is ${test || "missing"}`);
  if (get(console, "read_only") !== true) problems.push("console: read_only must be true");
  if (!asArray(get(console, "tmpfs")).some((t) => String(t).split(":")[0] === "/tmp"))
    problems.push("console: needs a tmpfs at /tmp (HOME, temporary files) with read_only");
  if (!asArray(get(console, "cap_drop")).includes("ALL")) problems.push("console: cap_drop must include ALL");
  if (!asArray(get(console, "security_opt")).some((o) => /^no-new-privileges(:true)?$/.test(String(o))))
    problems.push("console: security_opt must include no-new-privileges:true");
  if (get(console, "depends_on", "metadata", "condition") !== "service_healthy")
    problems.push("console: must depend on metadata with condition service_healthy (signing in asks it)");
  return [...checks, check(section, name, problems)];
}
