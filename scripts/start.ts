// `npm start`: the whole suite in one process with embedded defaults, for one machine.
// One PostgreSQL for metadata and registry: DATABASE_URL when set, else an embedded server under
// <GRANARY_DATA_DIR>/postgres. Each service keeps its own port, as it would in its own process.
import { ConfigError, type Env } from "@granary/config";
import { loadMetadataConfig, startMetadataService } from "@granary/metadata";
import { loadOfflineConfig, startOfflineService } from "@granary/offline";
import { loadOnlineConfig, startOnlineService } from "@granary/online";
import { resolveDatabase } from "@granary/postgres";
import { loadRegistryConfig, startRegistryService } from "@granary/registry";
import { runMain, type RunningService } from "@granary/server";

function loadSuiteConfig(env: Env) {
  const problems = new Set<string>();
  const load = <T>(loader: (env: Env) => T): T | undefined => {
    try {
      return loader(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      err.problems.forEach((p) => problems.add(p));
      return undefined;
    }
  };
  const metadata = load(loadMetadataConfig);
  const online = load(loadOnlineConfig);
  const offline = load(loadOfflineConfig);
  const registry = load(loadRegistryConfig);
  if (!metadata || !online || !offline || !registry) throw new ConfigError([...problems]);
  return { common: { ...metadata.common, telemetry: { ...metadata.common.telemetry, serviceName: "granary" } }, metadata, online, offline, registry };
}

await runMain({
  name: "granary",
  env: process.env,
  loadConfig: loadSuiteConfig,
  async start(config, logger) {
    const started = performance.now();
    const database = await resolveDatabase({ databaseUrl: config.metadata.database.url, dataDir: config.common.dataDir, logger });
    const services: RunningService[] = [{ name: "postgres", address: database.embedded ? "embedded" : "external", stop: () => database.stop() }];
    try {
      services.push(await startMetadataService(config.metadata, logger, { databaseUrl: database.url }));
      services.push(
        ...(await Promise.all([
          startOnlineService(config.online, logger),
          startOfflineService(config.offline, logger),
          startRegistryService(config.registry, logger, { databaseUrl: database.url }),
        ])),
      );
    } catch (err) {
      for (const s of services.reverse()) await s.stop().catch(() => {});
      throw err;
    }
    // Online and offline are SERVING once they have read the catalogue from metadata.
    const readiness = Promise.all(services.map((s) => s.ready?.()));
    const timeout = new Promise((resolve) => setTimeout(resolve, 15_000).unref());
    await Promise.race([readiness, timeout]);
    const width = Math.max(...services.map((s) => s.name.length));
    const lines = services.filter((s) => s.name !== "postgres").map((s) => `  ${s.name.padEnd(width)}  ${s.address}`);
    process.stdout.write(
      `\nGranary is running (${Math.round(performance.now() - started)} ms), data in ${config.common.dataDir}, ` +
        `PostgreSQL ${database.embedded ? "embedded" : "from DATABASE_URL"}:\n${lines.join("\n")}\nCtrl-C stops it.\n\n`,
    );
    return services;
  },
});
