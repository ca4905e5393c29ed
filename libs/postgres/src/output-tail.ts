import type { PostgresLogger } from "./postgres-logger.js";

/**
 * Collects what initdb and postgres print. Every line goes to `logger.debug` (PostgreSQL is chatty,
 * so it is invisible at the usual info level) and the last lines are kept, because when the server
 * fails to start they are the only explanation there is.
 */
export interface OutputTail {
  push(message: unknown): void;
  text(): string;
  clear(): void;
}

export function createOutputTail(logger: PostgresLogger | undefined, size = 30): OutputTail {
  let lines: string[] = [];
  return {
    push(message) {
      const text = message instanceof Error ? message.message : String(message);
      for (const line of text.split("\n")) {
        const trimmed = line.trimEnd();
        if (trimmed === "") continue;
        logger?.debug?.({ component: "postgres" }, trimmed);
        lines.push(trimmed);
      }
      if (lines.length > size) lines = lines.slice(-size);
    },
    text: () => lines.join("\n"),
    clear() {
      lines = [];
    },
  };
}
