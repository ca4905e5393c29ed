import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkCompiledBuild, checkConsoleBuild, checkDockerfile, isPinnedImage } from "../../scripts/validate-deploy/dockerfile.js";
import { problemsOf, type Check } from "../../scripts/validate-deploy/report.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const dockerignore = readFileSync(join(root, ".dockerignore"), "utf8");

function failing(checks: Check[]): string[] {
  return problemsOf(checks.filter((c) => c.problems.length > 0));
}

const good = `# syntax=docker/dockerfile:1
ARG BASE=node:20.20.2-bookworm-slim
FROM \${BASE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ && rm -rf /var/lib/apt/lists/*
COPY . .
FROM \${BASE}
COPY --from=build /app /app
USER 10001:10001
HEALTHCHECK CMD ["node", "health.mjs"]
CMD ["node", "main.js"]
`;

describe("the repository's Dockerfile", () => {
  it("passes every check", () => {
    expect(failing(checkDockerfile(dockerfile, dockerignore))).toEqual([]);
    expect(failing(checkConsoleBuild(dockerfile))).toEqual([]);
    expect(failing(checkCompiledBuild(dockerfile))).toEqual([]);
  });

  it("compiles the services in a build stage and runs the bundles, never tsx; the check fails otherwise", () => {
    expect(dockerfile).toMatch(/^FROM deps AS build\n(?:.*\n)*?RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist\/ \.\/dist\/$/m);
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(finalStage).not.toMatch(/^COPY (libs|services)\/ /m);
    expect(failing(checkCompiledBuild(dockerfile.replace(/^COPY --from=build \/app\/dist\/ .*\n/m, "")))).toEqual([
      expect.stringMatching(/the final stage does not COPY --from=build dist\//),
    ]);
    expect(failing(checkCompiledBuild(dockerfile.replace("RUN npm run build\n", "RUN true\n")))).toEqual([
      expect.stringMatching(/no stage before the final one runs npm run build:/),
    ]);
    expect(
      failing(checkCompiledBuild(dockerfile.replace('CMD ["node", "dist/metadata.js"]', 'CMD ["node", "--import", "tsx", "services/metadata/src/main.ts"]'))),
    ).toEqual([expect.stringMatching(/the CMD must run a compiled bundle.*\n?/), expect.stringMatching(/must not compile with tsx/)]);
  });

  it("builds the console in its own stage and copies only its dist into the final stage; the check fails otherwise", () => {
    expect(dockerfile).toMatch(/^FROM deps AS console\n(?:.*\n)*?RUN npm run build:console$/m);
    expect(dockerfile).toMatch(/^COPY --from=console \/app\/apps\/console\/dist\/ \.\/apps\/console\/dist\/$/m);
    expect(failing(checkConsoleBuild(dockerfile.replace(/^COPY --from=console .*\n/m, "")))).toEqual([
      expect.stringMatching(/the final stage does not COPY --from=console apps\/console\/dist/),
    ]);
    expect(failing(checkConsoleBuild(dockerfile.replace("RUN npm run build:console", "RUN true")))).toEqual([
      expect.stringMatching(/no stage before the final one runs npm run build:console/),
    ]);
  });
});

describe("the Dockerfile checks", () => {
  it("pass on a minimal good Dockerfile", () => {
    expect(failing(checkDockerfile(good, ".env\nnode_modules\n.git\n"))).toEqual([]);
  });

  it("fail on a final stage that runs as root, or sets no USER", () => {
    expect(failing(checkDockerfile(good.replace("USER 10001:10001", "USER root"), dockerignore))).toEqual([
      expect.stringMatching(/final stage runs as a non-root USER: the final stage's USER is root/),
    ]);
    expect(failing(checkDockerfile(good.replace("USER 10001:10001", "USER 0:0"), dockerignore))).toHaveLength(1);
    expect(failing(checkDockerfile(good.replace("USER 10001:10001\n", ""), dockerignore))).toEqual([expect.stringMatching(/no USER: it would run as root/)]);
    // A USER in the build stage does not count for the final one.
    const buildOnly = good.replace("USER 10001:10001\n", "").replace("COPY . .", "COPY . .\nUSER 10001");
    expect(failing(checkDockerfile(buildOnly, dockerignore))).toEqual([expect.stringMatching(/no USER/)]);
  });

  it("fail on secrets in ENV or ARG", () => {
    const withSecrets = good
      .replace("COPY . .", "COPY . .\nARG NPM_TOKEN")
      .replace("USER 10001:10001", "ENV DB_PASSWORD=hunter2 LOG=info\nENV CONN=postgres://u:p@db/x\nUSER 10001:10001");
    const problems = failing(checkDockerfile(withSecrets, dockerignore)).join("\n");
    expect(problems).toMatch(/ARG NPM_TOKEN looks like a secret/);
    expect(problems).toMatch(/ENV DB_PASSWORD looks like a secret/);
    expect(problems).toMatch(/ENV CONN has a credential in its value/);
    expect(problems).not.toMatch(/LOG/);
  });

  it("fail on a single stage", () => {
    const single = `FROM node:20.20.2-bookworm-slim\nUSER 1000\nHEALTHCHECK CMD ["true"]\nCMD ["node", "x.js"]\n`;
    expect(failing(checkDockerfile(single, dockerignore))).toEqual([expect.stringMatching(/multi-stage build: one FROM/)]);
  });

  it("fail on floating base images", () => {
    const problems = failing(checkDockerfile(good.replace("node:20.20.2-bookworm-slim", "node:20-bookworm-slim"), dockerignore));
    // The ARG is used by both stages.
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/base image node:20-bookworm-slim is not pinned/);
  });

  it("fail without a HEALTHCHECK or a comment giving the reason", () => {
    const none = good.replace(/HEALTHCHECK .*\n/, "");
    expect(failing(checkDockerfile(none, dockerignore))).toEqual([expect.stringMatching(/HEALTHCHECK in the final stage/)]);
    expect(failing(checkDockerfile(none.replace("CMD [", "# No HEALTHCHECK: Kubernetes and compose probe the port.\nCMD ["), dockerignore))).toEqual([]);
  });

  it("fail on a shell-form CMD and on apt-get without its basics", () => {
    const bad = good.replace('CMD ["node", "main.js"]', "CMD node main.js").replace(" --no-install-recommends", "");
    const problems = failing(checkDockerfile(bad, dockerignore)).join("\n");
    expect(problems).toMatch(/CMD is in shell form/);
    expect(problems).toMatch(/apt-get install without --no-install-recommends/);
  });

  it("fail on a .dockerignore that lets .env or node_modules into the context", () => {
    expect(failing(checkDockerfile(good, "node_modules\n.git\n"))).toEqual([expect.stringMatching(/must exclude \.env/)]);
    expect(failing(checkDockerfile(good, undefined))).toEqual([expect.stringMatching(/\.dockerignore is missing/)]);
    expect(failing(checkDockerfile(good, ".env\n.git\n"))).toEqual([expect.stringMatching(/must exclude node_modules/)]);
  });
});

describe("isPinnedImage", () => {
  it.each([
    ["node:20.20.2-bookworm-slim", true],
    ["postgres:16.4-bookworm", false],
    ["registry.example.com:5000/granary:1.2.3", true],
    ["registry.example.com:5000/granary", false],
    [`node@sha256:${"a".repeat(64)}`, true],
    ["node:latest", false],
    ["node", false],
    ["node:20", false],
  ])("%s → %s", (image, pinned) => {
    expect(isPinnedImage(image)).toBe(pinned);
  });
});
