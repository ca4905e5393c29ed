import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CommandContext, processOutput, type Output } from "./context.js";
import { EXIT_USAGE, explainError } from "./explain-error.js";
import { loadRuntime } from "./runtime.js";

/** Runs `granary` with `argv` (as process.argv: node, script, args…) and returns the exit code. */
export async function runCli(argv: readonly string[], options: { output?: (progress: boolean) => Output; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const env = options.env ?? process.env;
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", interrupt);
  let ctx: CommandContext | undefined;
  const makeOutput = options.output ?? processOutput;
  const errOutput = makeOutput(false);
  if (argv[2] === "--version" && argv.length === 3) {
    makeOutput(false).out(cliVersion());
    return 0;
  }
  const program = createProgram({
    errOutput,
    context: (command) => {
      const progress = command.optsWithGlobals<{ progress: boolean }>().progress;
      ctx = CommandContext.of(command, makeOutput(progress), controller.signal);
      return ctx;
    },
  });
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Commander has printed its own message (usage errors) or the help.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    if (env["GRANARY_DEBUG"] === "1") errOutput.err(err instanceof Error ? (err.stack ?? err.message) : String(err));
    const explained = await explainError(err, {
      granary: ctx?.openedGranary,
      timeoutMs: ctx?.options.timeout,
      interrupted: controller.signal.aborted,
      apiKeyHint: ctx?.apiKeyHint(),
    });
    for (const line of explained.message.split("\n")) errOutput.err(`granary: ${line}`);
    return explained.exitCode;
  } finally {
    process.off("SIGINT", interrupt);
  }
}

interface ProgramHooks {
  readonly errOutput: Output;
  /** The context of the command being run, built from its options. */
  context(command: Command): CommandContext;
}

const positiveInt = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return Number(value);
};

const boundedInt = (name: string, max: number) => (value: string) => {
  const n = positiveInt(name)(value);
  if (n > max) throw new InvalidArgumentError(`${name} must be at most ${max}`);
  return n;
};

const nonNegativeInt = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(value);
};

const nonNegativeNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number`);
  return n;
};

const collect = (value: string, previous: string[]) => [...previous, value];

/** apps/cli/package.json's version: beside src/ and dist/ alike, so the source and the bundle both find it. */
function cliVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** The commander program of `granary`: global options, then one subcommand per task. */
export function createProgram(hooks: ProgramHooks): Command {
  const program = new Command("granary");
  program
    .description("Granary feature store: declare feature groups and views, load data, fetch training data and feature vectors, manage models.")
    .exitOverride()
    .configureOutput({ writeErr: (text) => hooks.errOutput.err(text.replace(/\n$/, "")) })
    .configureHelp({ showGlobalOptions: true })
    // Only -V is the program's option: commander finds a program option after a subcommand too, so a
    // program-wide --version would swallow the --version <n> of drift and models download. runCli
    // answers --version itself when it comes first.
    .version(cliVersion(), "-V", "the version of this granary command (also --version, given first)")
    .option("--address <host>", "host of the suite, each service on its default port (env: GRANARY_HOST)")
    .option("--metadata <host:port>", "metadata service address, https://host:port for TLS (env: GRANARY_METADATA_ADDRESS)")
    .option("--online <host:port>", "online service address (env: GRANARY_ONLINE_ADDRESS)")
    .option("--offline <host:port>", "offline service address (env: GRANARY_OFFLINE_ADDRESS)")
    .option("--registry <host:port>", "registry service address (env: GRANARY_REGISTRY_ADDRESS)")
    .addOption(new Option("--project <name>", "project to work in").env("GRANARY_PROJECT").default("default"))
    .addOption(
      new Option(
        "--api-key <key>",
        "API key sent as a bearer token (default: GRANARY_API_KEY, the file GRANARY_API_KEY_FILE names, or .granary/admin.key under GRANARY_DATA_DIR)",
      ).env("GRANARY_API_KEY"),
    )
    .option("--ca-file <file>", "CA certificate (PEM) to trust; given, every address is dialled over TLS (env: GRANARY_TLS_CA)")
    .option("--cert-file <file>", "client certificate (PEM) for servers that require one (env: GRANARY_TLS_CERT)")
    .option("--key-file <file>", "its private key (PEM) (env: GRANARY_TLS_KEY)")
    .option("--timeout <ms>", "deadline of each call in milliseconds (default 30000)", positiveInt("--timeout"))
    .option("--json", "machine-readable output on stdout")
    .option("--no-progress", "no progress bars (they are drawn only when stderr is a terminal)")
    .addHelpText(
      "after",
      "\nSettings come from flags, then the environment, then a config file (the first of GRANARY_CONFIG, ./granary.yaml,\n~/.config/granary/config.yaml; settings: address, metadata, online, offline, registry, project, api_key, api_key_file, ca_file, cert_file, key_file, timeout), then defaults.\nNew here? docs/quickstart.md, or granary init.",
    );

  const act =
    <A extends unknown[]>(load: () => Promise<(ctx: CommandContext, ...args: A) => Promise<void>>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const [fn] = await Promise.all([load(), loadRuntime()]);
      const ctx = hooks.context(command);
      // Commander passes the arguments, the command's options, then the command.
      await fn(ctx, ...(args.slice(0, -1) as A));
    };

  program
    .command("apply")
    .description("create or update the feature groups and views declared in a YAML file (see apps/cli/README.md)")
    .argument("<file>", "YAML file of feature_groups and feature_views")
    .option("--dry-run", "show what would change, change nothing")
    .action(act(async () => (await import("./commands/apply.js")).applyCommand));

  program
    .command("ingest")
    .description("insert a CSV or Parquet file into a feature group as one commit")
    .argument("<group>", "feature group: name or name:version (default: the latest)")
    .argument("<file>", "a .csv file with a header row, or a .parquet file")
    .addOption(new Option("--format <format>", "file format when the extension does not tell").choices(["csv", "parquet"]))
    .option("--batch-size <rows>", "rows per record batch sent", positiveInt("--batch-size"), 50_000)
    .option("--delimiter <char>", "CSV field delimiter (default , or a tab for .tsv)")
    .action(act(async () => (await import("./commands/ingest.js")).ingestCommand));

  program
    .command("training-data")
    .description("point-in-time correct training data of a feature view: written to a Parquet or CSV file, or saved as a training dataset version")
    .argument("<view>", "feature view: name or name:version (default: the latest)")
    .option("--out <file>", "output file: .parquet or .csv")
    .option("--save", "store the rows as a new training dataset version of the view (what its transformations are fitted on) and print its version")
    .option("--spine <file>", "CSV or Parquet file of entities (serving keys) and event times: one point-in-time row per line")
    .addOption(new Option("--format <format>", "output format when the extension does not tell").choices(["parquet", "csv"]))
    .option("--start <time>", "label rows with event time at or after this (ISO-8601)")
    .option("--end <time>", "… and before this (ISO-8601)")
    .option("--untransformed", "without model-dependent transformations")
    .option("--event-times", "include the event-time columns")
    .option("--training-helpers", "include the training helper columns")
    .action(act(async () => (await import("./commands/training-data.js")).trainingDataCommand));

  program
    .command("get-vector")
    .description("read one feature vector from the online store")
    .argument("<view>", "feature view: name or name:version (default: the latest)")
    .argument("[keys...]", "serving keys as key=value")
    .option("--passed <feature=value>", "a feature value the caller already has (repeatable)", collect, [])
    .option("--param <name=value>", "a request parameter of an on-demand feature (repeatable)", collect, [])
    .option("--untransformed", "without model-dependent transformations")
    .option("--training-dataset <version>", "training dataset whose statistics parameterise the transformations", positiveInt("--training-dataset"))
    .option("--helpers", "include inference helper columns")
    .action(act(async () => (await import("./commands/get-vector.js")).getVectorCommand));

  program
    .command("list")
    .description("what the project holds, as tables: feature groups, views, training datasets, models (all of them when no kind is given)")
    .argument("[kind]", "groups, views, datasets or models")
    .action(act(async () => (await import("./commands/list.js")).listCommand));

  program
    .command("describe")
    .description("a feature group, view or model: schema, keys, event time, online/offline, versions, and statistics with histograms")
    .argument("<kind|name>", "group, view or model, followed by the name; or only the name (the kind is found)")
    .argument("[name]", "name or name:version (default: the latest)")
    .action(act(async () => (await import("./commands/describe.js")).describeCommand));

  program
    .command("lineage")
    .description("what a feature group, view or model was made from and what was made from it (groups → views → training datasets → models)")
    .argument("<kind|name>", "group, view or model, followed by the name; or only the name")
    .argument("[name]", "name or name:version (default: the latest)")
    .addOption(new Option("--format <format>", "text, or a Mermaid flowchart").choices(["text", "mermaid"]).default("text"))
    .action(act(async () => (await import("./commands/lineage.js")).lineageCommand));

  program
    .command("validation")
    .description("the latest validation reports of a feature group: each insert's rules, what failed, examples")
    .argument("<group>", "feature group: name or name:version (default: the latest)")
    .option("--limit <n>", "at most this many reports, newest first (default 5, at most 1000)", boundedInt("--limit", 1000))
    .action(act(async () => (await import("./commands/validation.js")).validationCommand));

  program
    .command("delete")
    .description("delete a feature group or view version, a model version or a whole model, after typing its name to confirm")
    .argument("<kind|name>", "group, view or model, followed by the name; or only the name")
    .argument("[name]", "name:version (a bare name: the only version of a group or view, or the whole model)")
    .option("-y, --yes", "do not ask (needed when stdin is not a terminal)")
    .action(act(async () => (await import("./commands/delete.js")).deleteCommand));

  program
    .command("init")
    .description("write a starter manifest (features.yaml) and CSV data that apply and ingest accept; never overwrites a file")
    .argument("[dir]", "directory to write into (default: the current one)")
    .action(act(async () => (await import("./commands/init.js")).initCommand));

  program
    .command("check-skew")
    .description("compare a view's online vectors with its offline point-in-time rows (training/serving skew); exit 1 when any value differs")
    .argument("<view>", "feature view: name or name:version (default: the latest)")
    .option("--sample <n>", "entities drawn at random from the view's root group (default 100)", positiveInt("--sample"))
    .option("--seed <n>", "seed of the sample (same seed, same entities)", nonNegativeInt("--seed"))
    .option("--entity <key=value,…>", "an explicit entity by its serving keys (repeatable; instead of --sample)", collect, [])
    .option("--param <name=value>", "a request parameter of on-demand features, the same for every entity (repeatable)", collect, [])
    .option("--as-of <time>", "ISO-8601 instant offline rows are read as of (default: now; online always serves now)")
    .option("--tolerance <relative>", "relative float tolerance (default 1e-9)", nonNegativeNumber("--tolerance"))
    .option("--abs-tolerance <absolute>", "absolute float tolerance (default 0)", nonNegativeNumber("--abs-tolerance"))
    .option("--model <model>", "compare after this model's transformations: name:version or name@alias (a bare name: name@production)")
    .option("--examples <n>", "mismatch examples shown per feature (default 5)", positiveInt("--examples"))
    .action(act(async () => (await import("./commands/check-skew.js")).checkSkewCommand));

  program
    .command("drift")
    .description(
      "drift of a view's logged feature vectors against a training dataset or an earlier window: a table per feature (PSI, KS, null share); exits 3 on DRIFT",
    )
    .argument("<view>", "feature view: name or name:version (default: the latest)")
    .option("--version <n>", "view version (instead of name:version)", positiveInt("--version"))
    .option("--since <duration>", "window: the last 90m, 12h, 1d, 2w… up to now (default 1d)")
    .option("--start <time>", "window start (ISO-8601; instead of --since)")
    .option("--end <time>", "window end (ISO-8601; default now)")
    .option("--reference <td:n>", "compare with training dataset version n of the view (td:latest, the default)")
    .option("--reference-window <start..end>", "compare with the logs of an earlier window instead (ISO-8601 times)")
    .option("--column <name>", "only this output column (repeatable; default: every logged feature)", collect, [])
    .option("--list", "list the stored drift reports instead of computing one")
    .option("--limit <n>", "with --list: at most this many, newest first (default 20, at most 1000)", boundedInt("--limit", 1000))
    .action(act(async () => (await import("./commands/drift.js")).driftCommand));

  program
    .command("neighbors")
    .description("the k entities whose indexed embedding is nearest a query vector (from the online store), with distances")
    .argument("<group|view>", "feature group or view: name or name:version (a name is looked up as a view first, then as a group)")
    .requiredOption("--column <name>", "the indexed embedding column")
    .option("--vector <json>", "the query embedding as a JSON array of numbers")
    .option("--like <key=value>", "the query is this entity's own embedding: its key (repeatable for composite keys)", collect, [])
    .option("-k, --k <n>", "how many neighbours (default 10, at most 1000)", boundedInt("-k", 1000), 10)
    .option("--where <column=value>", "only rows whose column equals the value (repeatable)", collect, [])
    .option("--vectors", "also print the neighbours' feature vectors")
    .option("--exact", "exact search over every row (no index)")
    .addOption(new Option("--kind <kind>", "what the name is, when a group and a view share it").choices(["group", "view"]))
    .action(act(async () => (await import("./commands/neighbors.js")).neighborsCommand));

  const models = program.command("models").description("the model registry: list, register, download, alias");
  models
    .command("list")
    .description("the ready versions of a model (or the models of the project)")
    .argument("[model]", "model name")
    .action(act(async () => (await import("./commands/models.js")).listModelsCommand));
  models
    .command("register")
    .description("register a new model version with every file under a directory as its artifacts")
    .argument("<model>", "model name (created when new)")
    .argument("<dir>", "directory (or single file) of artifacts")
    .option("--feature-view <view>", "feature view the model was trained on: name:version (lineage; lets serving resolve it)")
    .option("--training-dataset <version>", "training dataset version it was trained on", positiveInt("--training-dataset"))
    .option("--metric <name=value>", "an evaluation metric (repeatable)", collect, [])
    .option("--param <name=value>", "a training parameter (repeatable)", collect, [])
    .option("--description <text>", "what this version is")
    .option("--framework <name>", "framework that produced it")
    .option("--tag <tag>", "a tag (repeatable)", collect, [])
    .option("--alias <alias>", "point this alias at the new version")
    .action(act(async () => (await import("./commands/models.js")).registerModelCommand));
  models
    .command("download")
    .description("download a model version's artifacts (the latest ready version by default)")
    .argument("<model>", "model name")
    .option("--version <n>", "version number", positiveInt("--version"))
    .option("--alias <alias>", "version an alias points at")
    .requiredOption("--out <dir>", "directory to write the files to (created when missing)")
    .action(act(async () => (await import("./commands/models.js")).downloadModelCommand));
  models
    .command("alias")
    .description("point an alias (production, staging…) at a version")
    .argument("<model>", "model name")
    .argument("<alias>", "alias name")
    .argument("<version>", "version number", positiveInt("version"))
    .action(act(async () => (await import("./commands/models.js")).aliasModelCommand));

  const keys = program.command("keys").description("API keys: create (the secret is shown once), list, revoke");
  keys
    .command("create")
    .description("create an API key for a user and print its secret (shown this once)")
    .requiredOption("--user <name>", "the user the key acts for")
    .option("--admin", "a cluster administrator: creates projects and keys, sees every project")
    .option("--scope <project:role>", "a role in a project: viewer, data_scientist or data_owner (repeatable)", collect, [])
    .option("--expires <time>", "when the key stops working (ISO-8601; default: never)")
    .option("--description <text>", "what the key is for")
    .action(act(async () => (await import("./commands/keys.js")).createKeyCommand));
  keys
    .command("list")
    .description("the API keys you may see (never their secrets)")
    .option("--user <name>", "only this user's keys")
    .option("--include-revoked", "revoked keys too")
    .action(act(async () => (await import("./commands/keys.js")).listKeysCommand));
  keys
    .command("revoke")
    .description("revoke an API key: every service refuses it within a second")
    .argument("<id>", "the key's id (grn_<id>_…; see granary keys list)")
    .action(act(async () => (await import("./commands/keys.js")).revokeKeyCommand));

  program
    .command("share")
    .description("let another project read a feature group (read-only; its views may join it)")
    .argument("<project>", "the project that owns the group")
    .argument("<group>", "feature group name (every version)")
    .requiredOption("--with <project>", "the project that may read it")
    .action(act(async () => (await import("./commands/share.js")).shareCommand));
  program
    .command("unshare")
    .description("take back another project's read access to a feature group")
    .argument("<project>", "the project that owns the group")
    .argument("<group>", "feature group name")
    .requiredOption("--with <project>", "the project that may no longer read it")
    .action(act(async () => (await import("./commands/share.js")).unshareCommand));

  program
    .command("compact")
    .description("compact a feature group's offline files now: small files merged, rows past its retention removed (reads unchanged)")
    .argument("<group>", "feature group: name or name:version (default: the latest)")
    .action(act(async () => (await import("./commands/compact.js")).compactCommand));

  program
    .command("dead-letters")
    .description("write-log messages of a project that a consumer refused, with why (needs the online service on NATS)")
    .argument("<project>", "the project whose dead letters to list")
    .option("--limit <n>", "at most this many, the latest (default 100, at most 1000)", boundedInt("--limit", 1000))
    .action(act(async () => (await import("./commands/dead-letters.js")).deadLettersCommand));

  program
    .command("status")
    .description("health of the four services and the online replica's write-log position; exits 1 unless all are SERVING")
    .action(act(async () => (await import("./commands/status.js")).statusCommand));

  oneLineErrors(program);
  return program;
}

/** Commander's usage errors as one line that says where the usage is: "granary: missing required argument 'file' (see granary apply --help)". */
function oneLineErrors(command: Command, path: string[] = []): void {
  const name = [...path, command.name()].join(" ");
  command.configureOutput({
    ...command.configureOutput(),
    outputError: (text, write) =>
      write(
        `granary: ${text
          .replace(/^error: /, "")
          .replace(/\s*\n\s*/g, " ")
          .trim()} (see ${name} --help)\n`,
      ),
  });
  for (const sub of command.commands) oneLineErrors(sub, [...path, command.name()]);
}
