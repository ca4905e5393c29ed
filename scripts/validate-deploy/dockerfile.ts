// The Dockerfile's basics, from its syntax tree (dockerfile-ast): multi-stage, a non-root user in
// the final stage, no secrets in ENV or ARG, a HEALTHCHECK or a stated reason, pinned base images;
// and a .dockerignore that keeps secrets and local installs out of the build context.
import dockerfileAst from "dockerfile-ast";
import { check, type Check } from "./report.js";

const { DockerfileParser } = dockerfileAst;

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|DATABASE_URL)/i;
const SECRET_VALUE = /(:\/\/[^/\s:@]+:[^@\s]+@)|(-----BEGIN [A-Z ]*PRIVATE KEY-----)/;

/** Replaces ${NAME} and $NAME by the defaults of the ARGs before the first FROM. */
function substitute(text: string, args: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced, fallback, bare) => {
    const name = (braced ?? bare) as string;
    return args.get(name) ?? (fallback as string | undefined) ?? "";
  });
}

/** True when an image reference names an exact version: a digest, or a tag with major.minor.patch. */
export function isPinnedImage(reference: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(reference)) return true;
  const slash = reference.lastIndexOf("/");
  const colon = reference.lastIndexOf(":");
  if (colon <= slash) return false;
  const tag = reference.slice(colon + 1);
  return tag !== "latest" && /(^|[^0-9])\d+\.\d+\.\d+/.test(tag);
}

export function checkDockerfile(text: string, dockerignore: string | undefined): Check[] {
  const section = "dockerfile";
  const df = DockerfileParser.parse(text);
  const checks: Check[] = [];

  const initialArgs = new Map<string, string>();
  for (const arg of df.getInitialARGs()) {
    const p = arg.getProperty();
    if (p && p.getValue() !== null) initialArgs.set(p.getName(), p.getValue()!);
  }

  const froms = df.getFROMs();
  const stageNames = new Set(froms.map((f) => f.getBuildStage()).filter((s): s is string => s !== null));
  checks.push(
    check(
      section,
      "multi-stage build",
      froms.length >= 2 ? [] : [`one FROM (${froms.length}): build in a stage of its own, copy only what runs into the final stage`],
    ),
  );

  // Base images: the external ones (not an earlier stage, not scratch) must be pinned.
  const baseProblems: string[] = [];
  for (const from of froms) {
    const image = substitute(from.getImage() ?? "", initialArgs);
    if (stageNames.has(image) || image === "scratch") continue;
    if (image === "") baseProblems.push(`line ${from.getRange().start.line + 1}: FROM without an image`);
    else if (!isPinnedImage(image))
      baseProblems.push(
        `line ${from.getRange().start.line + 1}: base image ${image} is not pinned (use a full version tag such as node:20.20.2-bookworm-slim, or a digest)`,
      );
  }
  checks.push(check(section, "base images pinned to a version", baseProblems));

  // The final stage: a USER that is not root, set after the last instruction that needs root.
  const finalFrom = froms[froms.length - 1];
  const finalLine = finalFrom ? finalFrom.getRange().start.line : 0;
  const finalInstructions = df.getInstructions().filter((i) => i.getRange().start.line >= finalLine);
  const users = finalInstructions.filter((i) => i.getKeyword() === "USER");
  const lastUser = users[users.length - 1];
  const userProblems: string[] = [];
  if (!lastUser) {
    userProblems.push("the final stage has no USER: it would run as root");
  } else {
    const user = substitute(lastUser.getArgumentsContent() ?? "", initialArgs).trim();
    const name = user.split(":")[0]!;
    if (name === "" || name === "root" || name === "0") userProblems.push(`the final stage's USER is ${user || "(empty)"}, which is root`);
  }
  checks.push(check(section, "final stage runs as a non-root USER", userProblems));

  // No secrets in ENV or ARG (they stay in the image's history and config).
  const secretProblems: string[] = [];
  for (const instruction of [...df.getENVs(), ...df.getARGs()]) {
    const properties = "getProperties" in instruction ? instruction.getProperties() : [];
    for (const p of properties) {
      const value = p.getValue() ?? "";
      const where = `line ${instruction.getRange().start.line + 1}: ${instruction.getKeyword()} ${p.getName()}`;
      if (SECRET_NAME.test(p.getName()))
        secretProblems.push(`${where} looks like a secret; pass it at run time (environment, Secret), or use RUN --mount=type=secret at build time`);
      else if (SECRET_VALUE.test(value)) secretProblems.push(`${where} has a credential in its value`);
    }
  }
  checks.push(check(section, "no secrets in ENV or ARG", secretProblems));

  // HEALTHCHECK, or a comment that says why there is none.
  const healthchecks = finalInstructions.filter((i) => i.getKeyword() === "HEALTHCHECK");
  const reasoned = df.getComments().some((c) => /\bno HEALTHCHECK\b/i.test(c.getContent()));
  checks.push(
    check(
      section,
      "HEALTHCHECK in the final stage, or a comment giving the reason",
      healthchecks.length > 0 || reasoned
        ? []
        : ['add a HEALTHCHECK, or a comment starting "No HEALTHCHECK" that says why (for example: the orchestrator probes)'],
    ),
  );

  // apt-get basics.
  const aptProblems: string[] = [];
  for (const run of df.getInstructions().filter((i) => i.getKeyword() === "RUN")) {
    const body = run.getArgumentsContent() ?? "";
    if (/apt-get\s+(-\S+\s+)*install/.test(body)) {
      const where = `line ${run.getRange().start.line + 1}`;
      if (!/--no-install-recommends/.test(body)) aptProblems.push(`${where}: apt-get install without --no-install-recommends`);
      if (!/\s-y\b|--yes|--assume-yes/.test(body)) aptProblems.push(`${where}: apt-get install without -y`);
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(body)) aptProblems.push(`${where}: remove /var/lib/apt/lists in the same RUN`);
    }
  }
  checks.push(check(section, "apt-get install -y --no-install-recommends, lists removed", aptProblems));

  // The final command in exec form (so the service gets SIGTERM itself, not a shell).
  const cmds = finalInstructions.filter((i) => i.getKeyword() === "CMD" || i.getKeyword() === "ENTRYPOINT");
  const lastCmd = cmds[cmds.length - 1];
  checks.push(
    check(
      section,
      "CMD in exec form (the service receives SIGTERM)",
      !lastCmd
        ? ["the final stage has no CMD or ENTRYPOINT"]
        : /^\s*\[/.test(lastCmd.getArgumentsContent() ?? "")
          ? []
          : [`${lastCmd.getKeyword()} is in shell form: use ["node", ...]`],
    ),
  );

  // .dockerignore: secrets and host installs stay out of the context.
  const ignoreProblems: string[] = [];
  if (dockerignore === undefined) {
    ignoreProblems.push(".dockerignore is missing");
  } else {
    const patterns = dockerignore
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    const has = (...alternatives: string[]) => alternatives.some((a) => patterns.includes(a));
    if (!has(".env", "**/.env")) ignoreProblems.push(".dockerignore must exclude .env (local secrets)");
    if (!has("node_modules", "**/node_modules")) ignoreProblems.push(".dockerignore must exclude node_modules (installed for this machine, not the image)");
    if (!has(".git", "**/.git")) ignoreProblems.push(".dockerignore must exclude .git");
    if (patterns.includes("!.env")) ignoreProblems.push(".dockerignore re-includes .env");
  }
  checks.push(check(section, ".dockerignore keeps .env, .git and node_modules out of the build context", ignoreProblems));

  return checks;
}

/**
 * The console's browser bundle is built in the image (npm run build:console, in a stage that has the
 * dev dependencies) and its apps/console/dist copied into the final stage, which prunes Vite away.
 */
export function checkConsoleBuild(text: string): Check[] {
  return [
    check(
      "dockerfile",
      "the console's files built (npm run build:console) in a stage of their own and copied into the final stage",
      stageBuildProblems(text, "build:console", /apps\/console\/dist/, "apps/console/dist", "the image would serve the console without its files"),
    ),
  ];
}

/**
 * The services compiled in a stage before the final one (`npm run build`: dist/), the bundles
 * copied into the final stage, and the final CMD running a bundle: nothing compiles at run time.
 */
export function checkCompiledBuild(text: string): Check[] {
  const problems = stageBuildProblems(text, "build", /\/app\/dist\/?\s/, "dist/", "the image would have no compiled services");
  const cmd = DockerfileParser.parse(text)
    .getInstructions()
    .filter((i) => i.getKeyword() === "CMD")
    .at(-1);
  const args = cmd?.getArgumentsContent() ?? "";
  if (!/"dist\/[a-z-]+\.js"/.test(args)) problems.push(`the CMD must run a compiled bundle (node dist/<service>.js), is ${args || "missing"}`);
  if (/\btsx\b/.test(args)) problems.push("the CMD must not compile with tsx at run time");
  return [
    check("dockerfile", "the services compiled (npm run build) in a stage of their own, only dist/ copied into the final stage, run by the CMD", problems),
  ];
}

/** Problems unless a stage before the final one runs `npm run <script>` and the final stage copies `copied` from it. */
function stageBuildProblems(text: string, script: string, copied: RegExp, what: string, consequence: string): string[] {
  const df = DockerfileParser.parse(text);
  const lines = text.split("\n");
  const froms = df.getFROMs();
  const finalLine = froms[froms.length - 1]?.getRange().start.line ?? 0;
  const stageAt = (line: number) => [...froms].reverse().find((f) => f.getRange().start.line <= line);
  const runs = new RegExp(`\\bnpm run ${script.replace(":", "\\:")}(?![:\\w-])`);
  const builds = df
    .getInstructions()
    .filter((i) => i.getKeyword() === "RUN" && runs.test(i.getArgumentsContent() ?? ""))
    .map((i) => stageAt(i.getRange().start.line));
  const problems: string[] = [];
  const buildStage = builds.find((f) => f && f.getRange().start.line < finalLine)?.getBuildStage();
  if (!buildStage) problems.push(`no stage before the final one runs npm run ${script}: ${consequence}`);
  const isCopied = df
    .getInstructions()
    .filter((i) => i.getRange().start.line >= finalLine && i.getKeyword() === "COPY")
    .some((i) => {
      // The whole instruction: getArgumentsContent() leaves out flags such as --from.
      const line = `${lines.slice(i.getRange().start.line, i.getRange().end.line + 1).join(" ")} `;
      return buildStage !== null && buildStage !== undefined && line.includes(`--from=${buildStage}`) && copied.test(line);
    });
  if (buildStage && !isCopied) problems.push(`the final stage does not COPY --from=${buildStage} ${what}`);
  return problems;
}
