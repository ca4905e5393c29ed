import type { CommandContext } from "../context.js";
import { UsageError } from "../cli-error.js";

export interface NeighborsOptions {
  readonly column: string;
  readonly vector?: string;
  readonly like: string[];
  readonly k: number;
  readonly where: string[];
  readonly vectors?: boolean;
  readonly exact?: boolean;
  readonly kind?: "group" | "view";
}

export async function neighborsCommand(_ctx: CommandContext, _target: string, _options: NeighborsOptions): Promise<void> {
  throw new UsageError("granary neighbors is not available yet");
}
