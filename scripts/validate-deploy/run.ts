// Every deployment check, in order: the pinned helm, the chart over its CI values matrix (lint,
// template, Kubernetes schemas, Granary's rules, the chart's own refusals), docker-compose.yml and
// the Dockerfile. Used by scripts/validate-deploy.ts and the tests in test/deploy/.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { parse } from "yaml";
import { checkCompose, loadComposeFiles, validateComposeSchema } from "./compose.js";
import { checkComposeConsole } from "./compose-console.js";
import { checkCompiledBuild, checkConsoleBuild, checkDockerfile } from "./dockerfile.js";
import { helmLint, helmTemplate, verifyHelm, type Helm, type HelmPin } from "./helm.js";
import { checkChartObjects, expectationsFromValues, parseManifests, validateKubernetesSchemas, validateNames } from "./kubernetes.js";
import { checkConsole, consoleFromValues } from "./kubernetes-console.js";
import { asArray, asRecord, check, get, mergeValues, problemsOf, type Check } from "./report.js";

export interface Paths {
  readonly root: string;
  readonly chart: string;
  /** Values files of the matrix; default: <chart>/ci/*.yaml. */
  readonly valuesFiles?: readonly string[];
  readonly compose: string;
  readonly envExample: string;
  readonly composeSchema: string;
  readonly dockerfile: string;
  readonly dockerignore: string;
}

export function defaultPaths(root: string): Paths {
  return {
    root,
    chart: join(root, "helm/granary"),
    compose: join(root, "docker-compose.yml"),
    envExample: join(root, ".env.example"),
    composeSchema: join(root, "deploy/schemas/compose-spec.json"),
    dockerfile: join(root, "Dockerfile"),
    dockerignore: join(root, ".dockerignore"),
  };
}

export function matrixOf(paths: Paths): string[] {
  if (paths.valuesFiles) return [...paths.valuesFiles];
  const dir = join(paths.chart, "ci");
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(dir, f))
    : [];
}

/** Values the chart must refuse: `helm template` has to fail with a message containing `expect`. */
export const REFUSALS: readonly { readonly name: string; readonly set: readonly string[]; readonly expect: RegExp }[] = [
  { name: "refuses an install without postgres.existingSecret", set: [], expect: /postgres\.existingSecret is required/ },
  {
    name: "refuses registry.replicas > 1 on ReadWriteOnce storage",
    set: ["postgres.existingSecret=db", "registry.replicas=2"],
    expect: /more than one replica needs persistence\.enabled with ReadWriteMany storage/,
  },
  {
    name: "refuses offline.replicas > 1 (single writer; values.schema.json)",
    set: ["postgres.existingSecret=db", "offline.replicas=2"],
    expect: /offline\.replicas: Must be less than or equal to 1/,
  },
  {
    name: "refuses an unknown value (values.schema.json)",
    set: ["postgres.existingSecret=db", "metadata.replicaCount=3"],
    expect: /Additional property replicaCount is not allowed/,
  },
  {
    name: "refuses an API key written into values (values.schema.json: keys come from a Secret)",
    set: ["postgres.existingSecret=db", "auth.serviceKey=hunter2"],
    expect: /auth: Additional property serviceKey is not allowed/,
  },
  {
    name: "refuses online.replicas > 1 without the write log (values.schema.json: each replica would hold only the writes that reached it)",
    set: ["postgres.existingSecret=db", "online.replicas=2"],
    expect: /online\.replicas > 1 needs the write log: without it each replica would hold only the writes that reached it/,
  },
  {
    name: "refuses credentials in nats.url (values.schema.json: they belong in nats.existingSecret)",
    set: ["postgres.existingSecret=db", "nats.url=nats://granary:hunter2@nats.nats.svc:4222"],
    expect: /nats\.url: Does not match pattern/,
  },
  {
    name: "refuses the console with tls.clientCertificates (it presents no client certificate)",
    set: ["postgres.existingSecret=db", "tls.enabled=true", "tls.secretName=tls", "tls.clientCertificates=true"],
    expect: /console\.enabled with tls\.clientCertificates: the console presents no client certificate/,
  },
  {
    name: "refuses tls.enabled without tls.secretName",
    set: ["postgres.existingSecret=db", "tls.enabled=true"],
    expect: /tls\.secretName is required when tls\.enabled/,
  },
];

/** 53 characters, the longest release name helm accepts. */
export const LONG_RELEASE = "ml-platform-production-feature-store-granary-europe-1";

export async function checkChart(helm: Helm, paths: Paths): Promise<Check[]> {
  const checks: Check[] = [];
  const rel = (p: string) => relative(paths.root, p) || p;
  const defaults = parse(readFileSync(join(paths.chart, "values.yaml"), "utf8")) as unknown;
  const matrix = matrixOf(paths);
  checks.push(check("helm", `values matrix (${rel(join(paths.chart, "ci"))})`, matrix.length > 0 ? [] : ["no values files: add helm/granary/ci/*.yaml"]));

  for (const valuesFile of matrix) {
    const label = basename(valuesFile);
    checks.push(check("helm", `helm lint --strict -f ${label}`, helmLint(helm, paths.chart, valuesFile)));
    const rendered = helmTemplate(helm, paths.chart, { valuesFiles: [valuesFile] });
    if (!rendered.ok) {
      checks.push(check("helm", `helm template -f ${label}`, [rendered.stderr.trim() || "helm template failed"]));
      continue;
    }
    let objects;
    try {
      objects = parseManifests(rendered.stdout);
    } catch (error) {
      checks.push(check("helm", `helm template -f ${label}`, [(error as Error).message]));
      continue;
    }
    checks.push(check("helm", `helm template -f ${label} (${objects.length} objects)`, []));
    checks.push(check("kubernetes", `[${label}] every object valid against the Kubernetes schemas`, await validateKubernetesSchemas(objects)));
    checks.push(check("kubernetes", `[${label}] object names and label values acceptable to the API server`, validateNames(objects)));
    const values = mergeValues(defaults, parse(readFileSync(valuesFile, "utf8")) as unknown);
    for (const c of [...checkChartObjects(objects, expectationsFromValues(values)), ...checkConsole(objects, consoleFromValues(values))]) {
      checks.push(check(c.section, `[${label}] ${c.name}`, c.problems));
    }
  }

  // A release name long enough to need the chart's truncation.
  const longRelease = helmTemplate(helm, paths.chart, { release: LONG_RELEASE, set: ["postgres.existingSecret=db"] });
  checks.push(
    check(
      "kubernetes",
      `release name of ${LONG_RELEASE.length} characters: names and labels still valid`,
      longRelease.ok ? validateNames(parseManifests(longRelease.stdout)) : [longRelease.stderr.trim()],
    ),
  );

  checks.push(await checkOnlineReplicas(helm, paths, defaults));

  for (const refusal of REFUSALS) {
    const run = helmTemplate(helm, paths.chart, { set: refusal.set });
    const problems = run.ok
      ? [`helm template --set ${refusal.set.join(",") || "(nothing)"} succeeded; the chart must refuse it`]
      : refusal.expect.test(run.stderr)
        ? []
        : [`helm template failed, but not with a message matching ${String(refusal.expect)}: ${run.stderr.trim()}`];
    checks.push(check("helm", refusal.name, problems));
  }
  return checks;
}

/** The scale-out the write log allows: online.replicas N with nats.url. */
export const ONLINE_REPLICAS = { replicas: 3, natsUrl: "nats://nats.nats.svc:4222" } as const;

/**
 * `online.replicas: 3` with `nats.url`: three replicas of the online StatefulSet, each with its own
 * volume claim, following the log; the headless Service and the PodDisruptionBudget; the rules
 * about replicas, the log and disruption budgets holding, and every object valid.
 */
export async function checkOnlineReplicas(helm: Helm, paths: Paths, defaults: unknown): Promise<Check> {
  const { replicas, natsUrl } = ONLINE_REPLICAS;
  const set = ["postgres.existingSecret=db", `online.replicas=${replicas}`, `nats.url=${natsUrl}`];
  const name = `online.replicas=${replicas} with nats.url: ${replicas} replicas following the log, headless Service, PodDisruptionBudget`;
  const run = helmTemplate(helm, paths.chart, { set });
  if (!run.ok) return check("helm", name, [`helm template --set ${set.join(",")} failed: ${run.stderr.trim()}`]);
  const objects = parseManifests(run.stdout);
  const problems: string[] = [];
  const online = objects.find((o) => o.kind === "StatefulSet" && get(o, "metadata", "labels", "app.kubernetes.io/component") === "online");
  if (!online) return check("helm", name, ["no online StatefulSet rendered"]);
  if (get(online, "spec", "replicas") !== replicas)
    problems.push(`the online StatefulSet has replicas ${String(get(online, "spec", "replicas"))}, not ${replicas}`);
  if (asArray(get(online, "spec", "volumeClaimTemplates")).length === 0)
    problems.push("the online StatefulSet has no volumeClaimTemplates: the replicas would share one LMDB");
  const podLabels = asRecord(get(online, "spec", "template", "metadata", "labels")) ?? {};
  const selecting = (kind: string, path: string[]) =>
    objects.filter((o) => {
      const selector = asRecord(get(o, ...path)) ?? {};
      return o.kind === kind && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    });
  const services = selecting("Service", ["spec", "selector"]);
  if (!services.some((svc) => get(svc, "spec", "clusterIP") === "None")) problems.push("no headless Service selects the online pods");
  if (!services.some((svc) => get(svc, "spec", "clusterIP") !== "None")) problems.push("no (ClusterIP) Service selects the online pods");
  if (selecting("PodDisruptionBudget", ["spec", "selector", "matchLabels"]).length !== 1)
    problems.push("expected one PodDisruptionBudget selecting the online pods");
  const values = mergeValues(defaults, { postgres: { existingSecret: "db" }, online: { replicas }, nats: { url: natsUrl } });
  // The rules about replicas and the log (the others run over the values matrix, which scales out too).
  const rules = checkChartObjects(objects, expectationsFromValues(values)).filter((c) => /^online replicas|write log|NATS|PodDisruptionBudget/.test(c.name));
  problems.push(...problemsOf(rules));
  problems.push(...(await validateKubernetesSchemas(objects)));
  return check("helm", name, problems);
}

export function checkComposeFile(paths: Paths): Check[] {
  const file = loadComposeFiles(paths.compose, paths.envExample);
  return [
    check("compose", "docker-compose.yml valid against the Compose Specification schema", validateComposeSchema(file.doc, paths.composeSchema)),
    ...checkCompose(file, { envFileExists: (name) => existsSync(join(paths.root, name)) }),
    ...checkComposeConsole(file),
  ];
}

export function checkDockerfileAt(paths: Paths): Check[] {
  const text = readFileSync(paths.dockerfile, "utf8");
  return [
    ...checkDockerfile(text, existsSync(paths.dockerignore) ? readFileSync(paths.dockerignore, "utf8") : undefined),
    ...checkConsoleBuild(text),
    ...checkCompiledBuild(text),
  ];
}

export interface RunResult {
  readonly checks: Check[];
  readonly helm?: Helm;
}

/**
 * Everything. `onSection` sees each section's checks as they finish (for printing). Without a
 * usable helm the chart checks are one failure, and the compose and Dockerfile checks still run.
 */
export async function runAll(paths: Paths, options: { pin?: HelmPin; onSection?: (title: string, checks: Check[]) => void } = {}): Promise<RunResult> {
  const all: Check[] = [];
  const section = (title: string, checks: Check[]) => {
    all.push(...checks);
    options.onSection?.(title, checks);
  };
  let helm: Helm | undefined;
  try {
    helm = verifyHelm(paths.root, options.pin);
    section(`helm binary`, [check("helm", `pinned helm ${helm.version} verified (sha256 ${helm.sha256.slice(0, 12)}...)`, [])]);
  } catch (error) {
    section("helm binary", [check("helm", "pinned helm binary verified", [(error as Error).message])]);
  }
  if (helm) section("Helm chart helm/granary", await checkChart(helm, paths));
  section("docker-compose.yml", checkComposeFile(paths));
  section("Dockerfile", checkDockerfileAt(paths));
  return { checks: all, helm };
}
