// @granary/cli: the `granary` command line, and its pure parts for reuse and tests.
export { runCli, createProgram } from "./program.js";
export { CommandContext, connectOptions, type GlobalOptions, type Output } from "./context.js";
export { CliError, UsageError } from "./cli-error.js";
export { explainError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, type Explained } from "./explain-error.js";
export { parseValue, parseTimestampMicros, ValueParseError } from "./value-parsing.js";
export { parseRef, type VersionedRef } from "./refs.js";
export { parseManifest, loadManifest, ManifestError, type ManifestFile } from "./apply/load-manifest.js";
export { checkManifest } from "./apply/manifest.js";
export type { Manifest, GroupDecl, ViewDecl } from "./apply/manifest-types.js";
export { planApply, executePlan, serverCatalogue, type Catalogue, type Plan } from "./apply/plan.js";
export { diffGroup, diffView, type DefinitionDiff, type FieldChange } from "./apply/diff.js";
