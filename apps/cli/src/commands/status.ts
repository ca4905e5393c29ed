import { SERVICE_NAMES } from "@granary/client";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { formatTable, toJson } from "../output.js";

/** `granary status`: the health of the four services; fails unless every one is SERVING. */
export async function statusCommand(ctx: CommandContext): Promise<void> {
  const report = await ctx.granary.health(ctx.options.timeout ?? 2_000);
  if (ctx.json) {
    ctx.output.out(toJson(report));
  } else {
    ctx.output.out(
      formatTable(
        ["service", "address", "status"],
        SERVICE_NAMES.map((n) => [n, report[n].address, report[n].error ? `${report[n].status} (${report[n].error})` : report[n].status]),
      ),
    );
  }
  const down = SERVICE_NAMES.filter((n) => report[n].status !== "SERVING");
  if (down.length > 0) {
    throw new CliError(
      `${down.length} of ${SERVICE_NAMES.length} services ${down.length === 1 ? "is" : "are"} not serving: ${down.join(", ")}${down.length === SERVICE_NAMES.length ? " (is the suite running? npm start)" : ""}`,
    );
  }
}
