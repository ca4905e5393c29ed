/** A mistake in how the command was called (arguments, options, input files): exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A failed operation whose message is already what the user should read: exit code 1. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}
