// `npm start`: the whole suite in one process with embedded defaults, for one machine.
import { runMain } from "@granary/server";
import { loadSuiteConfig, startSuite } from "@granary/suite";

await runMain({
  name: "granary",
  env: process.env,
  loadConfig: loadSuiteConfig,
  async start(config, logger) {
    const started = performance.now();
    const suite = await startSuite(config, logger);
    const services = suite.services;
    const width = Math.max(...services.map((s) => s.name.length));
    const lines = services
      .filter((s) => s.name !== "postgres" && s.name !== "console")
      .map((s) => `  ${s.name.padEnd(width)}  ${s.address}${s.httpAddress ? `   http://${s.httpAddress} (Connect, gRPC-Web, JSON)` : ""}`);
    const access = !config.common.auth.enabled
      ? "Authentication is OFF (GRANARY_AUTH=off): anyone on this machine acts as an admin."
      : suite.adminKeyFile
        ? `Admin API key: ${suite.adminKeyFile} (mode 0600; the CLI, SDK and demos read it, or set GRANARY_API_KEY).`
        : "Admin API key: the one in GRANARY_BOOTSTRAP_ADMIN_KEY.";
    process.stdout.write(
      `\nGranary is running (${Math.round(performance.now() - started)} ms), data in ${config.common.dataDir}, ` +
        `PostgreSQL ${suite.embeddedPostgres ? "embedded" : "from DATABASE_URL"}:\n${lines.join("\n")}\n` +
        (suite.console ? `Web console: ${suite.console.url}\n` : "") +
        `${access}\nCtrl-C stops it.\n\n`,
    );
    return services;
  },
});
