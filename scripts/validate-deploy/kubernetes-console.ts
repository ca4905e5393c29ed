// The web console's objects in a rendered chart: a Deployment running the console server, reaching
// each service's HTTP port through its Service (https when the services serve TLS, trusting the
// CA), holding no key and no database URL, probed on /healthz, locked down like the services, with
// its Service, PodDisruptionBudget and a NetworkPolicy that admits its port.
import { asArray, asRecord, check, get, type Check } from "./report.js";
import {
  COMPONENTS,
  containersOf,
  describe,
  envOf,
  envValue,
  labelsMatch,
  probePort,
  restrictedPodProblems,
  selects,
  type Component,
  type K8sObject,
} from "./kubernetes.js";

export const CONSOLE_ENTRY = "dist/console.js";

export interface ConsoleExpectations {
  readonly port: number;
  readonly replicas: number;
  /** The services serve TLS (tls.enabled): the console dials https. */
  readonly tls: boolean;
  /** tls.caKey with tls.enabled: the console must trust that key of this Secret. */
  readonly ca?: { readonly secret: string; readonly key: string };
  readonly podDisruptionBudget: boolean;
  readonly networkPolicy: boolean;
}

/** What the merged values promise about the console; null when console.enabled is false. */
export function consoleFromValues(values: unknown): ConsoleExpectations | null {
  const v = (...path: string[]) => get(values, ...path);
  if (v("console", "enabled") === false) return null;
  const tls = v("tls", "enabled") === true;
  const caKey = typeof v("tls", "caKey") === "string" ? (v("tls", "caKey") as string) : "";
  return {
    port: Number(v("console", "port") ?? 51050),
    replicas: Number(v("console", "replicas") ?? 1),
    tls,
    ...(tls && caKey !== "" ? { ca: { secret: String(v("tls", "secretName")), key: caKey } } : {}),
    podDisruptionBudget: v("podDisruptionBudget", "enabled") !== false,
    networkPolicy: v("networkPolicy", "enabled") === true,
  };
}

const SECRETS = /^(GRANARY_(SERVICE|BOOTSTRAP_ADMIN|API|ADMIN)_KEY|DATABASE_URL|GRANARY_TLS_KEY)$/;

function isConsole(o: K8sObject): boolean {
  return get(o, "metadata", "labels", "app.kubernetes.io/component") === "console";
}

/** The console's rules; `expect` null: there must be no console at all. */
export function checkConsole(objects: readonly K8sObject[], expect: ConsoleExpectations | null): Check[] {
  const section = "kubernetes";
  const name = "the console: a Deployment of the console server on its port, proxying to each service's HTTP port, no keys, probed on /healthz, locked down";
  const workloads = objects.filter((o) => ["Deployment", "StatefulSet", "DaemonSet", "Pod"].includes(o.kind) && isConsole(o));
  if (expect === null) {
    const stray = objects.filter(isConsole).map((o) => `${describe(o)} rendered although console.enabled is false`);
    return [check(section, "no console objects when console.enabled is false", stray)];
  }
  if (workloads.length !== 1 || workloads[0]!.kind !== "Deployment") {
    return [
      check(section, name, [`expected one Deployment labelled app.kubernetes.io/component=console, found ${workloads.map(describe).join(", ") || "none"}`]),
    ];
  }
  const deployment = workloads[0]!;
  const pod = asRecord(get(deployment, "spec", "template")) ?? {};
  const podLabels = asRecord(get(pod, "metadata", "labels")) ?? {};
  const c = asRecord(asArray(get(pod, "spec", "containers"))[0]) ?? {};
  const where = describe(deployment);
  const problems: string[] = [];
  const noConfigMaps = new Map<string, Record<string, unknown>>();
  const env = (variable: string) => envValue(c, variable, noConfigMaps);

  if (get(deployment, "spec", "replicas") !== expect.replicas)
    problems.push(`${where}: replicas ${String(get(deployment, "spec", "replicas"))}, values say ${expect.replicas}`);
  const command = asArray(c.command).map(String);
  if (!command.includes(CONSOLE_ENTRY)) problems.push(`${where}: the command must run ${CONSOLE_ENTRY}, is ${command.join(" ") || "the image's default"}`);
  const http = get(
    asArray(c.ports).find((p) => get(p, "name") === "http"),
    "containerPort",
  );
  if (http !== expect.port) problems.push(`${where}: the container port named http is ${String(http)}, values say ${expect.port}`);
  if (env("GRANARY_CONSOLE_PORT") !== String(expect.port))
    problems.push(`${where}: GRANARY_CONSOLE_PORT is ${String(env("GRANARY_CONSOLE_PORT"))}, not ${expect.port}`);
  if (env("GRANARY_CONSOLE_HOST") !== "0.0.0.0")
    problems.push(`${where}: GRANARY_CONSOLE_HOST must be 0.0.0.0 (the default 127.0.0.1 is unreachable from the Service)`);

  problems.push(...upstreamProblems(objects, env, expect).map((p) => `${where}: ${p}`));
  const caFile = env("NODE_EXTRA_CA_CERTS");
  if (expect.ca && caFile !== undefined) {
    const mount = asArray(c.volumeMounts).find((m) => caFile.startsWith(`${String(get(m, "mountPath")).replace(/\/$/, "")}/`));
    const volume = asArray(get(pod, "spec", "volumes")).find((v) => get(v, "name") === get(mount, "name"));
    if (!mount || get(mount, "readOnly") !== true || get(volume, "secret", "secretName") !== expect.ca.secret)
      problems.push(`${where}: NODE_EXTRA_CA_CERTS ${caFile} must be on a read-only mount of Secret ${expect.ca.secret}`);
  }

  for (const container of containersOf(pod)) {
    for (const e of envOf(container))
      if (SECRETS.test(String(e.name))) problems.push(`${where}: ${String(e.name)} is set, but the console holds no key or database URL`);
    if (asArray(container.envFrom).some((s) => get(s, "secretRef") !== undefined))
      problems.push(`${where}: envFrom a Secret hands the console keys it must not hold`);
  }

  for (const probeName of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const probe = c[probeName];
    if (get(probe, "httpGet", "path") !== "/healthz" || probePort(probe, c) !== expect.port)
      problems.push(`${where}: ${probeName} must be an httpGet of /healthz on the http port`);
  }
  problems.push(...restrictedPodProblems(pod).map((p) => `${where}: ${p}`));
  if (get(pod, "spec", "automountServiceAccountToken") !== false) problems.push(`${where}: automountServiceAccountToken must be false`);
  if (get(pod, "spec", "enableServiceLinks") !== false) problems.push(`${where}: enableServiceLinks must be false`);
  const tmp = asArray(c.volumeMounts).find((m) => get(m, "mountPath") === "/tmp");
  if (!tmp || get(tmp, "readOnly") === true) problems.push(`${where}: /tmp must be a writable mount (HOME, temporary files)`);
  for (const field of [
    ["requests", "cpu"],
    ["requests", "memory"],
    ["limits", "memory"],
  ] as const) {
    if (get(c, "resources", ...field) === undefined) problems.push(`${where}: resources.${field.join(".")} is not set`);
  }

  const services = objects.filter((o) => o.kind === "Service" && labelsMatch(get(o, "spec", "selector"), podLabels));
  if (!services.some((s) => asArray(get(s, "spec", "ports")).some((p) => get(p, "targetPort") === "http" && get(p, "port") === expect.port)))
    problems.push(`${where}: no Service exposes its http port as ${expect.port}`);
  if (expect.podDisruptionBudget) {
    const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget" && labelsMatch(get(o, "spec", "selector", "matchLabels"), podLabels));
    if (pdbs.length !== 1) problems.push(`${where}: expected one PodDisruptionBudget selecting its pods, found ${pdbs.length}`);
  }
  if (expect.networkPolicy) {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy" && selects(get(o, "spec", "podSelector"), podLabels));
    const types = new Set(policies.flatMap((p) => asArray(get(p, "spec", "policyTypes")).map(String)));
    if (!types.has("Ingress") || !types.has("Egress")) problems.push(`${where}: no NetworkPolicy restricts both its ingress and egress`);
    const admits = policies.some((p) =>
      asArray(get(p, "spec", "ingress")).some((r) => asArray(get(r, "ports")).some((port) => get(port, "port") === expect.port)),
    );
    if (!admits) problems.push(`${where}: no NetworkPolicy ingress rule admits its port ${expect.port}`);
  }
  return [check(section, name, problems)];
}

/**
 * GRANARY_<SERVICE>_HTTP_URL for each service: the Service that selects the service's pods, on its
 * port named http; https when the services serve TLS, with NODE_EXTRA_CA_CERTS on the CA's mount.
 */
function upstreamProblems(objects: readonly K8sObject[], env: (variable: string) => string | undefined, expect: ConsoleExpectations): string[] {
  const problems: string[] = [];
  for (const component of COMPONENTS) {
    const variable = `GRANARY_${component.toUpperCase()}_HTTP_URL`;
    const value = env(variable);
    if (value === undefined) {
      problems.push(`${variable} is not set (the default, 127.0.0.1, is the console's own pod)`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      problems.push(`${variable} ${value} is not a URL`);
      continue;
    }
    const scheme = expect.tls ? "https:" : "http:";
    if (url.protocol !== scheme) problems.push(`${variable} ${value} must use ${scheme.slice(0, -1)} (tls.enabled is ${String(expect.tls)})`);
    const target = serviceFor(objects, component);
    if (!target) {
      problems.push(`${variable}: no Service of the release exposes ${component}'s http port`);
      continue;
    }
    const host = url.hostname;
    if (host !== target.name && !host.startsWith(`${target.name}.`)) problems.push(`${variable} ${value} is not the Service ${target.name}`);
    if (Number(url.port) !== target.port) problems.push(`${variable} ${value} is not on port ${target.port} (the Service's http port)`);
  }
  if (expect.ca) {
    const trusted = env("NODE_EXTRA_CA_CERTS");
    if (trusted === undefined || !trusted.endsWith(`/${expect.ca.key}`))
      problems.push(`NODE_EXTRA_CA_CERTS must name the CA file ${expect.ca.key} (tls.caKey)`);
  }
  return problems;
}

/** The (non-headless) Service selecting a component's pods, with its port named http. */
function serviceFor(objects: readonly K8sObject[], component: Component): { name: string; port: number } | undefined {
  const workload = objects.find(
    (o) => (o.kind === "Deployment" || o.kind === "StatefulSet") && get(o, "metadata", "labels", "app.kubernetes.io/component") === component,
  );
  const podLabels = asRecord(get(workload, "spec", "template", "metadata", "labels")) ?? {};
  for (const s of objects) {
    if (s.kind !== "Service" || get(s, "spec", "clusterIP") === "None" || !labelsMatch(get(s, "spec", "selector"), podLabels)) continue;
    const port = asArray(get(s, "spec", "ports")).find((p) => get(p, "name") === "http");
    if (typeof get(port, "port") === "number") return { name: String(get(s, "metadata", "name")), port: get(port, "port") as number };
  }
  return undefined;
}
