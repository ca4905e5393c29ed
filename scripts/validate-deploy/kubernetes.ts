// What `helm template` renders: every object against the Kubernetes OpenAPI schemas (the pinned
// kubernetes-models package), then Granary's own rules for its workloads.
import { parseAllDocuments } from "yaml";
import { asArray, asRecord, check, get, type Check } from "./report.js";

export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string };

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const record = asRecord(value);
    if (!record || typeof record.apiVersion !== "string" || typeof record.kind !== "string") {
      throw new Error(`rendered a document that is not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    }
    objects.push(record as K8sObject);
  }
  return objects;
}

export function describe(o: K8sObject): string {
  return `${o.kind}/${String(get(o, "metadata", "name") ?? "?")}`;
}

type ModelClass = new (data: unknown) => { validate(): void };
const models = new Map<string, ModelClass | null>();

/** kubernetes-models class for an apiVersion and kind: "apps/v1" + "Deployment" → kubernetes-models/apps/v1/Deployment. */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | null> {
  const key = `${apiVersion}/${kind}`;
  if (!models.has(key)) {
    let model: ModelClass | null = null;
    if (/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) && /^[A-Z][A-Za-z0-9]*$/.test(kind)) {
      try {
        const module = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
        model = (module[kind] as ModelClass | undefined) ?? null;
      } catch {
        model = null;
      }
    }
    models.set(key, model);
  }
  return models.get(key)!;
}

/** Each object against the schema of its apiVersion and kind; an unknown one is a problem too. */
export async function validateKubernetesSchemas(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const Model = await modelFor(o.apiVersion, o.kind);
    if (!Model) {
      problems.push(`${describe(o)}: no Kubernetes schema for apiVersion ${o.apiVersion} kind ${o.kind} (misspelt, or not a built-in API)`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (error) {
      problems.push(`${describe(o)} (${o.apiVersion}): ${(error as Error).message}`);
    }
  }
  return problems;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * What the API server checks beyond the OpenAPI schemas, for names and labels: DNS names of the
 * right length (Services 63; StatefulSets 52, for their pods' controller-revision-hash label) and
 * label values of at most 63 characters.
 */
export function validateNames(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const name = String(get(o, "metadata", "name") ?? "");
    const limit = o.kind === "Service" ? 63 : o.kind === "StatefulSet" ? 52 : 253;
    const pattern = o.kind === "Service" ? DNS_LABEL : DNS_SUBDOMAIN;
    if (!pattern.test(name) || name.length > limit)
      problems.push(`${describe(o)}: name "${name}" must be a DNS ${o.kind === "Service" ? "label" : "subdomain"} of at most ${limit} characters`);
    const labelSets = [get(o, "metadata", "labels"), get(o, "spec", "template", "metadata", "labels"), get(o, "spec", "selector", "matchLabels")];
    for (const labels of labelSets) {
      for (const [key, value] of Object.entries(asRecord(labels) ?? {})) {
        if (typeof value !== "string" || value.length > 63 || !LABEL_VALUE.test(value))
          problems.push(`${describe(o)}: label ${key}="${String(value)}" is not a valid label value (at most 63 characters)`);
      }
    }
  }
  return problems;
}

// ------------------------------------------------------------------------------------------------
// Granary's rules.

export const COMPONENTS = ["metadata", "online", "offline", "registry"] as const;
export type Component = (typeof COMPONENTS)[number];

/** Where each service writes, and the default under GRANARY_DATA_DIR when the variable is unset. */
export const STORES: Record<Component, { variable: string; subPath: string } | null> = {
  metadata: null,
  online: { variable: "GRANARY_ONLINE_LMDB_PATH", subPath: "online" },
  offline: { variable: "GRANARY_OFFLINE_DATA_ROOT", subPath: "offline" },
  registry: { variable: "GRANARY_REGISTRY_BLOB_ROOT", subPath: "registry/blobs" },
};

const WORKLOAD_KIND: Record<Component, "Deployment" | "StatefulSet"> = {
  metadata: "Deployment",
  registry: "Deployment",
  online: "StatefulSet",
  offline: "StatefulSet",
};

/** Components that read DATABASE_URL (without it they start an embedded PostgreSQL under /data). */
const USES_DATABASE: readonly Component[] = ["metadata", "registry"];

export interface ChartExpectations {
  /** Secret and key DATABASE_URL must come from. */
  readonly databaseSecret?: { readonly name: string; readonly key: string };
  /** OTEL settings the shared ConfigMap must carry. */
  readonly otel?: { readonly enabled: boolean; readonly endpoint?: string; readonly tracesExporter?: string; readonly metricsExporter?: string };
  /** storageClassName each store's claim must ask for ("" = the cluster default, field absent). */
  readonly storageClass?: Partial<Record<Component, string>>;
  /** Whether PodDisruptionBudgets are expected (podDisruptionBudget.enabled). */
  readonly podDisruptionBudgets?: boolean;
  /** Whether NetworkPolicies must isolate every pod (networkPolicy.enabled). */
  readonly networkPolicies?: boolean;
  /** The Secret the TLS files must be mounted from (tls.enabled); undefined: TLS off. */
  readonly tlsSecret?: string;
  /** The Secret holding the service key and the bootstrap admin key (auth.existingSecret or the chart's). */
  readonly authSecret?: { readonly name?: string; readonly serviceKey: string; readonly bootstrapAdminKey: string };
  /**
   * The write log the values configure (nats.url or nats.existingSecret): what online and offline
   * must be given. null: none configured (online must then run one replica); undefined: not checked.
   */
  readonly writeLog?: {
    readonly url?: string;
    readonly secret?: { readonly name: string; readonly key: string };
    readonly streamReplicas: number;
    readonly port: number;
  } | null;
}

/** A Granary API key (grn_<id>_<secret>) written out: it belongs in a Secret. */
const API_KEY_TOKEN = /\bgrn_[a-z0-9]{1,32}_[A-Za-z0-9_-]{16,}/;

interface Workload {
  readonly component: Component;
  readonly object: K8sObject;
  readonly pod: Record<string, unknown>;
  readonly podLabels: Record<string, unknown>;
}

export function labelsMatch(selector: unknown, labels: Record<string, unknown>): boolean {
  const match = asRecord(selector);
  if (!match || Object.keys(match).length === 0) return false;
  return Object.entries(match).every(([k, v]) => labels[k] === v);
}

export function componentOf(o: K8sObject): Component | undefined {
  const c = get(o, "metadata", "labels", "app.kubernetes.io/component");
  return COMPONENTS.find((x) => x === c);
}

export function containersOf(pod: Record<string, unknown>): Record<string, unknown>[] {
  return [...asArray(get(pod, "spec", "initContainers")), ...asArray(get(pod, "spec", "containers"))]
    .map(asRecord)
    .filter((c): c is Record<string, unknown> => c !== undefined);
}

export function envOf(container: Record<string, unknown>): Record<string, unknown>[] {
  return asArray(container.env)
    .map(asRecord)
    .filter((e): e is Record<string, unknown> => e !== undefined);
}

/** The value a container sees for a variable: its own env (last wins) over its ConfigMaps. */
export function envValue(container: Record<string, unknown>, name: string, configMaps: Map<string, Record<string, unknown>>): string | undefined {
  const own = envOf(container).filter((e) => e.name === name);
  if (own.length > 0) {
    const last = own[own.length - 1]!;
    return typeof last.value === "string" ? last.value : undefined;
  }
  for (const source of asArray(container.envFrom)) {
    const cm = get(source, "configMapRef", "name");
    const data = typeof cm === "string" ? configMaps.get(cm) : undefined;
    if (data && typeof data[name] === "string") return data[name] as string;
  }
  return undefined;
}

function isPostgresUrlWithPassword(value: string): boolean {
  return /postgres(ql)?:\/\/[^/\s:@]+:[^@\s]+@/i.test(value);
}

export function probePort(probe: unknown, container: Record<string, unknown>): number | undefined {
  const port = get(probe, "grpc", "port") ?? get(probe, "tcpSocket", "port") ?? get(probe, "httpGet", "port");
  if (typeof port === "number") return port;
  if (typeof port === "string") {
    const named = asArray(container.ports).find((p) => get(p, "name") === port);
    const n = get(named, "containerPort");
    return typeof n === "number" ? n : undefined;
  }
  return undefined;
}

/** The restricted Pod Security Standard, as Granary's pods keep it: what a pod template breaks. */
export function restrictedPodProblems(pod: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const podSc = asRecord(get(pod, "spec", "securityContext")) ?? {};
  for (const hostField of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (get(pod, "spec", hostField) === true) problems.push(`spec.${hostField} must not be true`);
  }
  for (const v of asArray(get(pod, "spec", "volumes"))) {
    if (get(v, "hostPath") !== undefined) problems.push(`volume ${String(get(v, "name"))} is a hostPath`);
  }
  const containers = containersOf(pod);
  if (containers.length === 0) problems.push("no containers");
  for (const c of containers) {
    const sc = asRecord(c.securityContext) ?? {};
    const where = `container ${String(c.name)}`;
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot must be true (pod or container securityContext)`);
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) problems.push(`${where}: runAsUser must not be 0`);
    const seccomp = get(sc, "seccompProfile", "type") ?? get(podSc, "seccompProfile", "type");
    if (seccomp !== "RuntimeDefault") problems.push(`${where}: seccompProfile.type must be RuntimeDefault, is ${String(seccomp)}`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: securityContext.readOnlyRootFilesystem must be true`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: securityContext.allowPrivilegeEscalation must be false`);
    if (sc.privileged === true) problems.push(`${where}: securityContext.privileged must not be true`);
    const drop = asArray(get(sc, "capabilities", "drop"));
    if (!drop.includes("ALL")) problems.push(`${where}: securityContext.capabilities.drop must include ALL`);
    const add = asArray(get(sc, "capabilities", "add"));
    if (add.length > 0) problems.push(`${where}: securityContext.capabilities.add must be empty, has ${add.join(", ")}`);
  }
  return problems;
}

/** Granary's rules for a rendered chart. One Check per rule, each listing what breaks it. */
export function checkChartObjects(objects: readonly K8sObject[], expect: ChartExpectations = {}): Check[] {
  const section = "kubernetes";
  const checks: Check[] = [];
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);

  const configMaps = new Map<string, Record<string, unknown>>();
  for (const cm of byKind("ConfigMap")) configMaps.set(String(get(cm, "metadata", "name")), asRecord(cm.data) ?? {});

  // Workload kinds.
  const workloads: Workload[] = [];
  const kindProblems: string[] = [];
  for (const component of COMPONENTS) {
    const found = objects.filter(
      (o) => (o.kind === "Deployment" || o.kind === "StatefulSet" || o.kind === "DaemonSet" || o.kind === "Pod") && componentOf(o) === component,
    );
    if (found.length !== 1) {
      kindProblems.push(`${component}: expected one workload labelled app.kubernetes.io/component=${component}, found ${found.length}`);
      continue;
    }
    const object = found[0]!;
    if (object.kind !== WORKLOAD_KIND[component]) {
      kindProblems.push(`${component} must be a ${WORKLOAD_KIND[component]}, is a ${object.kind}`);
    }
    const pod = asRecord(get(object, "spec", "template")) ?? {};
    workloads.push({ component, object, pod, podLabels: asRecord(get(pod, "metadata", "labels")) ?? {} });
  }
  checks.push(check(section, "metadata and registry are Deployments, online and offline StatefulSets", kindProblems));

  const perPod = (name: string, rule: (w: Workload) => string[]) =>
    checks.push(
      check(
        section,
        name,
        workloads.flatMap((w) => rule(w).map((p) => `${describe(w.object)}: ${p}`)),
      ),
    );

  perPod("restricted security context (runAsNonRoot, seccomp RuntimeDefault, read-only root, no privilege escalation, drop ALL)", (w) =>
    restrictedPodProblems(w.pod),
  );

  perPod(
    "readiness is a native gRPC probe on the service port (the cleartext health port with TLS); liveness a gRPC probe that does not follow PostgreSQL",
    (w) => {
      const problems: string[] = [];
      const c = asRecord(asArray(get(w.pod, "spec", "containers"))[0]) ?? {};
      const grpcPort = get(
        asArray(c.ports).find((p) => get(p, "name") === "grpc"),
        "containerPort",
      );
      if (typeof grpcPort !== "number") problems.push("the container has no port named grpc");
      // Kubelet's gRPC probes speak cleartext only: with TLS on the grpc port they must use GRANARY_HEALTH_PORT.
      const tls = envValue(c, "GRANARY_TLS_CERT", configMaps) !== undefined;
      let probeTarget: unknown = grpcPort;
      let targetName = "the grpc port";
      if (tls) {
        const healthPort = Number(envValue(c, "GRANARY_HEALTH_PORT", configMaps));
        targetName = "GRANARY_HEALTH_PORT";
        if (!Number.isInteger(healthPort) || healthPort <= 0)
          problems.push("TLS is on (GRANARY_TLS_CERT) but GRANARY_HEALTH_PORT is not set: kubelet's gRPC probes cannot speak TLS");
        else if (healthPort === grpcPort) problems.push(`GRANARY_HEALTH_PORT ${healthPort} is the TLS grpc port`);
        probeTarget = healthPort;
      }
      for (const probeName of ["readinessProbe", "startupProbe"]) {
        const probe = c[probeName];
        if (probe === undefined) {
          problems.push(`${probeName} is missing`);
        } else if (get(probe, "grpc") === undefined) {
          problems.push(`${probeName} must be a native grpc probe (grpc.health.v1), is ${Object.keys(asRecord(probe) ?? {}).join(", ")}`);
        } else if (probePort(probe, c) !== probeTarget) {
          problems.push(`${probeName}.grpc.port ${String(get(probe, "grpc", "port"))} is not ${targetName} ${String(probeTarget)}`);
        }
      }
      const liveness = c.livenessProbe;
      if (liveness === undefined) {
        problems.push("livenessProbe is missing");
      } else if (get(liveness, "grpc") === undefined) {
        problems.push(`livenessProbe must be a native grpc probe for the health name "liveness", is ${Object.keys(asRecord(liveness) ?? {}).join(", ")}`);
      } else if (get(liveness, "grpc", "service") !== "liveness") {
        // "" and the service names turn NOT_SERVING while PostgreSQL is down; "liveness" follows the process only.
        problems.push(
          `livenessProbe.grpc.service must be "liveness" (is ${JSON.stringify(get(liveness, "grpc", "service") ?? "")}): the other health names follow PostgreSQL, so an outage would restart every pod`,
        );
      } else if (probePort(liveness, c) !== probeTarget) {
        problems.push(`livenessProbe checks port ${String(probePort(liveness, c))}, not ${targetName} ${String(probeTarget)}`);
      }
      return problems;
    },
  );

  perPod("data volumes mounted writable where the service writes; /tmp writable", (w) => {
    const problems: string[] = [];
    const object = w.object;
    const volumes = new Map<string, Record<string, unknown>>();
    for (const v of asArray(get(w.pod, "spec", "volumes"))) volumes.set(String(get(v, "name")), asRecord(v) ?? {});
    const claimTemplates = asArray(get(object, "spec", "volumeClaimTemplates")).map((t) => String(get(t, "metadata", "name")));
    const c = asRecord(asArray(get(w.pod, "spec", "containers"))[0]) ?? {};
    const mounts = asArray(c.volumeMounts)
      .map(asRecord)
      .filter((m): m is Record<string, unknown> => m !== undefined);
    const writableAt = (path: string) =>
      mounts.find((m) => typeof m.mountPath === "string" && (path === m.mountPath || path.startsWith(`${(m.mountPath as string).replace(/\/$/, "")}/`)));

    const tmp = writableAt("/tmp");
    if (!tmp || tmp.readOnly === true) problems.push("/tmp must be a writable mount (HOME and temporary files; the root filesystem is read-only)");

    const store = STORES[w.component];
    if (store) {
      const dataDir = envValue(c, "GRANARY_DATA_DIR", configMaps);
      const path = envValue(c, store.variable, configMaps) ?? (dataDir ? `${dataDir.replace(/\/$/, "")}/${store.subPath}` : undefined);
      if (!path) {
        problems.push(`neither ${store.variable} nor GRANARY_DATA_DIR is set, so the store path is relative to the working directory`);
      } else {
        const mount = writableAt(path);
        if (!mount) {
          problems.push(`${store.variable}=${path} is on the read-only root filesystem: mount the data volume there`);
        } else {
          const name = String(mount.name);
          if (mount.readOnly === true) problems.push(`volume ${name} at ${String(mount.mountPath)} is mounted readOnly, but the service writes ${path}`);
          const isClaimTemplate = claimTemplates.includes(name);
          const volume = volumes.get(name);
          if (!isClaimTemplate && !volume) problems.push(`volumeMount ${name} has no volume or volumeClaimTemplate`);
          if (object.kind === "StatefulSet" && !isClaimTemplate) {
            problems.push(`the ${w.component} store must be on a volumeClaimTemplate (one PersistentVolumeClaim per pod), is volume ${name}`);
          }
          if (volume && volume.persistentVolumeClaim === undefined && volume.emptyDir === undefined) {
            problems.push(`volume ${name} must be a persistentVolumeClaim (or an emptyDir when persistence is off)`);
          }
        }
      }
    }
    if (object.kind === "StatefulSet") {
      if (claimTemplates.length === 0) problems.push("a StatefulSet without volumeClaimTemplates");
      const serviceName = get(object, "spec", "serviceName");
      if (!objects.some((o) => o.kind === "Service" && get(o, "metadata", "name") === serviceName && get(o, "spec", "clusterIP") === "None")) {
        problems.push(`spec.serviceName ${String(serviceName)} is not a headless Service of this release`);
      }
    }
    return problems;
  });

  perPod("DATABASE_URL from a Secret (secretKeyRef), never a literal", (w) => {
    const problems: string[] = [];
    for (const c of containersOf(w.pod)) {
      for (const e of envOf(c)) {
        if (typeof e.value === "string" && isPostgresUrlWithPassword(e.value)) problems.push(`env ${String(e.name)} holds a PostgreSQL URL with a password`);
      }
      const db = envOf(c).filter((e) => e.name === "DATABASE_URL");
      for (const e of db) {
        if (e.value !== undefined) problems.push("DATABASE_URL is a literal value; it must come from valueFrom.secretKeyRef");
        else if (get(e, "valueFrom", "secretKeyRef") === undefined) problems.push("DATABASE_URL must come from valueFrom.secretKeyRef");
        else if (expect.databaseSecret) {
          const ref = get(e, "valueFrom", "secretKeyRef");
          if (get(ref, "name") !== expect.databaseSecret.name || get(ref, "key") !== expect.databaseSecret.key) {
            problems.push(
              `DATABASE_URL refers to Secret ${String(get(ref, "name"))} key ${String(get(ref, "key"))}, values say ${expect.databaseSecret.name} key ${expect.databaseSecret.key}`,
            );
          }
        }
        if (get(e, "valueFrom", "secretKeyRef", "optional") === true) problems.push("DATABASE_URL's secretKeyRef must not be optional");
      }
      if (USES_DATABASE.includes(w.component) && c === asRecord(asArray(get(w.pod, "spec", "containers"))[0]) && db.length === 0) {
        problems.push("DATABASE_URL is not set: the service would start an embedded PostgreSQL on the read-only root filesystem");
      }
      for (const source of asArray(c.envFrom)) {
        const cm = get(source, "configMapRef", "name");
        if (typeof cm === "string" && !configMaps.has(cm)) problems.push(`envFrom ConfigMap ${cm} is not part of the release`);
      }
    }
    return problems;
  });

  perPod("API keys from a Secret (secretKeyRef): the service key on every pod, the bootstrap admin key on metadata only", (w) => {
    const problems: string[] = [];
    const c = asRecord(asArray(get(w.pod, "spec", "containers"))[0]) ?? {};
    const fromSecret = (name: string, key: string | undefined): void => {
      const entries = envOf(c).filter((e) => e.name === name);
      if (entries.length === 0) return void problems.push(`${name} is not set`);
      for (const e of entries) {
        const ref = get(e, "valueFrom", "secretKeyRef");
        if (e.value !== undefined || ref === undefined) problems.push(`${name} must come from valueFrom.secretKeyRef, never a literal`);
        else if (expect.authSecret?.name !== undefined && (get(ref, "name") !== expect.authSecret.name || get(ref, "key") !== key)) {
          problems.push(
            `${name} refers to Secret ${String(get(ref, "name"))} key ${String(get(ref, "key"))}, values say ${expect.authSecret.name} key ${String(key)}`,
          );
        }
      }
    };
    fromSecret("GRANARY_SERVICE_KEY", expect.authSecret?.serviceKey);
    if (w.component === "metadata") fromSecret("GRANARY_BOOTSTRAP_ADMIN_KEY", expect.authSecret?.bootstrapAdminKey);
    else if (envOf(c).some((e) => e.name === "GRANARY_BOOTSTRAP_ADMIN_KEY")) problems.push("GRANARY_BOOTSTRAP_ADMIN_KEY belongs to metadata only");
    for (const container of containersOf(w.pod)) {
      for (const e of envOf(container)) {
        if (typeof e.value === "string" && API_KEY_TOKEN.test(e.value)) problems.push(`env ${String(e.name)} holds an API key`);
      }
    }
    return problems;
  });

  perPod("TLS files mounted read-only from the TLS Secret when tls.enabled", (w) => {
    if (expect.tlsSecret === undefined) return [];
    const problems: string[] = [];
    const c = asRecord(asArray(get(w.pod, "spec", "containers"))[0]) ?? {};
    const volumes = new Map<string, Record<string, unknown>>();
    for (const v of asArray(get(w.pod, "spec", "volumes"))) volumes.set(String(get(v, "name")), asRecord(v) ?? {});
    for (const name of ["GRANARY_TLS_CERT", "GRANARY_TLS_KEY"]) {
      const path = envValue(c, name, configMaps);
      if (!path) {
        problems.push(`tls.enabled but ${name} is not set`);
        continue;
      }
      const mount = asArray(c.volumeMounts)
        .map(asRecord)
        .find((m) => typeof m?.mountPath === "string" && path.startsWith(`${(m.mountPath as string).replace(/\/$/, "")}/`));
      if (!mount) problems.push(`${name}=${path} is on no volume`);
      else {
        if (mount.readOnly !== true) problems.push(`volume ${String(mount.name)} with ${name} must be mounted readOnly`);
        const secret = get(volumes.get(String(mount.name)), "secret", "secretName");
        if (secret !== expect.tlsSecret)
          problems.push(`${name} is on volume ${String(mount.name)}, not on Secret ${expect.tlsSecret} (is ${String(secret ?? "no Secret")})`);
      }
    }
    return problems;
  });

  // NetworkPolicies: every pod isolated for ingress and egress.
  if (expect.networkPolicies) {
    const policies = byKind("NetworkPolicy");
    checks.push(
      check(
        section,
        "NetworkPolicies isolate every pod (ingress and egress), allowing gRPC from the release's pods",
        workloads.flatMap((w) => {
          const selecting = policies.filter((p) => {
            const match = asRecord(get(p, "spec", "podSelector", "matchLabels")) ?? {};
            return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => w.podLabels[k] === v);
          });
          const types = new Set(selecting.flatMap((p) => asArray(get(p, "spec", "policyTypes")).map(String)));
          const problems: string[] = [];
          if (!types.has("Ingress")) problems.push(`${describe(w.object)}: no NetworkPolicy restricts its ingress`);
          if (!types.has("Egress")) problems.push(`${describe(w.object)}: no NetworkPolicy restricts its egress`);
          const fromPeers = selecting.flatMap((p) => asArray(get(p, "spec", "ingress")).flatMap((r) => asArray(get(r, "from"))));
          if (fromPeers.some((peer) => asRecord(peer) !== undefined && Object.keys(asRecord(peer)!).length === 0)) {
            problems.push(`${describe(w.object)}: an ingress peer {} admits every pod`);
          }
          return problems;
        }),
      ),
    );
  }

  // ConfigMaps carry no secrets.
  checks.push(
    check(
      section,
      "ConfigMaps hold no DATABASE_URL, API keys or credentials",
      byKind("ConfigMap").flatMap((cm) =>
        Object.entries(asRecord(cm.data) ?? {}).flatMap(([k, v]) =>
          k === "DATABASE_URL" ||
          /PASSWORD|SECRET|TOKEN|^GRANARY_(SERVICE|BOOTSTRAP_ADMIN|API|ADMIN)_KEY$/i.test(k) ||
          (typeof v === "string" && (isPostgresUrlWithPassword(v) || API_KEY_TOKEN.test(v)))
            ? [`${describe(cm)}: key ${k} belongs in a Secret`]
            : [],
        ),
      ),
    ),
  );

  perPod("resources, shutdown timing and pod settings", (w) => {
    const problems: string[] = [];
    const spec = asRecord(get(w.pod, "spec")) ?? {};
    for (const c of containersOf(w.pod)) {
      for (const field of [
        ["requests", "cpu"],
        ["requests", "memory"],
        ["limits", "memory"],
      ] as const) {
        if (get(c, "resources", ...field) === undefined) problems.push(`container ${String(c.name)}: resources.${field.join(".")} is not set`);
      }
      const image = String(c.image ?? "");
      if (!/:[^/]+$|@sha256:/.test(image) || image.endsWith(":latest"))
        problems.push(`container ${String(c.name)}: image ${image} needs an explicit tag (not latest)`);
      const drain = Number(envValue(c, "GRANARY_DRAIN_DELAY_MS", configMaps) ?? 0);
      const grace = Number(envValue(c, "GRANARY_SHUTDOWN_GRACE_MS", configMaps) ?? 10_000);
      const kill = Number(spec.terminationGracePeriodSeconds ?? 30) * 1000;
      if (!(kill > drain + grace)) {
        problems.push(
          `terminationGracePeriodSeconds (${kill / 1000}s) must exceed GRANARY_DRAIN_DELAY_MS + GRANARY_SHUTDOWN_GRACE_MS (${(drain + grace) / 1000}s)`,
        );
      }
      if (envValue(c, "GRANARY_HOST", configMaps) !== "0.0.0.0")
        problems.push(`container ${String(c.name)}: GRANARY_HOST must be 0.0.0.0 (the default 127.0.0.1 is unreachable from the Service)`);
    }
    if (spec.enableServiceLinks !== false)
      problems.push("enableServiceLinks must be false (service links inject GRANARY_<NAME>_PORT=tcp://... and break the port settings)");
    if (spec.automountServiceAccountToken !== false) problems.push("automountServiceAccountToken must be false (Granary never calls the Kubernetes API)");
    return problems;
  });

  perPod("the HTTP port (Connect, gRPC-Web, JSON): a container port named http, GRANARY_HTTP_PORT set to it, exposed by the Service", (w) => {
    const problems: string[] = [];
    const c = asRecord(asArray(get(w.pod, "spec", "containers"))[0]) ?? {};
    const portOf = (name: string) =>
      get(
        asArray(c.ports).find((p) => get(p, "name") === name),
        "containerPort",
      );
    const http = portOf("http");
    if (typeof http !== "number") return ["the container has no port named http"];
    if (http === portOf("grpc") || http === portOf("health")) problems.push(`the http port ${http} is also the grpc or health port`);
    // A service in its own process reads GRANARY_HTTP_PORT; without it, a non-default gRPC port gives a random HTTP port.
    const configured = envValue(c, `GRANARY_${w.component.toUpperCase()}_HTTP_PORT`, configMaps) ?? envValue(c, "GRANARY_HTTP_PORT", configMaps);
    if (configured !== String(http)) problems.push(`GRANARY_HTTP_PORT is ${String(configured ?? "unset")}, the container port named http is ${http}`);
    const services = byKind("Service").filter((s) => get(s, "spec", "clusterIP") !== "None" && labelsMatch(get(s, "spec", "selector"), w.podLabels));
    for (const s of services) {
      const port = asArray(get(s, "spec", "ports")).find((p) => get(p, "targetPort") === "http" || get(p, "targetPort") === http);
      if (!port) problems.push(`${describe(s)}: no port targets the container port named http`);
      else if (get(port, "name") !== "http") problems.push(`${describe(s)}: the port to http is named ${String(get(port, "name"))}, not http`);
    }
    return problems;
  });

  // Services select the pods and target the grpc port.
  checks.push(
    check(
      section,
      "a Service per component selects its pods on the grpc port",
      workloads.flatMap((w) => {
        const services = byKind("Service").filter((s) => get(s, "spec", "clusterIP") !== "None" && labelsMatch(get(s, "spec", "selector"), w.podLabels));
        if (services.length === 0) return [`${describe(w.object)}: no Service selects its pods`];
        return services.flatMap((s) =>
          asArray(get(s, "spec", "ports")).some((p) => get(p, "targetPort") === "grpc")
            ? []
            : [`${describe(s)}: no port targets the container port named grpc`],
        );
      }),
    ),
  );

  // PodDisruptionBudgets.
  const pdbs = byKind("PodDisruptionBudget");
  checks.push(
    check(
      section,
      "a PodDisruptionBudget per component, which still lets a node drain",
      expect.podDisruptionBudgets === false
        ? []
        : workloads.flatMap((w) => {
            const matching = pdbs.filter((p) => labelsMatch(get(p, "spec", "selector", "matchLabels"), w.podLabels));
            if (matching.length !== 1) return [`${describe(w.object)}: expected one PodDisruptionBudget selecting its pods, found ${matching.length}`];
            const pdb = matching[0]!;
            // The fewest pods the workload may run: its replicas, or its autoscaler's minimum.
            const hpa = byKind("HorizontalPodAutoscaler").find((h) => get(h, "spec", "scaleTargetRef", "name") === get(w.object, "metadata", "name"));
            const replicas = Number(hpa ? (get(hpa, "spec", "minReplicas") ?? 1) : (get(w.object, "spec", "replicas") ?? 1));
            const minAvailable = get(pdb, "spec", "minAvailable");
            const maxUnavailable = get(pdb, "spec", "maxUnavailable");
            const blocked = (reason: string) => [
              `${describe(pdb)}: ${reason} with ${replicas} replica(s) blocks every eviction, so node drains hang; use maxUnavailable`,
            ];
            if (maxUnavailable === 0 || maxUnavailable === "0%") return blocked("maxUnavailable 0");
            if (typeof minAvailable === "number" && minAvailable >= replicas) return blocked(`minAvailable ${minAvailable}`);
            if (typeof minAvailable === "string") {
              const percent = /^(\d+)%$/.exec(minAvailable);
              if (percent && Math.ceil((Number(percent[1]) / 100) * replicas) >= replicas) return blocked(`minAvailable ${minAvailable}`);
            }
            return [];
          }),
    ),
  );

  checks.push(...checkWriteLog(objects, workloads, configMaps, expect));

  // HorizontalPodAutoscalers point at a Deployment of the release, which then leaves replicas alone.
  checks.push(
    check(
      section,
      "HorizontalPodAutoscalers target Deployments that leave replicas to them",
      byKind("HorizontalPodAutoscaler").flatMap((h) => {
        const ref = asRecord(get(h, "spec", "scaleTargetRef")) ?? {};
        const target = objects.find((o) => o.kind === ref.kind && get(o, "metadata", "name") === ref.name);
        if (!target) return [`${describe(h)}: scaleTargetRef ${String(ref.kind)}/${String(ref.name)} is not part of the release`];
        const problems: string[] = [];
        if (target.kind !== "Deployment") problems.push(`${describe(h)}: scales ${describe(target)}; only metadata and registry (Deployments) may autoscale`);
        if (get(target, "spec", "replicas") !== undefined)
          problems.push(`${describe(target)}: sets spec.replicas although ${describe(h)} manages them (each upgrade would reset the scale)`);
        return problems;
      }),
    ),
  );

  // Persistent volume claims: storage class and access modes as the values say.
  const claimProblems: string[] = [];
  for (const w of workloads) {
    const expected = expect.storageClass?.[w.component];
    if (expected === undefined) continue;
    const claims =
      w.object.kind === "StatefulSet"
        ? asArray(get(w.object, "spec", "volumeClaimTemplates"))
        : byKind("PersistentVolumeClaim").filter((p) => componentOf(p) === w.component);
    for (const claim of claims) {
      const actual = get(claim, "spec", "storageClassName");
      if ((actual ?? "") !== expected) {
        claimProblems.push(
          `${w.component}: claim ${String(get(claim, "metadata", "name"))} has storageClassName ${String(actual ?? "(default)")}, values say ${expected || "(default)"}`,
        );
      }
    }
  }
  checks.push(check(section, "volume claims use the configured storage class", claimProblems));

  // OTEL settings shared through the ConfigMap.
  if (expect.otel) {
    const otel = expect.otel;
    const problems: string[] = [];
    for (const w of workloads) {
      const c = asRecord(asArray(get(w.pod, "spec", "containers"))[0]) ?? {};
      const at = (name: string) => envValue(c, name, configMaps);
      if (at("OTEL_SERVICE_NAME") !== `granary-${w.component}`) problems.push(`${describe(w.object)}: OTEL_SERVICE_NAME must be granary-${w.component}`);
      if (!otel.enabled) {
        if (at("OTEL_SDK_DISABLED") !== "true") problems.push(`${describe(w.object)}: otel.enabled=false but OTEL_SDK_DISABLED is not "true"`);
      } else if (otel.endpoint) {
        if (at("OTEL_EXPORTER_OTLP_ENDPOINT") !== otel.endpoint)
          problems.push(`${describe(w.object)}: OTEL_EXPORTER_OTLP_ENDPOINT is ${String(at("OTEL_EXPORTER_OTLP_ENDPOINT"))}, values say ${otel.endpoint}`);
        if (otel.tracesExporter && at("OTEL_TRACES_EXPORTER") !== otel.tracesExporter)
          problems.push(`${describe(w.object)}: OTEL_TRACES_EXPORTER is ${String(at("OTEL_TRACES_EXPORTER"))}, values say ${otel.tracesExporter}`);
        if (otel.metricsExporter && at("OTEL_METRICS_EXPORTER") !== otel.metricsExporter)
          problems.push(`${describe(w.object)}: OTEL_METRICS_EXPORTER is ${String(at("OTEL_METRICS_EXPORTER"))}, values say ${otel.metricsExporter}`);
      } else if (at("OTEL_EXPORTER_OTLP_ENDPOINT") !== undefined) {
        problems.push(`${describe(w.object)}: OTEL_EXPORTER_OTLP_ENDPOINT is set although otel.endpoint is empty`);
      }
    }
    checks.push(check(section, "OTEL settings shared by every service", problems));
  }

  return checks;
}

/** What the merged chart values promise, for checkChartObjects. */
export function expectationsFromValues(values: unknown): ChartExpectations {
  const v = (...path: string[]) => get(values, ...path);
  const otelEnabled = v("otel", "enabled") !== false;
  const storageClass: Partial<Record<Component, string>> = {};
  for (const component of ["online", "offline"] as const) storageClass[component] = String(v(component, "persistence", "storageClass") ?? "");
  if (v("registry", "persistence", "enabled") === true && !v("registry", "persistence", "existingClaim")) {
    storageClass.registry = String(v("registry", "persistence", "storageClass") ?? "");
  }
  return {
    databaseSecret: { name: String(v("postgres", "existingSecret")), key: String(v("postgres", "secretKey")) },
    otel: {
      enabled: otelEnabled,
      endpoint: typeof v("otel", "endpoint") === "string" ? (v("otel", "endpoint") as string) : undefined,
      tracesExporter: v("otel", "tracesExporter") as string | undefined,
      metricsExporter: v("otel", "metricsExporter") as string | undefined,
    },
    storageClass,
    podDisruptionBudgets: v("podDisruptionBudget", "enabled") !== false,
    networkPolicies: v("networkPolicy", "enabled") === true,
    tlsSecret: v("tls", "enabled") === true ? String(v("tls", "secretName")) : undefined,
    writeLog: writeLogFromValues(values),
    authSecret: {
      name: typeof v("auth", "existingSecret") === "string" && v("auth", "existingSecret") !== "" ? (v("auth", "existingSecret") as string) : undefined,
      serviceKey: String(v("auth", "serviceKeyKey") ?? "service-key"),
      bootstrapAdminKey: String(v("auth", "bootstrapAdminKeyKey") ?? "bootstrap-admin-key"),
    },
  };
}

function writeLogFromValues(values: unknown): ChartExpectations["writeLog"] {
  const nats = (...path: string[]) => get(values, "nats", ...path);
  const url = typeof nats("url") === "string" ? (nats("url") as string) : "";
  const secret = typeof nats("existingSecret") === "string" ? (nats("existingSecret") as string) : "";
  if (url === "" && secret === "") return null;
  return {
    ...(secret !== "" ? { secret: { name: secret, key: String(nats("secretKey") ?? "NATS_URL") } } : { url }),
    streamReplicas: Number(nats("streamReplicas") ?? 1),
    port: Number(nats("port") ?? 4222),
  };
}

/** Whether a LabelSelector (matchLabels and matchExpressions) selects pods with these labels; an empty one selects none here. */
export function selects(selector: unknown, labels: Record<string, unknown>): boolean {
  const match = asRecord(get(selector, "matchLabels")) ?? {};
  const expressions = asArray(get(selector, "matchExpressions"));
  if (Object.keys(match).length === 0 && expressions.length === 0) return false;
  if (!Object.entries(match).every(([k, v]) => labels[k] === v)) return false;
  return expressions.every((e) => {
    const key = String(get(e, "key"));
    const values = asArray(get(e, "values")).map(String);
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (get(e, "operator")) {
      case "In":
        return has && values.includes(String(labels[key]));
      case "NotIn":
        return !has || !values.includes(String(labels[key]));
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        return false;
    }
  });
}

/** The components that follow the write log. */
const WRITE_LOG_COMPONENTS: readonly Component[] = ["online", "offline"];

/**
 * The write log and online replicas (issue 16): every online replica follows the log into its own
 * LMDB, so more than one replica without it would split the writes between them.
 */
function checkWriteLog(
  objects: readonly K8sObject[],
  workloads: readonly Workload[],
  configMaps: Map<string, Record<string, unknown>>,
  expect: ChartExpectations,
): Check[] {
  const section = "kubernetes";
  const checks: Check[] = [];
  const containerOf = (w: Workload) => asRecord(asArray(get(w.pod, "spec", "containers"))[0]) ?? {};
  /** GRANARY_NATS_URL's EnvVar (the last wins), or one standing for the value a ConfigMap gives; undefined when unset. */
  const natsUrl = (w: Workload): Record<string, unknown> | undefined => {
    const own = envOf(containerOf(w)).filter((e) => e.name === "GRANARY_NATS_URL");
    if (own.length > 0) return own[own.length - 1];
    const fromConfigMap = envValue(containerOf(w), "GRANARY_NATS_URL", configMaps);
    return fromConfigMap === undefined ? undefined : { name: "GRANARY_NATS_URL", value: fromConfigMap };
  };
  const online = workloads.find((w) => w.component === "online");

  // online: N replicas only with the log; each replica named after its pod; readiness and a headless Service of ready pods.
  const replicaProblems: string[] = [];
  if (online) {
    const where = describe(online.object);
    const c = containerOf(online);
    const replicas = Number(get(online.object, "spec", "replicas") ?? 1);
    const url = natsUrl(online);
    if (replicas > 1 && url === undefined) {
      replicaProblems.push(`${where}: ${replicas} replicas without GRANARY_NATS_URL: each replica would hold only the writes that reached it`);
    }
    const replicaName = envOf(c)
      .filter((e) => e.name === "GRANARY_ONLINE_REPLICA")
      .pop();
    if (get(replicaName, "valueFrom", "fieldRef", "fieldPath") !== "metadata.name") {
      replicaProblems.push(
        `${where}: GRANARY_ONLINE_REPLICA must come from the pod's name (valueFrom.fieldRef.fieldPath: metadata.name), so status and metrics name each replica`,
      );
    }
    if (get(c, "startupProbe", "grpc", "service") !== "liveness") {
      replicaProblems.push(
        `${where}: startupProbe.grpc.service must be "liveness": a replica replaying the log is unready (readiness follows its lag) and must not be restarted when that takes longer than the startup budget`,
      );
    }
    const headless = objects.filter(
      (o) => o.kind === "Service" && get(o, "spec", "clusterIP") === "None" && labelsMatch(get(o, "spec", "selector"), online.podLabels),
    );
    if (headless.length === 0) replicaProblems.push(`${where}: no headless Service selects its pods (clients balancing per call resolve it)`);
    for (const svc of headless) {
      if (get(svc, "spec", "publishNotReadyAddresses") === true)
        replicaProblems.push(`${describe(svc)}: publishNotReadyAddresses must be false, or clients balancing over it reach replicas still catching up the log`);
      if (!asArray(get(svc, "spec", "ports")).some((p) => get(p, "targetPort") === "grpc"))
        replicaProblems.push(`${describe(svc)}: no port targets the container port named grpc`);
    }
    if (replicas > 1 && expect.podDisruptionBudgets !== false) {
      const pdb = objects.find((o) => o.kind === "PodDisruptionBudget" && labelsMatch(get(o, "spec", "selector", "matchLabels"), online.podLabels));
      const maxUnavailable = get(pdb, "spec", "maxUnavailable");
      const minAvailable = get(pdb, "spec", "minAvailable");
      if (!pdb) replicaProblems.push(`${where}: ${replicas} replicas without a PodDisruptionBudget: a node drain may evict them all at once`);
      else if (typeof maxUnavailable === "number" && maxUnavailable >= replicas)
        replicaProblems.push(`${describe(pdb)}: maxUnavailable ${maxUnavailable} lets a drain evict all ${replicas} replicas`);
      else if (maxUnavailable === undefined && (minAvailable === undefined || minAvailable === 0 || minAvailable === "0%"))
        replicaProblems.push(`${describe(pdb)}: keeps no replica available during a drain`);
    }
  }
  checks.push(
    check(
      section,
      "online replicas: more than one only with the write log; GRANARY_ONLINE_REPLICA from the pod name; a headless Service of ready pods; a PodDisruptionBudget that keeps one serving",
      replicaProblems,
    ),
  );

  // online and offline: the log the values name, nothing else; no credentials written into a URL.
  const wiringProblems: string[] = [];
  for (const w of workloads) {
    const where = describe(w.object);
    const url = natsUrl(w);
    const literal = typeof get(url, "value") === "string" ? (get(url, "value") as string) : undefined;
    if (literal !== undefined && /\/\/[^/@,]*@/.test(literal))
      wiringProblems.push(`${where}: GRANARY_NATS_URL carries credentials as a literal; take it from a Secret (nats.existingSecret)`);
    if (expect.writeLog === undefined) continue;
    if (!WRITE_LOG_COMPONENTS.includes(w.component)) continue;
    if (expect.writeLog === null) {
      if (url !== undefined) wiringProblems.push(`${where}: GRANARY_NATS_URL is set although the values configure no write log`);
      continue;
    }
    const log = expect.writeLog;
    if (url === undefined) {
      wiringProblems.push(`${where}: GRANARY_NATS_URL is not set, but the values configure the write log`);
      continue;
    }
    if (log.secret) {
      const ref = get(url, "valueFrom", "secretKeyRef");
      if (get(ref, "name") !== log.secret.name || get(ref, "key") !== log.secret.key)
        wiringProblems.push(`${where}: GRANARY_NATS_URL must come from Secret ${log.secret.name} key ${log.secret.key} (nats.existingSecret)`);
    } else if (literal !== log.url) {
      wiringProblems.push(`${where}: GRANARY_NATS_URL is ${String(literal ?? "from a reference")}, values say ${String(log.url)}`);
    }
    const streamReplicas = envValue(containerOf(w), "GRANARY_NATS_REPLICAS", configMaps);
    if (streamReplicas !== String(log.streamReplicas))
      wiringProblems.push(`${where}: GRANARY_NATS_REPLICAS is ${String(streamReplicas)}, values say ${log.streamReplicas} (nats.streamReplicas)`);
  }
  checks.push(
    check(
      section,
      "online and offline follow the write log the values name (GRANARY_NATS_URL, stream replicas); no credentials in a literal URL",
      wiringProblems,
    ),
  );

  // NetworkPolicies: with the log, online and offline may reach NATS.
  if (expect.networkPolicies && expect.writeLog) {
    const port = expect.writeLog.port;
    const policies = objects.filter((o) => o.kind === "NetworkPolicy");
    checks.push(
      check(
        section,
        "NetworkPolicies let online and offline reach NATS on nats.port",
        workloads
          .filter((w) => WRITE_LOG_COMPONENTS.includes(w.component))
          .flatMap((w) => {
            const rules = policies.filter((p) => selects(get(p, "spec", "podSelector"), w.podLabels)).flatMap((p) => asArray(get(p, "spec", "egress")));
            const allowed = rules.some((r) => {
              const ports = asArray(get(r, "ports"));
              return ports.length === 0 || ports.some((p) => get(p, "port") === port && (get(p, "protocol") ?? "TCP") === "TCP");
            });
            return allowed ? [] : [`${describe(w.object)}: no NetworkPolicy egress rule allows TCP ${port} (NATS)`];
          }),
      ),
    );
  }
  return checks;
}
