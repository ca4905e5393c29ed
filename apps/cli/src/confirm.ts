import { createInterface } from "node:readline";
import { CliError, UsageError } from "./cli-error.js";

export interface ConfirmInput {
  readonly input: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly prompt: (text: string) => void;
}

const processInput = (): ConfirmInput => ({ input: process.stdin, prompt: (text) => void process.stderr.write(text) });

/**
 * Asks the user to type `expected` before something irreversible; `what` says what would happen.
 * Without a terminal to ask on, it refuses unless --yes was given.
 */
export async function confirmByName(what: string, expected: string, options: { yes?: boolean; signal?: AbortSignal; io?: ConfirmInput } = {}): Promise<void> {
  if (options.yes) return;
  const io = options.io ?? processInput();
  if (io.input.isTTY !== true) throw new UsageError(`refusing to ${what} without confirmation: stdin is not a terminal; add --yes to confirm`);
  io.prompt(`This will ${what}; it cannot be undone.\nType ${expected} to confirm: `);
  const rl = createInterface({ input: io.input, terminal: false });
  try {
    const answer = await new Promise<string | undefined>((resolve) => {
      rl.once("line", resolve);
      rl.once("close", () => resolve(undefined));
      options.signal?.addEventListener("abort", () => resolve(undefined), { once: true });
    });
    if (answer?.trim() !== expected)
      throw new CliError(answer === undefined ? "not confirmed: nothing was deleted" : `"${answer.trim()}" is not ${expected}: nothing was deleted`);
  } finally {
    rl.close();
  }
}
