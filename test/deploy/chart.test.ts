import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { helmTemplate, verifyHelm, type Helm } from "../../scripts/validate-deploy/helm.js";
import {
  checkChartObjects,
  expectationsFromValues,
  parseManifests,
  validateKubernetesSchemas,
  validateNames,
  type K8sObject,
} from "../../scripts/validate-deploy/kubernetes.js";
import { checkConsole, consoleFromValues } from "../../scripts/validate-deploy/kubernetes-console.js";
import { checkChart, defaultPaths } from "../../scripts/validate-deploy/run.js";
import { mergeValues, problemsOf, type Check } from "../../scripts/validate-deploy/report.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const chart = join(root, "helm/granary");
const defaults = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as unknown;
const expectations = expectationsFromValues(mergeValues(defaults, { postgres: { existingSecret: "granary-db" } }));
const consoleExpectations = consoleFromValues(defaults);

let helm: Helm;
let rendered: K8sObject[];
const scratch: string[] = [];

/** A copy of the chart in a temporary directory. */
function chartCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "granary-chart-"));
  scratch.push(dir);
  const copy = join(dir, "granary");
  cpSync(chart, copy, { recursive: true });
  return copy;
}

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

beforeAll(() => {
  helm = verifyHelm(root);
  const run = helmTemplate(helm, chart, { set: ["postgres.existingSecret=granary-db"] });
  expect(run.stderr).toBe("");
  rendered = parseManifests(run.stdout);
});

/** A deep copy of the default render, changed by `edit`. */
function mutated(edit: (objects: K8sObject[]) => void): K8sObject[] {
  const copy = structuredClone(rendered);
  edit(copy);
  return copy;
}

function find(objects: K8sObject[], kind: string, component: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && (x.metadata as { labels?: Record<string, string> }).labels?.["app.kubernetes.io/component"] === component);
  if (!o) throw new Error(`no ${kind} for ${component}`);
  return o;
}

function podSpec(o: K8sObject): any {
  return (o.spec as { template: { spec: unknown } }).template.spec;
}

function failing(checks: Check[]): string[] {
  return problemsOf(checks.filter((c) => c.problems.length > 0));
}

describe("the repository's chart", () => {
  it("passes lint, template, the Kubernetes schemas and every rule over the CI values matrix, and refuses bad values", async () => {
    const checks = await checkChart(helm, defaultPaths(root));
    expect(failing(checks)).toEqual([]);
    // The matrix really ran: four values files, each linted, rendered and checked.
    expect(checks.filter((c) => c.name.startsWith("helm lint --strict -f "))).toHaveLength(4);
    expect(checks.filter((c) => /every object valid against the Kubernetes schemas/.test(c.name))).toHaveLength(4);
    expect(checks.filter((c) => c.name.startsWith("refuses "))).toHaveLength(9);
    expect(checks.filter((c) => c.name.startsWith("online.replicas=3 with nats.url"))).toHaveLength(1);
  });

  it("renders the four workloads and the console as expected by default", () => {
    expect(find(rendered, "Deployment", "metadata")).toBeDefined();
    expect(find(rendered, "Deployment", "registry")).toBeDefined();
    expect(find(rendered, "StatefulSet", "online")).toBeDefined();
    expect(find(rendered, "StatefulSet", "offline")).toBeDefined();
    expect(find(rendered, "Deployment", "console")).toBeDefined();
    expect(rendered.filter((o) => o.kind === "PodDisruptionBudget")).toHaveLength(5);
    expect(failing(checkChartObjects(rendered, expectations))).toEqual([]);
    expect(failing(checkConsole(rendered, consoleExpectations))).toEqual([]);
  });
});

describe("Kubernetes schema validation", () => {
  it("accepts the rendered objects", async () => {
    expect(await validateKubernetesSchemas(rendered)).toEqual([]);
  });

  it("reports an ill-typed field, a missing required field and an unknown kind", async () => {
    const objects = mutated((o) => {
      (find(o, "Deployment", "metadata").spec as Record<string, unknown>).replicas = "2";
      delete podSpec(find(o, "StatefulSet", "online")).containers[0].name;
      o.push({ apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "typo" } });
    });
    const problems = await validateKubernetesSchemas(objects);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Deployment\/granary-metadata.*spec\/replicas must be integer/),
        expect.stringMatching(/StatefulSet\/granary-online.*must have required property '?name'?/),
        expect.stringMatching(/Deploymnet\/typo: no Kubernetes schema/),
      ]),
    );
  });

  it("reports names the API server would refuse", () => {
    const objects = mutated((o) => {
      (find(o, "StatefulSet", "online").metadata as Record<string, unknown>).name = "x".repeat(53);
      (find(o, "Deployment", "metadata").metadata as { labels: Record<string, string> }).labels["app.kubernetes.io/version"] = "v".repeat(64);
    });
    const problems = validateNames(objects);
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/StatefulSet\/x{53}: name .* at most 52/), expect.stringMatching(/label app.kubernetes.io\/version/)]),
    );
  });
});

describe("Granary's rules fail on a broken render", () => {
  const rule = (objects: K8sObject[], name: RegExp) => {
    const checks = checkChartObjects(objects, expectations);
    const matching = checks.filter((c) => name.test(c.name));
    expect(matching).toHaveLength(1);
    return matching[0]!.problems;
  };

  it("a pod without runAsNonRoot", () => {
    const objects = mutated((o) => {
      const spec = podSpec(find(o, "Deployment", "registry"));
      delete spec.securityContext.runAsNonRoot;
      delete spec.containers[0].securityContext.runAsNonRoot;
    });
    expect(rule(objects, /restricted security context/)).toEqual([
      expect.stringMatching(/Deployment\/granary-registry: container registry: runAsNonRoot must be true/),
    ]);
  });

  it("a writable root filesystem, privilege escalation, capabilities kept, no seccomp", () => {
    const objects = mutated((o) => {
      const spec = podSpec(find(o, "StatefulSet", "offline"));
      delete spec.securityContext.seccompProfile;
      spec.containers[0].securityContext = {
        runAsNonRoot: true,
        readOnlyRootFilesystem: false,
        allowPrivilegeEscalation: true,
        capabilities: { add: ["NET_ADMIN"] },
      };
    });
    const problems = rule(objects, /restricted security context/).join("\n");
    expect(problems).toMatch(/seccompProfile.type must be RuntimeDefault/);
    expect(problems).toMatch(/readOnlyRootFilesystem must be true/);
    expect(problems).toMatch(/allowPrivilegeEscalation must be false/);
    expect(problems).toMatch(/capabilities.drop must include ALL/);
    expect(problems).toMatch(/capabilities.add must be empty/);
  });

  it("a readiness probe that is not native gRPC, and a liveness probe on grpc health", () => {
    const objects = mutated((o) => {
      const c = podSpec(find(o, "Deployment", "metadata")).containers[0];
      c.readinessProbe = { tcpSocket: { port: "grpc" } };
      c.livenessProbe = { grpc: { port: 50051 } };
    });
    const problems = rule(objects, /readiness is a native gRPC probe/).join("\n");
    expect(problems).toMatch(/readinessProbe must be a native grpc probe/);
    expect(problems).toMatch(/livenessProbe.grpc.service must be "liveness" \(is ""\)/);
  });

  it("online as a Deployment, and offline without volumeClaimTemplates", () => {
    const objects = mutated((o) => {
      find(o, "StatefulSet", "online").kind = "Deployment";
      const offline = find(o, "StatefulSet", "offline");
      delete (offline.spec as Record<string, unknown>).volumeClaimTemplates;
    });
    expect(rule(objects, /metadata and registry are Deployments/)).toEqual([expect.stringMatching(/online must be a StatefulSet, is a Deployment/)]);
    const volumes = rule(objects, /data volumes mounted writable/).join("\n");
    expect(volumes).toMatch(/StatefulSet\/granary-offline: .*must be on a volumeClaimTemplate/);
    expect(volumes).toMatch(/a StatefulSet without volumeClaimTemplates/);
  });

  it("a data volume mounted read-only, or not where the service writes", () => {
    const objects = mutated((o) => {
      const online = podSpec(find(o, "StatefulSet", "online")).containers[0];
      online.volumeMounts.find((m: { name: string }) => m.name === "data").readOnly = true;
      const registry = podSpec(find(o, "Deployment", "registry")).containers[0];
      registry.volumeMounts.find((m: { name: string }) => m.name === "data").mountPath = "/var/blobs";
    });
    const problems = rule(objects, /data volumes mounted writable/).join("\n");
    expect(problems).toMatch(/granary-online: volume data at \/data\/online is mounted readOnly/);
    expect(problems).toMatch(/granary-registry: GRANARY_REGISTRY_BLOB_ROOT=\/data\/registry\/blobs is on the read-only root filesystem/);
  });

  it("DATABASE_URL as a literal, or missing", () => {
    const objects = mutated((o) => {
      const metadata = podSpec(find(o, "Deployment", "metadata")).containers[0];
      metadata.env = metadata.env.map((e: { name: string }) =>
        e.name === "DATABASE_URL" ? { name: "DATABASE_URL", value: "postgres://granary:hunter2@db:5432/granary" } : e,
      );
      const registry = podSpec(find(o, "Deployment", "registry")).containers[0];
      registry.env = registry.env.filter((e: { name: string }) => e.name !== "DATABASE_URL");
    });
    const problems = rule(objects, /DATABASE_URL from a Secret/).join("\n");
    expect(problems).toMatch(/granary-metadata: env DATABASE_URL holds a PostgreSQL URL with a password/);
    expect(problems).toMatch(/granary-metadata: DATABASE_URL is a literal value/);
    expect(problems).toMatch(/granary-registry: DATABASE_URL is not set/);
  });

  it("a DATABASE_URL in the ConfigMap", () => {
    const objects = mutated((o) => {
      const cm = o.find((x) => x.kind === "ConfigMap")!;
      (cm.data as Record<string, string>).DATABASE_URL = "postgres://granary:pw@db/granary";
    });
    expect(rule(objects, /ConfigMaps hold no DATABASE_URL/)).toEqual([expect.stringMatching(/key DATABASE_URL belongs in a Secret/)]);
  });

  it("a missing PodDisruptionBudget, and one that blocks node drains", () => {
    const objects = mutated((o) => {
      o.splice(o.indexOf(find(o, "PodDisruptionBudget", "metadata")), 1);
      const online = find(o, "PodDisruptionBudget", "online").spec as Record<string, unknown>;
      delete online.maxUnavailable;
      online.minAvailable = 1;
    });
    const problems = rule(objects, /PodDisruptionBudget per component/).join("\n");
    expect(problems).toMatch(/Deployment\/granary-metadata: expected one PodDisruptionBudget selecting its pods, found 0/);
    expect(problems).toMatch(/granary-online: minAvailable 1 with 1 replica\(s\) blocks every eviction/);
  });

  it("a kill deadline shorter than drain + grace", () => {
    const objects = mutated((o) => {
      podSpec(find(o, "StatefulSet", "online")).terminationGracePeriodSeconds = 10;
    });
    expect(rule(objects, /resources, shutdown timing/)).toEqual([
      expect.stringMatching(/granary-online: terminationGracePeriodSeconds \(10s\) must exceed .* \(15s\)/),
    ]);
  });
});

describe("a broken copy of the chart", () => {
  it("fails the security rules when values.yaml drops runAsNonRoot", async () => {
    const copy = chartCopy();
    const values = readFileSync(join(copy, "values.yaml"), "utf8");
    const broken = values
      .replace(/^(podSecurityContext:\n)  runAsNonRoot: true\n/m, "$1")
      .replace(/^(containerSecurityContext:\n(?:  .*\n)*?)  runAsNonRoot: true\n/m, "$1");
    expect(broken).not.toEqual(values);
    writeFileSync(join(copy, "values.yaml"), broken);

    const checks = await checkChart(helm, { ...defaultPaths(root), chart: copy, valuesFiles: [join(chart, "ci/default-values.yaml")] });
    const problems = failing(checks);
    expect(problems.length).toBeGreaterThan(0);
    // Each of the four pods and the console's, and nothing else.
    expect(problems.filter((p) => !/restricted security context.*runAsNonRoot must be true/.test(p))).toEqual([
      expect.stringMatching(/the console: .*Deployment\/granary-console: container console: runAsNonRoot must be true/),
    ]);
    expect(problems).toHaveLength(5);
  });

  it("fails when the chart no longer refuses several registry replicas on ReadWriteOnce storage", async () => {
    const copy = chartCopy();
    const registry = readFileSync(join(copy, "templates/registry.yaml"), "utf8");
    const broken = registry.replace(/^\{\{- fail .*\n/m, "");
    expect(broken).not.toEqual(registry);
    writeFileSync(join(copy, "templates/registry.yaml"), broken);

    const checks = await checkChart(helm, { ...defaultPaths(root), chart: copy, valuesFiles: [join(chart, "ci/default-values.yaml")] });
    expect(failing(checks)).toEqual([
      expect.stringMatching(
        /refuses registry.replicas > 1 on ReadWriteOnce storage: helm template --set postgres.existingSecret=db,registry.replicas=2 succeeded/,
      ),
    ]);
  });

  it("fails when a template points the liveness probe at the server-wide health status", async () => {
    const copy = chartCopy();
    const helpers = readFileSync(join(copy, "templates/_helpers.tpl"), "utf8");
    const broken = helpers.replace(/\n\s+service: liveness\n/, "\n");
    expect(broken).not.toEqual(helpers);
    writeFileSync(join(copy, "templates/_helpers.tpl"), broken);

    const checks = await checkChart(helm, { ...defaultPaths(root), chart: copy, valuesFiles: [join(chart, "ci/default-values.yaml")] });
    const problems = failing(checks);
    expect(problems).toHaveLength(4);
    expect(problems.every((p) => /livenessProbe.grpc.service must be "liveness"/.test(p))).toBe(true);
  });
});

describe("the trust boundary in the chart", () => {
  const env = (o: K8sObject) =>
    podSpec(o).containers[0].env as { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];

  it("renders NetworkPolicies by default: granary pods isolated, gRPC only from each other and labelled clients", () => {
    const policies = rendered.filter((o) => o.kind === "NetworkPolicy");
    expect(policies.map((p) => (p.metadata as { name: string }).name).sort()).toEqual(["granary", "granary-postgres"]);
    const main = policies.find((p) => (p.metadata as { name: string }).name === "granary")!.spec as any;
    expect(main.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(main.ingress).toHaveLength(1);
    // gRPC and HTTP (Connect, gRPC-Web, JSON) of each service, then the console.
    expect(main.ingress[0].ports.map((p: { port: number }) => p.port)).toEqual([50051, 51051, 50052, 51052, 50053, 51053, 50054, 51054, 51050]);
    expect(main.ingress[0].from).toEqual([
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "granary", "app.kubernetes.io/instance": "granary" } } },
      { podSelector: { matchLabels: { "granary.io/client": "true" } } },
    ]);
    expect(failing(checkChartObjects(rendered, expectations).filter((c) => /NetworkPolicies/.test(c.name)))).toEqual([]);
  });

  it("keeps API keys out of values.yaml and the ConfigMap: the service key and bootstrap admin key come from the chart's Secret", () => {
    const valuesText = readFileSync(join(chart, "values.yaml"), "utf8");
    expect(valuesText).not.toMatch(/grn_[a-z0-9]+_[A-Za-z0-9_-]{16,}/);
    expect(valuesText).not.toMatch(/^\s*(serviceKey|bootstrapAdminKey|apiKey)\s*:/m);
    const secret = rendered.find((o) => o.kind === "Secret" && (o.metadata as { name: string }).name === "granary-auth")!;
    const data = secret.data as Record<string, string>;
    expect(Buffer.from(data["service-key"]!, "base64").toString()).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(Buffer.from(data["bootstrap-admin-key"]!, "base64").toString()).toMatch(/^grn_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    for (const component of ["metadata", "online", "offline", "registry"]) {
      const kind = component === "metadata" || component === "registry" ? "Deployment" : "StatefulSet";
      const vars = env(find(rendered, kind, component));
      expect(vars.find((e) => e.name === "GRANARY_SERVICE_KEY")?.valueFrom?.secretKeyRef).toEqual({ name: "granary-auth", key: "service-key" });
      expect(vars.some((e) => e.name === "GRANARY_BOOTSTRAP_ADMIN_KEY")).toBe(component === "metadata");
    }
    expect(env(find(rendered, "Deployment", "metadata")).find((e) => e.name === "GRANARY_BOOTSTRAP_ADMIN_KEY")?.valueFrom?.secretKeyRef).toEqual({
      name: "granary-auth",
      key: "bootstrap-admin-key",
    });
    const configMap = rendered.find((o) => o.kind === "ConfigMap")!.data as Record<string, string>;
    expect(configMap.GRANARY_REFLECTION).toBe("off");
    expect(Object.keys(configMap).filter((k) => /KEY$/.test(k))).toEqual([]);
  });

  it("uses auth.existingSecret when given, and makes no Secret of its own", () => {
    const run = helmTemplate(helm, chart, { set: ["postgres.existingSecret=db", "auth.existingSecret=my-keys"] });
    expect(run.stderr).toBe("");
    const objects = parseManifests(run.stdout);
    expect(objects.some((o) => o.kind === "Secret")).toBe(false);
    expect(env(find(objects, "StatefulSet", "online")).find((e) => e.name === "GRANARY_SERVICE_KEY")?.valueFrom?.secretKeyRef).toEqual({
      name: "my-keys",
      key: "service-key",
    });
  });

  it("serves no /metrics by default; metrics.enabled opens its port to metrics.from only, and refuses no from", () => {
    expect(JSON.stringify(rendered)).not.toMatch(/9464|GRANARY_METRICS/);
    const prometheus = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } };
    const run = helmTemplate(helm, chart, {
      set: [
        "postgres.existingSecret=db",
        "metrics.enabled=true",
        "metrics.tokenSecret=granary-metrics",
        "metrics.from[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring",
      ],
    });
    expect(run.stderr).toBe("");
    const objects = parseManifests(run.stdout);
    for (const [kind, component] of [
      ["Deployment", "metadata"],
      ["StatefulSet", "online"],
      ["StatefulSet", "offline"],
      ["Deployment", "registry"],
    ] as const) {
      const workload = find(objects, kind, component);
      const template = (workload.spec as { template: { metadata: { annotations: Record<string, string> } } }).template;
      expect(template.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "9464", "prometheus.io/path": "/metrics" });
      const container = podSpec(workload).containers[0];
      expect(container.ports).toContainEqual({ name: "metrics", containerPort: 9464, protocol: "TCP" });
      expect((container.env as { name: string }[]).filter((e) => e.name.startsWith("GRANARY_METRICS_"))).toEqual([
        { name: "GRANARY_METRICS_PORT", value: "9464" },
        { name: "GRANARY_METRICS_HOST", value: "0.0.0.0" },
        { name: "GRANARY_METRICS_TOKEN", valueFrom: { secretKeyRef: { name: "granary-metrics", key: "token" } } },
      ]);
    }
    const policy = objects.find((o) => o.kind === "NetworkPolicy" && !(o.metadata as { name: string }).name.match(/-(postgres|nats)/))!;
    const ingress = (policy.spec as { ingress: { ports: { port: number }[]; from: unknown[] }[] }).ingress;
    const metricsRules = ingress.filter((rule) => rule.ports.some((p) => p.port === 9464));
    expect(metricsRules).toEqual([{ ports: [{ protocol: "TCP", port: 9464 }], from: [prometheus] }]);
    const refused = helmTemplate(helm, chart, { set: ["postgres.existingSecret=db", "metrics.enabled=true"] });
    expect(refused.stderr).toMatch(/metrics\.enabled with networkPolicy\.enabled needs metrics\.from/);
  });

  it("with tls.enabled: mounts the Secret, sets GRANARY_TLS_* and probes the cleartext health port", () => {
    const run = helmTemplate(helm, chart, {
      set: ["postgres.existingSecret=db", "tls.enabled=true", "tls.secretName=granary-tls", "tls.clientCertificates=true", "console.enabled=false"],
    });
    expect(run.stderr).toBe("");
    const objects = parseManifests(run.stdout);
    const configMap = objects.find((o) => o.kind === "ConfigMap")!.data as Record<string, string>;
    expect(configMap).toMatchObject({
      GRANARY_TLS_CERT: "/etc/granary/tls/tls.crt",
      GRANARY_TLS_KEY: "/etc/granary/tls/tls.key",
      GRANARY_TLS_CA: "/etc/granary/tls/ca.crt",
      GRANARY_HEALTH_PORT: "8086",
    });
    const online = podSpec(find(objects, "StatefulSet", "online"));
    expect(online.volumes).toContainEqual({ name: "tls", secret: { secretName: "granary-tls", defaultMode: 0o440 } });
    expect(online.containers[0].volumeMounts).toContainEqual({ name: "tls", mountPath: "/etc/granary/tls", readOnly: true });
    expect(online.containers[0].readinessProbe.grpc.port).toBe(8086);
    expect(online.containers[0].livenessProbe.grpc).toEqual({ port: 8086, service: "liveness" });
    const tlsExpectations = expectationsFromValues(
      mergeValues(defaults, { postgres: { existingSecret: "db" }, tls: { enabled: true, secretName: "granary-tls" } }),
    );
    expect(failing(checkChartObjects(objects, tlsExpectations))).toEqual([]);

    // Without client certificates the CA is only trusted (NODE_EXTRA_CA_CERTS), not required.
    const plain = parseManifests(helmTemplate(helm, chart, { set: ["postgres.existingSecret=db", "tls.enabled=true", "tls.secretName=granary-tls"] }).stdout);
    const plainConfig = plain.find((o) => o.kind === "ConfigMap")!.data as Record<string, string>;
    expect(plainConfig.GRANARY_TLS_CA).toBeUndefined();
    expect(plainConfig.NODE_EXTRA_CA_CERTS).toBe("/etc/granary/tls/ca.crt");
  });

  it("the rules catch a literal service key, an admin key outside metadata, a TLS port probed by kubelet, and no NetworkPolicy", () => {
    const tlsRun = parseManifests(helmTemplate(helm, chart, { set: ["postgres.existingSecret=db", "tls.enabled=true", "tls.secretName=granary-tls"] }).stdout);
    const objects = structuredClone(tlsRun);
    const online = podSpec(find(objects, "StatefulSet", "online")).containers[0];
    online.env = online.env.map((e: { name: string }) =>
      e.name === "GRANARY_SERVICE_KEY" ? { name: e.name, value: "grn_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } : e,
    );
    online.env.push({ name: "GRANARY_BOOTSTRAP_ADMIN_KEY", valueFrom: { secretKeyRef: { name: "granary-auth", key: "bootstrap-admin-key" } } });
    podSpec(find(objects, "Deployment", "registry")).containers[0].readinessProbe.grpc.port = 50054;
    const withoutPolicies = objects.filter((o) => o.kind !== "NetworkPolicy");
    const checks = checkChartObjects(withoutPolicies, { ...expectations, tlsSecret: "granary-tls" });
    const problems = failing(checks).join("\n");
    expect(problems).toMatch(/granary-online: GRANARY_SERVICE_KEY must come from valueFrom.secretKeyRef/);
    expect(problems).toMatch(/granary-online: env GRANARY_SERVICE_KEY holds an API key/);
    expect(problems).toMatch(/granary-online: GRANARY_BOOTSTRAP_ADMIN_KEY belongs to metadata only/);
    expect(problems).toMatch(/granary-registry: readinessProbe.grpc.port 50054 is not GRANARY_HEALTH_PORT 8086/);
    expect(problems).toMatch(/granary-metadata: no NetworkPolicy restricts its ingress/);
  });
});

describe("online replicas on the write log", () => {
  type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } };
  const env = (o: K8sObject) => podSpec(o).containers[0].env as EnvVar[];
  const natsUrl = "nats://nats.nats.svc:4222";
  const scaled = ["postgres.existingSecret=db", "online.replicas=3", `nats.url=${natsUrl}`];
  const scaledExpectations = expectationsFromValues(
    mergeValues(defaults, { postgres: { existingSecret: "db" }, online: { replicas: 3 }, nats: { url: natsUrl } }),
  );
  let objects: K8sObject[];

  beforeAll(() => {
    const run = helmTemplate(helm, chart, { set: scaled });
    expect(run.stderr).toBe("");
    objects = parseManifests(run.stdout);
  });

  const rule = (o: K8sObject[], name: RegExp, expectations = scaledExpectations) => {
    const matching = checkChartObjects(o, expectations).filter((c) => name.test(c.name));
    expect(matching).toHaveLength(1);
    return matching[0]!.problems.join("\n");
  };

  it("renders N replicas, each with its own claim, named after its pod, following the log; a headless Service of ready pods; a PodDisruptionBudget", () => {
    const online = find(objects, "StatefulSet", "online");
    expect((online.spec as { replicas: number }).replicas).toBe(3);
    expect((online.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates).toHaveLength(1);
    const vars = env(online);
    expect(vars.find((e) => e.name === "GRANARY_ONLINE_REPLICA")).toEqual({
      name: "GRANARY_ONLINE_REPLICA",
      valueFrom: { fieldRef: { fieldPath: "metadata.name" } },
    });
    expect(Object.fromEntries(vars.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]))).toMatchObject({
      GRANARY_NATS_URL: natsUrl,
      GRANARY_NATS_STREAM: "GRANARY",
      GRANARY_NATS_SUBJECT_PREFIX: "granary",
      GRANARY_NATS_REPLICAS: "3",
      GRANARY_NATS_MAX_AGE_H: "168",
      GRANARY_ONLINE_MAX_LAG: "1000",
      GRANARY_ONLINE_APPLY_WAIT_MS: "5000",
      GRANARY_ONLINE_READ_WAIT_MS: "500",
    });
    // offline consumes the same log; metadata and registry have nothing to do with it.
    const offlineVars = Object.fromEntries(env(find(objects, "StatefulSet", "offline")).map((e) => [e.name, e.value]));
    expect(offlineVars).toMatchObject({ GRANARY_NATS_URL: natsUrl, GRANARY_OFFLINE_STREAM_MAX_ROWS: "50000", GRANARY_OFFLINE_STREAM_MAX_MS: "1000" });
    expect(env(find(objects, "Deployment", "metadata")).some((e) => e.name.startsWith("GRANARY_NATS_"))).toBe(false);
    // Readiness follows the lag; the startup probe only waits for the port, so a long replay is never restarted.
    const c = podSpec(online).containers[0];
    expect(c.readinessProbe.grpc).toEqual({ port: 50052 });
    expect(c.startupProbe.grpc).toEqual({ port: 50052, service: "liveness" });
    const services = objects.filter((o) => o.kind === "Service" && (o.metadata as { name: string }).name.startsWith("granary-online"));
    expect(services.map((o) => [(o.metadata as { name: string }).name, (o.spec as { clusterIP?: string }).clusterIP ?? "(allocated)"]).sort()).toEqual([
      ["granary-online", "(allocated)"],
      ["granary-online-headless", "None"],
    ]);
    const [clusterIp, headless] = ["granary-online", "granary-online-headless"].map((n) => services.find((o) => (o.metadata as { name: string }).name === n)!);
    expect((clusterIp!.spec as { publishNotReadyAddresses?: boolean }).publishNotReadyAddresses).toBeUndefined();
    expect((headless!.spec as { publishNotReadyAddresses: boolean }).publishNotReadyAddresses).toBe(false);
    expect((find(objects, "PodDisruptionBudget", "online").spec as Record<string, unknown>).maxUnavailable).toBe(1);
    // With podDisruptionBudget.minAvailable 1, three replicas get minAvailable.
    const minRun = helmTemplate(helm, chart, { set: [...scaled, "podDisruptionBudget.minAvailable=1"] });
    expect((find(parseManifests(minRun.stdout), "PodDisruptionBudget", "online").spec as Record<string, unknown>).minAvailable).toBe(1);
    // NetworkPolicies: online and offline may reach NATS.
    const natsPolicy = objects.find((o) => o.kind === "NetworkPolicy" && (o.metadata as { name: string }).name === "granary-nats")!.spec as any;
    expect(natsPolicy.podSelector.matchExpressions).toEqual([{ key: "app.kubernetes.io/component", operator: "In", values: ["online", "offline"] }]);
    expect(natsPolicy.egress).toEqual([{ ports: [{ protocol: "TCP", port: 4222 }] }]);
    expect(failing(checkChartObjects(objects, scaledExpectations))).toEqual([]);
  });

  it("takes the URL from nats.existingSecret when given", () => {
    const run = helmTemplate(helm, chart, { set: ["postgres.existingSecret=db", "online.replicas=2", "nats.existingSecret=granary-nats"] });
    expect(run.stderr).toBe("");
    const rendered2 = parseManifests(run.stdout);
    for (const [kind, component] of [
      ["StatefulSet", "online"],
      ["StatefulSet", "offline"],
    ] as const) {
      expect(env(find(rendered2, kind, component)).find((e) => e.name === "GRANARY_NATS_URL")).toEqual({
        name: "GRANARY_NATS_URL",
        valueFrom: { secretKeyRef: { name: "granary-nats", key: "NATS_URL" } },
      });
    }
    const values = mergeValues(defaults, { postgres: { existingSecret: "db" }, online: { replicas: 2 }, nats: { existingSecret: "granary-nats" } });
    expect(failing(checkChartObjects(rendered2, expectationsFromValues(values)))).toEqual([]);
  });

  it("without nats.url: no NATS settings, one replica, and the schema refuses more, saying why", () => {
    expect(env(find(rendered, "StatefulSet", "online")).some((e) => e.name.startsWith("GRANARY_NATS_"))).toBe(false);
    expect(env(find(rendered, "StatefulSet", "offline")).some((e) => /^GRANARY_(NATS|OFFLINE_STREAM)_/.test(e.name))).toBe(false);
    expect(rendered.some((o) => o.kind === "NetworkPolicy" && (o.metadata as { name: string }).name === "granary-nats")).toBe(false);
    const run = helmTemplate(helm, chart, { set: ["postgres.existingSecret=db", "online.replicas=3"] });
    expect(run.ok).toBe(false);
    expect(run.stderr).toMatch(/online\.replicas > 1 needs the write log: without it each replica would hold only the writes that reached it/);
  });

  it("the rules catch replicas without the log, a literal replica name, a headless Service of unready pods, a restarting startup probe and a drain that takes all", () => {
    const broken = structuredClone(objects);
    const online = find(broken, "StatefulSet", "online");
    const c = podSpec(online).containers[0];
    c.env = c.env
      .filter((e: EnvVar) => !e.name.startsWith("GRANARY_NATS_"))
      .map((e: EnvVar) => (e.name === "GRANARY_ONLINE_REPLICA" ? { name: e.name, value: "online" } : e));
    delete c.startupProbe.grpc.service;
    const headless = broken.find((o) => o.kind === "Service" && (o.metadata as { name: string }).name === "granary-online-headless")!;
    (headless.spec as Record<string, unknown>).publishNotReadyAddresses = true;
    const pdb = find(broken, "PodDisruptionBudget", "online").spec as Record<string, unknown>;
    pdb.maxUnavailable = 3;
    const problems = rule(broken, /^online replicas:/);
    expect(problems).toMatch(/StatefulSet\/granary-online: 3 replicas without GRANARY_NATS_URL: each replica would hold only the writes that reached it/);
    expect(problems).toMatch(/GRANARY_ONLINE_REPLICA must come from the pod's name/);
    expect(problems).toMatch(/startupProbe.grpc.service must be "liveness"/);
    expect(problems).toMatch(/Service\/granary-online-headless: publishNotReadyAddresses must be false/);
    expect(problems).toMatch(/PodDisruptionBudget\/granary-online: maxUnavailable 3 lets a drain evict all 3 replicas/);
    // And the wiring rule: the values name a log the pods no longer follow.
    expect(rule(broken, /follow the write log the values name/)).toMatch(
      /StatefulSet\/granary-online: GRANARY_NATS_URL is not set, but the values configure the write log/,
    );
  });

  it("the rules catch offline on another log, credentials in a literal URL, wrong stream replicas and a NetworkPolicy without NATS", () => {
    const broken = structuredClone(objects);
    const offline = podSpec(find(broken, "StatefulSet", "offline")).containers[0];
    offline.env = offline.env.map((e: EnvVar) => (e.name === "GRANARY_NATS_URL" ? { name: e.name, value: "nats://granary:hunter2@elsewhere:4222" } : e));
    const online = podSpec(find(broken, "StatefulSet", "online")).containers[0];
    online.env = online.env.map((e: EnvVar) => (e.name === "GRANARY_NATS_REPLICAS" ? { name: e.name, value: "1" } : e));
    const problems = rule(broken, /follow the write log the values name/);
    expect(problems).toMatch(/StatefulSet\/granary-offline: GRANARY_NATS_URL carries credentials as a literal/);
    expect(problems).toMatch(
      /StatefulSet\/granary-offline: GRANARY_NATS_URL is nats:\/\/granary:hunter2@elsewhere:4222, values say nats:\/\/nats.nats.svc:4222/,
    );
    expect(problems).toMatch(/StatefulSet\/granary-online: GRANARY_NATS_REPLICAS is 1, values say 3/);
    const withoutNats = broken.filter((o) => !(o.kind === "NetworkPolicy" && (o.metadata as { name: string }).name === "granary-nats"));
    const policy = rule(withoutNats, /NetworkPolicies let online and offline reach NATS/);
    expect(policy).toMatch(/StatefulSet\/granary-online: no NetworkPolicy egress rule allows TCP 4222/);
    expect(policy).toMatch(/StatefulSet\/granary-offline: no NetworkPolicy egress rule allows TCP 4222/);
    // Without a log in the values, a pod following one is a mistake too.
    const none = expectationsFromValues(mergeValues(defaults, { postgres: { existingSecret: "db" } }));
    expect(rule(objects, /follow the write log the values name/, none)).toMatch(/GRANARY_NATS_URL is set although the values configure no write log/);
  });
});

describe("a copy of the chart that no longer refuses online replicas without the log", () => {
  const stripSchemaRule = (copy: string) => {
    const schemaFile = join(copy, "values.schema.json");
    const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as Record<string, unknown>;
    expect(schema.allOf).toBeDefined();
    delete schema.allOf;
    writeFileSync(schemaFile, JSON.stringify(schema));
  };

  it("still refuses through the template when only the schema's rule is gone", async () => {
    const copy = chartCopy();
    stripSchemaRule(copy);
    const run = helmTemplate(helm, copy, { set: ["postgres.existingSecret=db", "online.replicas=2"] });
    expect(run.stderr).toMatch(
      /online\.replicas > 1 needs the write log: without it each replica would hold only the writes that reached it \(online\.replicas is 2/,
    );
    const checks = await checkChart(helm, { ...defaultPaths(root), chart: copy, valuesFiles: [join(chart, "ci/default-values.yaml")] });
    expect(failing(checks)).toEqual([]);
  });

  it("fails validation when neither the schema nor the template refuses", async () => {
    const copy = chartCopy();
    stripSchemaRule(copy);
    const online = readFileSync(join(copy, "templates/online.yaml"), "utf8");
    const broken = online.replace(/^\{\{- fail .*\n/m, "");
    expect(broken).not.toEqual(online);
    writeFileSync(join(copy, "templates/online.yaml"), broken);
    const checks = await checkChart(helm, { ...defaultPaths(root), chart: copy, valuesFiles: [join(chart, "ci/default-values.yaml")] });
    expect(failing(checks)).toEqual([
      expect.stringMatching(/refuses online.replicas > 1 without the write log .*: helm template --set postgres.existingSecret=db,online.replicas=2 succeeded/),
    ]);
  });
});

describe("the HTTP ports and the console in the chart", () => {
  type EnvVar = { name: string; value?: string };
  const env = (o: K8sObject) => podSpec(o).containers[0].env as EnvVar[];
  const value = (o: K8sObject, name: string) => env(o).find((e) => e.name === name)?.value;
  const consoleChecks = (objects: K8sObject[], values: unknown = {}) => checkConsole(objects, consoleFromValues(mergeValues(defaults, values)));

  it("each service's pod sets GRANARY_HTTP_PORT and its Service exposes it as http; the console runs its server against those Services", () => {
    const http = { metadata: 51051, online: 51052, offline: 51053, registry: 51054 };
    for (const [component, port] of Object.entries(http)) {
      const kind = component === "metadata" || component === "registry" ? "Deployment" : "StatefulSet";
      const workload = find(rendered, kind, component);
      expect(value(workload, "GRANARY_HTTP_PORT")).toBe(String(port));
      expect(podSpec(workload).containers[0].ports).toContainEqual({ name: "http", containerPort: port, protocol: "TCP" });
      const service = rendered.find((o) => o.kind === "Service" && (o.metadata as { name: string }).name === `granary-${component}`)!;
      expect((service.spec as any).ports).toContainEqual({ name: "http", port, targetPort: "http", protocol: "TCP" });
    }
    const console = find(rendered, "Deployment", "console");
    const container = podSpec(console).containers[0];
    expect(container.command).toEqual(["node", "dist/console.js"]);
    expect(Object.fromEntries(env(console).map((e) => [e.name, e.value]))).toEqual({
      GRANARY_CONSOLE_HOST: "0.0.0.0",
      GRANARY_CONSOLE_PORT: "51050",
      GRANARY_METADATA_HTTP_URL: "http://granary-metadata.granary.svc:51051",
      GRANARY_ONLINE_HTTP_URL: "http://granary-online.granary.svc:51052",
      GRANARY_OFFLINE_HTTP_URL: "http://granary-offline.granary.svc:51053",
      GRANARY_REGISTRY_HTTP_URL: "http://granary-registry.granary.svc:51054",
    });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect((find(rendered, "Service", "console").spec as any).ports).toEqual([
      { name: "http", port: 51050, targetPort: "http", protocol: "TCP", appProtocol: "http" },
    ]);
  });

  it("with tls.enabled: the console dials https and trusts the CA, the only key of the TLS Secret it mounts", () => {
    const objects = parseManifests(helmTemplate(helm, chart, { set: ["postgres.existingSecret=db", "tls.enabled=true", "tls.secretName=granary-tls"] }).stdout);
    const console = find(objects, "Deployment", "console");
    expect(value(console, "GRANARY_REGISTRY_HTTP_URL")).toBe("https://granary-registry.granary.svc:51054");
    expect(value(console, "NODE_EXTRA_CA_CERTS")).toBe("/etc/granary/tls/ca.crt");
    expect(podSpec(console).volumes).toContainEqual({
      name: "tls-ca",
      secret: { secretName: "granary-tls", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o440 },
    });
    expect(failing(consoleChecks(objects, { tls: { enabled: true, secretName: "granary-tls" } }))).toEqual([]);
    // The rule knows the services serve TLS: a plain http URL fails it.
    expect(failing(consoleChecks(rendered, { tls: { enabled: true, secretName: "granary-tls" } })).join("\n")).toMatch(
      /GRANARY_METADATA_HTTP_URL http:\/\/granary-metadata.granary.svc:51051 must use https/,
    );
  });

  it("console.enabled=false renders no console, and the rule then refuses a stray one", () => {
    const objects = parseManifests(helmTemplate(helm, chart, { set: ["postgres.existingSecret=db", "console.enabled=false"] }).stdout);
    expect(objects.filter((o) => (o.metadata as { labels?: Record<string, string> }).labels?.["app.kubernetes.io/component"] === "console")).toEqual([]);
    expect(objects.filter((o) => o.kind === "PodDisruptionBudget")).toHaveLength(4);
    expect(failing(consoleChecks(objects, { console: { enabled: false } }))).toEqual([]);
    expect(failing(consoleChecks(rendered, { console: { enabled: false } }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/Deployment\/granary-console rendered although console.enabled is false/)]),
    );
  });

  it("the rules catch a console aimed at the wrong port or holding a key, probes that are not /healthz, and a service without its HTTP port", () => {
    const objects = mutated((o) => {
      const console = podSpec(find(o, "Deployment", "console")).containers[0];
      console.env = console.env.map((e: EnvVar) => (e.name === "GRANARY_ONLINE_HTTP_URL" ? { ...e, value: "http://granary-online.granary.svc:50052" } : e));
      console.env.push({ name: "GRANARY_SERVICE_KEY", valueFrom: { secretKeyRef: { name: "granary-auth", key: "service-key" } } });
      console.livenessProbe = { tcpSocket: { port: "http" } };
      const registry = find(o, "Service", "registry").spec as { ports: { name: string }[] };
      registry.ports = registry.ports.filter((p) => p.name !== "http");
      const online = podSpec(find(o, "StatefulSet", "online")).containers[0];
      online.env = online.env.filter((e: EnvVar) => e.name !== "GRANARY_HTTP_PORT");
    });
    const problems = [...failing(checkChartObjects(objects, expectations)), ...failing(consoleChecks(objects))].join("\n");
    expect(problems).toMatch(/granary-console: GRANARY_ONLINE_HTTP_URL http:\/\/granary-online.granary.svc:50052 is not on port 51052/);
    expect(problems).toMatch(/granary-console: GRANARY_SERVICE_KEY is set, but the console holds no key/);
    expect(problems).toMatch(/granary-console: livenessProbe must be an httpGet of \/healthz/);
    expect(problems).toMatch(/granary-console: GRANARY_REGISTRY_HTTP_URL: no Service of the release exposes registry's http port/);
    expect(problems).toMatch(/Service\/granary-registry: no port targets the container port named http/);
    expect(problems).toMatch(/StatefulSet\/granary-online: GRANARY_HTTP_PORT is unset, the container port named http is 51052/);
  });
});
