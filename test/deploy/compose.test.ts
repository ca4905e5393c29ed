import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkCompose, interpolate, loadCompose, parseEnvFile, validateComposeSchema, type ComposeFile } from "../../scripts/validate-deploy/compose.js";
import { checkComposeConsole } from "../../scripts/validate-deploy/compose-console.js";
import { problemsOf, type Check } from "../../scripts/validate-deploy/report.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const composeText = readFileSync(join(root, "docker-compose.yml"), "utf8");
const envText = readFileSync(join(root, ".env.example"), "utf8");
const schema = join(root, "deploy/schemas/compose-spec.json");
const repo = loadCompose(composeText, envText);

function failing(checks: Check[]): string[] {
  return problemsOf(checks.filter((c) => c.problems.length > 0));
}

/** The repository's compose file (interpolated), changed by `edit`. */
function edited(edit: (services: Record<string, Record<string, unknown>>, doc: Record<string, unknown>) => void): ComposeFile {
  const doc = structuredClone(repo.doc) as Record<string, unknown>;
  edit(doc.services as Record<string, Record<string, unknown>>, doc);
  return { ...repo, doc };
}

function problemsOfRule(file: ComposeFile, name: RegExp): string[] {
  const matching = checkCompose(file).filter((c) => name.test(c.name));
  expect(matching).toHaveLength(1);
  return [...matching[0]!.problems];
}

describe("the repository's docker-compose.yml", () => {
  it("is valid against the Compose Specification schema", () => {
    expect(validateComposeSchema(repo.doc, schema)).toEqual([]);
  });

  it("passes every rule", () => {
    expect(failing(checkCompose(repo))).toEqual([]);
    expect(failing(checkComposeConsole(repo))).toEqual([]);
  });

  it("resolves the YAML anchors and interpolates from .env.example", () => {
    const services = (repo.doc as { services: Record<string, { environment: Record<string, string>; env_file: unknown }> }).services;
    expect(services.metadata!.env_file).toBe(".env");
    expect(services.metadata!.environment.DATABASE_URL).toBe("postgres://granary:change-me@postgres:5432/granary");
    expect(services.online!.environment.GRANARY_ONLINE_LMDB_PATH).toBe("/data/online");
  });

  it("serves each service's /metrics on its own port inside, published on the loopback only", () => {
    const services = (repo.doc as { services: Record<string, { environment: Record<string, string>; ports: string[] }> }).services;
    const published = ["metadata", "online", "offline", "registry"].map((name) => {
      const service = services[name]!;
      expect(service.environment).toMatchObject({ GRANARY_METRICS_PORT: "9464", GRANARY_METRICS_HOST: "0.0.0.0" });
      const metrics = service.ports.filter((p) => p.endsWith(":9464"));
      expect(metrics).toHaveLength(1);
      expect(metrics[0]).toMatch(/^127\.0\.0\.1:\d+:9464$/);
      return metrics[0];
    });
    expect(new Set(published).size).toBe(4);
  });
});

describe("the compose schema", () => {
  it("rejects a misspelt key and a wrongly typed value", () => {
    const file = edited((s) => {
      s.online!.helthcheck = s.online!.healthcheck;
      delete s.online!.healthcheck;
      s.metadata!.volumes = "metadata-data:/data";
    });
    const problems = validateComposeSchema(file.doc, schema).join("\n");
    expect(problems).toMatch(/\/services\/online must NOT have additional properties \(helthcheck\)/);
    expect(problems).toMatch(/\/services\/metadata\/volumes must be array/);
  });
});

describe("the compose rules fail on a broken copy", () => {
  it("a service without a healthcheck", () => {
    const file = edited((s) => {
      delete s.online!.healthcheck;
    });
    const problems = failing(checkCompose(file)).join("\n");
    expect(problems).toMatch(/online: no healthcheck/);
    // offline waits for online to be healthy, which can no longer happen.
    expect(problems).toMatch(/offline: waits for online to be healthy, but online has no healthcheck/);
  });

  it("a healthcheck on the wrong port, and one that does not use grpc health", () => {
    const file = edited((s) => {
      (s.registry!.healthcheck as Record<string, unknown>).test = ["CMD", "node", "deploy/healthcheck.mjs", "127.0.0.1:50051"];
      (s.offline!.healthcheck as Record<string, unknown>).test = ["CMD-SHELL", "true"];
    });
    const problems = problemsOfRule(file, /^healthchecks/).join("\n");
    expect(problems).toMatch(/registry: the healthcheck does not probe its port 50054/);
    expect(problems).toMatch(/offline: the healthcheck must call grpc.health.v1/);
  });

  it("depends_on that only waits for the start, or lacks a dependency", () => {
    const file = edited((s) => {
      s.online!.depends_on = ["metadata"];
      s.registry!.depends_on = { metadata: { condition: "service_started" } };
    });
    const problems = problemsOfRule(file, /depends_on/).join("\n");
    expect(problems).toMatch(/online: depends_on is a list/);
    expect(problems).toMatch(/registry: must depend on postgres/);
    expect(problems).toMatch(/registry: depends_on metadata has condition service_started, must be service_healthy/);
  });

  it("data on the container filesystem, on a bind mount, or read-only", () => {
    const file = edited((s) => {
      delete s.postgres!.volumes;
      s.online!.volumes = ["./online:/data/online"];
      s.offline!.volumes = ["offline-data:/data/offline:ro"];
    });
    const problems = problemsOfRule(file, /named volumes/).join("\n");
    expect(problems).toMatch(/postgres: PGDATA \/var\/lib\/postgresql\/data is not on a volume/);
    expect(problems).toMatch(/online: GRANARY_ONLINE_LMDB_PATH \/data\/online is on \.\/online, use a named volume/);
    expect(problems).toMatch(/offline: \/data\/offline is mounted read-only/);
  });

  it("a service without a memory limit, or without env_file", () => {
    const file = edited((s) => {
      delete s["otel-collector"]!.deploy;
      delete s.metadata!.env_file;
    });
    expect(problemsOfRule(file, /memory limits/)).toEqual(["otel-collector: set deploy.resources.limits.memory"]);
    expect(problemsOfRule(file, /env_file/)).toEqual(["metadata: env_file must include .env (the shared settings)"]);
  });

  it("a writable root or kept capabilities", () => {
    const file = edited((s) => {
      s.offline!.read_only = false;
      s.offline!.cap_drop = [];
    });
    const problems = problemsOfRule(file, /read-only root/).join("\n");
    expect(problems).toMatch(/offline: read_only must be true/);
    expect(problems).toMatch(/offline: cap_drop must include ALL/);
  });

  it("a password written into the file, or a port on every interface", () => {
    const text = composeText
      .replace(/(\n  registry:\n[\s\S]*?DATABASE_URL: )postgres:\/\/[^\n]+/, "$1postgres://granary:hunter2@postgres:5432/granary")
      .replace('"127.0.0.1:50052:50052"', '"50052:50052"');
    expect(text).not.toEqual(composeText);
    const problems = failing(checkCompose(loadCompose(text, envText))).join("\n");
    expect(problems).toMatch(/registry: DATABASE_URL has a literal password/);
    expect(problems).toMatch(/online: port 50052:50052 is published on every interface/);
  });

  it("a variable that .env.example does not define", () => {
    const env = envText.replace(/^POSTGRES_PASSWORD=.*$/m, "");
    const problems = failing(checkCompose(loadCompose(composeText, env))).join("\n");
    expect(problems).toMatch(/POSTGRES_PASSWORD: set POSTGRES_PASSWORD in \.env/);
    expect(problems).toMatch(/\$\{POSTGRES_PASSWORD\} has no default and is not in \.env\.example/);
  });

  it("a stop_grace_period shorter than drain + grace", () => {
    const file = edited((s) => {
      s.online!.stop_grace_period = "5s";
    });
    expect(problemsOfRule(file, /stop_grace_period/)).toEqual([expect.stringMatching(/online: stop_grace_period \(5s\) must exceed .* \(10s\)/)]);
  });
});

describe("keys and TLS in compose", () => {
  it("takes the keys from .env (scripts/dev-keys.sh), the admin key for metadata only, and serves TLS from the certs volume", () => {
    const services = (
      repo.doc as { services: Record<string, { environment: Record<string, string>; volumes: string[]; depends_on?: Record<string, unknown> }> }
    ).services;
    expect(services.metadata!.environment.GRANARY_BOOTSTRAP_ADMIN_KEY).toBe("<made by scripts/dev-keys.sh>");
    expect(services.online!.environment.GRANARY_BOOTSTRAP_ADMIN_KEY).toBe("");
    expect(services.online!.environment.GRANARY_SERVICE_KEY).toBe("<made by scripts/dev-keys.sh>");
    expect(services.offline!.environment.GRANARY_TLS_CERT).toBe("/certs/server.crt");
    expect(services.registry!.volumes).toContain("certs:/certs:ro");
    expect(services.metadata!.depends_on!.certs).toEqual({ condition: "service_completed_successfully" });
    expect(envText).toMatch(/^GRANARY_SERVICE_KEY=$/m);
    expect(envText).toMatch(/^GRANARY_BOOTSTRAP_ADMIN_KEY=$/m);
    expect(composeText).not.toMatch(/grn_[a-z0-9]+_[A-Za-z0-9_-]{16,}/);
  });

  it("fails on a key written into .env.example or the compose file, the admin key handed to every service, or TLS off", () => {
    const env = envText.replace(/^GRANARY_SERVICE_KEY=$/m, "GRANARY_SERVICE_KEY=shared-by-everyone");
    const text = composeText
      .replace(
        /(\n  online:\n[\s\S]*?GRANARY_ONLINE_LMDB_PATH: \/data\/online)/,
        "$1\n      GRANARY_BOOTSTRAP_ADMIN_KEY: grn_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      )
      .replace("  GRANARY_TLS_KEY: /certs/server.key\n", "");
    expect(text).not.toEqual(composeText);
    const problems = failing(checkCompose(loadCompose(text, env))).join("\n");
    expect(problems).toMatch(/\.env\.example sets GRANARY_SERVICE_KEY: leave it empty/);
    expect(problems).toMatch(/online: GRANARY_BOOTSTRAP_ADMIN_KEY is a literal/);
    expect(problems).toMatch(/online: GRANARY_BOOTSTRAP_ADMIN_KEY holds an API key/);
    expect(problems).toMatch(/online: set GRANARY_BOOTSTRAP_ADMIN_KEY to ""/);
    expect(problems).toMatch(/metadata: GRANARY_TLS_KEY is not set/);
  });
});

describe("the write log in compose", () => {
  type Service = {
    image: string;
    command: string[];
    volumes: string[];
    environment: Record<string, string>;
    depends_on: Record<string, unknown>;
    healthcheck: { test: string[] };
  };
  const services = (repo.doc as { services: Record<string, Service>; volumes: Record<string, unknown> }).services;

  it("runs NATS with JetStream on a named volume, healthy by its /healthz, and points online and offline at it", () => {
    const nats = services.nats!;
    expect(nats.image).toMatch(/^nats:2\.10\.\d+-alpine/);
    expect(nats.command).toEqual(expect.arrayContaining(["-js", "-sd", "/data", "-m", "8222"]));
    expect(nats.volumes).toContain("nats-data:/data");
    expect(Object.keys((repo.doc as { volumes: Record<string, unknown> }).volumes)).toContain("nats-data");
    expect(nats.healthcheck.test).toEqual(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz"]);
    for (const name of ["online", "offline"]) {
      expect(services[name]!.environment.GRANARY_NATS_URL).toBe("nats://nats:4222");
      expect(services[name]!.depends_on.nats).toEqual({ condition: "service_healthy" });
    }
    expect(services.metadata!.environment.GRANARY_NATS_URL).toBeUndefined();
  });

  it("fails without JetStream, with the store off the volume, a floating image or no monitoring port", () => {
    const file = edited((s) => {
      s.nats!.image = "nats:latest";
      s.nats!.command = ["nats-server", "-sd", "/var/lib/nats"];
    });
    const problems = problemsOfRule(file, /^nats:/).join("\n");
    expect(problems).toMatch(/nats: image nats:latest must be the official nats image pinned to a 2\.9\.x or 2\.10\.x release/);
    expect(problems).toMatch(/nats: the command must turn JetStream on \(-js\)/);
    expect(problems).toMatch(/nats: the JetStream store \/var\/lib\/nats is not on a volume/);
    expect(problems).toMatch(/nats: the command must turn the monitoring port on \(-m 8222\)/);
  });

  it("fails with the store on a bind mount, or a healthcheck that does not ask /healthz", () => {
    const file = edited((s) => {
      s.nats!.volumes = ["./nats:/data"];
      (s.nats!.healthcheck as Record<string, unknown>).test = ["CMD", "true"];
    });
    const problems = problemsOfRule(file, /^nats:/).join("\n");
    expect(problems).toMatch(/nats: the JetStream store \/data is on \.\/nats, use a named volume/);
    expect(problems).toMatch(/nats: the healthcheck must ask the monitoring port's \/healthz/);
  });

  it("fails when online or offline do not follow the log, or start before NATS is healthy", () => {
    const file = edited((s) => {
      delete (s.offline!.environment as Record<string, string>).GRANARY_NATS_URL;
      (s.online!.environment as Record<string, string>).GRANARY_NATS_URL = "nats://127.0.0.1:4222";
      delete (s.offline!.depends_on as Record<string, unknown>).nats;
      (s.online!.depends_on as Record<string, unknown>).nats = { condition: "service_started" };
    });
    const wiring = problemsOfRule(file, /follow the write log/).join("\n");
    expect(wiring).toMatch(/offline: GRANARY_NATS_URL is not set; it must be nats:\/\/nats:4222/);
    expect(wiring).toMatch(/online: GRANARY_NATS_URL is nats:\/\/127\.0\.0\.1:4222, must be nats:\/\/nats:4222/);
    const depends = problemsOfRule(file, /depends_on/).join("\n");
    expect(depends).toMatch(/offline: must depend on nats/);
    expect(depends).toMatch(/online: depends_on nats has condition service_started, must be service_healthy/);
  });

  it("fails without the nats service, or without its healthcheck", () => {
    const noHealthcheck = edited((s) => {
      delete s.nats!.healthcheck;
    });
    const problems = failing(checkCompose(noHealthcheck)).join("\n");
    expect(problems).toMatch(/nats: no healthcheck/);
    expect(problems).toMatch(/online: waits for nats to be healthy, but nats has no healthcheck/);
    const missing = edited((s) => {
      delete s.nats;
    });
    expect(failing(checkCompose(missing)).join("\n")).toMatch(/service nats is missing/);
  });
});

describe("compose interpolation", () => {
  const env = { A: "a", EMPTY: "" };
  it.each([
    ["${A}", "a"],
    ["$A-x", "a-x"],
    ["$$A", "$A"],
    ["${EMPTY:-d}", "d"],
    ["${EMPTY-d}", ""],
    ["${MISSING-d}", "d"],
    ["${MISSING:-${A}}", "a"],
    ["${A:+yes}", "yes"],
    ["${EMPTY:+yes}", ""],
  ])("%s → %s", (input, output) => {
    expect(interpolate(input, env).value).toBe(output);
  });

  it("reports required and unset variables", () => {
    expect(interpolate("${EMPTY:?must be set}", env).errors).toEqual(["EMPTY: must be set"]);
    expect(interpolate("${EMPTY?must be set}", env).errors).toEqual([]);
    expect(interpolate("x${NOPE}y", env)).toEqual({ value: "xy", unset: ["NOPE"], errors: [] });
  });

  it("parses .env files", () => {
    expect(parseEnvFile("# c\nA=1\nB = \"two words\"\n\nC='x=y'\n")).toEqual({ A: "1", B: "two words", C: "x=y" });
  });
});

describe("the HTTP ports and the console in compose", () => {
  type Service = {
    command: string[];
    image: string;
    env_file?: unknown;
    ports: string[];
    volumes: string[];
    environment: Record<string, string>;
    healthcheck: { test: string[] };
    depends_on: Record<string, unknown>;
  };
  const services = (repo.doc as { services: Record<string, Service> }).services;
  const consoleProblems = (file: ComposeFile) => failing(checkComposeConsole(file)).join("\n");

  it("publishes each service's HTTP port and runs the console against them over TLS, with no key, healthy by /healthz", () => {
    for (const [name, port] of Object.entries({ metadata: 51051, online: 51052, offline: 51053, registry: 51054 })) {
      expect(services[name]!.environment.GRANARY_HTTP_PORT).toBe(String(port));
      expect(services[name]!.ports).toContain(`127.0.0.1:${port}:${port}`);
    }
    const console = services.console!;
    expect(console.command).toEqual(["node", "dist/console.js"]);
    expect(console.image).toBe(services.metadata!.image);
    expect(console.ports).toEqual(["127.0.0.1:51050:51050"]);
    expect(console.environment).toEqual({
      GRANARY_CONSOLE_HOST: "0.0.0.0",
      GRANARY_CONSOLE_PORT: "51050",
      GRANARY_METADATA_HTTP_URL: "https://metadata:51051",
      GRANARY_ONLINE_HTTP_URL: "https://online:51052",
      GRANARY_OFFLINE_HTTP_URL: "https://offline:51053",
      GRANARY_REGISTRY_HTTP_URL: "https://registry:51054",
      NODE_EXTRA_CA_CERTS: "/certs/ca.crt",
    });
    expect(console.env_file).toBeUndefined();
    expect(console.volumes).toEqual(["certs:/certs:ro"]);
    expect(console.healthcheck.test).toEqual(["CMD", "node", "deploy/healthcheck.mjs", "http://127.0.0.1:51050/healthz"]);
    expect(console.depends_on).toEqual({ metadata: { condition: "service_healthy" } });
  });

  it("fails on a console aimed at a gRPC port, over http, or given .env; and on an HTTP port unset or unpublished", () => {
    const file = edited((s) => {
      s.console!.environment = { ...(s.console!.environment as Record<string, string>), GRANARY_ONLINE_HTTP_URL: "https://online:50052" };
      (s.console!.environment as Record<string, string>).GRANARY_OFFLINE_HTTP_URL = "http://offline:51053";
      s.console!.env_file = ".env";
      delete (s.registry!.environment as Record<string, string>).GRANARY_HTTP_PORT;
      s.metadata!.ports = (s.metadata!.ports as string[]).filter((p) => !p.endsWith(":51051"));
    });
    const problems = consoleProblems(file);
    expect(problems).toMatch(/console: GRANARY_ONLINE_HTTP_URL https:\/\/online:50052 is not online's HTTP port 51052/);
    expect(problems).toMatch(/console: GRANARY_OFFLINE_HTTP_URL http:\/\/offline:51053 must use https \(offline serves TLS\)/);
    expect(problems).toMatch(/console: no env_file: .env holds the service key/);
    expect(problems).toMatch(/registry: GRANARY_HTTP_PORT is not set/);
    expect(problems).toMatch(/metadata: its HTTP port 51051 is not published on 127.0.0.1/);
  });

  it("fails on a console without its healthcheck, its lockdown or the CA, and without the console at all", () => {
    const file = edited((s) => {
      (s.console!.healthcheck as { test: string[] }).test = ["CMD", "node", "deploy/healthcheck.mjs", "127.0.0.1:51050"];
      s.console!.read_only = false;
      delete (s.console!.environment as Record<string, string>).NODE_EXTRA_CA_CERTS;
      (s.console!.environment as Record<string, string>).GRANARY_SERVICE_KEY = "${GRANARY_SERVICE_KEY}";
    });
    const problems = consoleProblems(file);
    expect(problems).toMatch(/console: the healthcheck must ask http:\/\/127.0.0.1:51050\/healthz/);
    expect(problems).toMatch(/console: read_only must be true/);
    expect(problems).toMatch(/console: NODE_EXTRA_CA_CERTS is not set/);
    expect(problems).toMatch(/console: GRANARY_SERVICE_KEY is set, but the console holds no key/);
    expect(consoleProblems(edited((s) => delete s.console))).toMatch(/service console is missing/);
  });
});
