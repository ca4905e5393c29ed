import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { CliError } from "../cli-error.js";
import type { CommandContext } from "../context.js";
import { toJson } from "../output.js";

/** A project name from a directory name: lower-case letters, digits and _, starting with a letter. */
export function projectNameOf(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^[^a-z]+/, "")
    .slice(0, 63)
    .replace(/_+$/, "");
  return name || "starter";
}

const manifest = (project: string) => `# A starter feature store written by \`granary init\`: customers served online, their orders
# labelled as returned or not, and a feature view joining them point-in-time.
# See apps/cli/README.md in the Granary repository for every field.
project: ${project}

feature_groups:
  - name: customers
    description: One profile per customer.
    columns:
      - { name: customer_id, type: int64 }
      - { name: country, type: string }
      - { name: lifetime_orders, type: int32 }
      - { name: avg_basket, type: double }
      - { name: updated_at, type: timestamp }
    primary_key: [customer_id]
    event_time: updated_at
    online_enabled: true
    statistics: { histograms: true }

  - name: orders
    description: Orders, labelled as returned or not (the label group).
    columns:
      - { name: order_id, type: int64 }
      - { name: customer_id, type: int64 }
      - { name: amount, type: double }
      - { name: ordered_at, type: timestamp }
      - { name: returned, type: bool }
    primary_key: [order_id]
    event_time: ordered_at
    statistics: { histograms: true }
    validation_rules:
      - { name: amount_not_negative, column: amount, between: { min: 0 } }

feature_views:
  - name: returns
    description: Inputs of a model predicting returns, served by customer_id.
    query:
      group: orders
      select: [amount, customer_id, returned]
      joins:
        - group: customers
          on: [customer_id]
          select: [country, lifetime_orders, avg_basket]
    labels: [returned]
`;

const COUNTRIES = ["de", "fr", "es", "it", "nl"];

/** Deterministic starter rows: 10 customers and 60 orders. */
function customersCsv(): string {
  const rows = ["customer_id,country,lifetime_orders,avg_basket,updated_at"];
  for (let i = 1; i <= 10; i++) rows.push(`${i},${COUNTRIES[i % COUNTRIES.length]},${(i * 7) % 23},${(20 + ((i * 37) % 80)).toFixed(2)},2025-01-01T00:00:00Z`);
  return `${rows.join("\n")}\n`;
}

function ordersCsv(): string {
  const rows = ["order_id,customer_id,amount,ordered_at,returned"];
  for (let i = 1; i <= 60; i++) {
    const day = String(1 + (i % 28)).padStart(2, "0");
    const month = String(2 + Math.floor(i / 28)).padStart(2, "0");
    const amount = 10 + ((i * 53) % 190);
    rows.push(`${i},${1 + (i % 10)},${amount.toFixed(2)},2025-${month}-${day}T12:00:00Z,${amount > 150 && i % 3 === 0}`);
  }
  return `${rows.join("\n")}\n`;
}

/** `granary init [dir]`: a starter manifest and CSV data that apply and ingest accept; never overwrites a file. */
export async function initCommand(ctx: CommandContext, dirText: string | undefined): Promise<void> {
  const dir = resolve(dirText ?? ".");
  const project = projectNameOf(dir);
  const files: [string, string][] = [
    [join(dir, "features.yaml"), manifest(project)],
    [join(dir, "data", "customers.csv"), customersCsv()],
    [join(dir, "data", "orders.csv"), ordersCsv()],
  ];
  const existing = files.find(([f]) => existsSync(f));
  if (existing)
    throw new CliError(
      `${relative(process.cwd(), existing[0])} already exists: granary init never overwrites a file; give another directory (granary init <dir>)`,
    );
  await mkdir(join(dir, "data"), { recursive: true });
  const written: string[] = [];
  try {
    for (const [file, text] of files) {
      // "wx": fails when the file exists, so nothing of the user's is ever replaced.
      await writeFile(file, text, { flag: "wx" });
      written.push(file);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // Created meanwhile by someone else: still never overwritten.
    const raced = files.find(([f]) => !written.includes(f))![0];
    throw new CliError(`${relative(process.cwd(), raced)} already exists: granary init never overwrites a file`);
  }
  const rel = (f: string) => relative(process.cwd(), f) || ".";
  const next = [
    `granary apply ${rel(files[0]![0])}`,
    `granary --project ${project} ingest customers ${rel(files[1]![0])}`,
    `granary --project ${project} ingest orders ${rel(files[2]![0])}`,
    `granary --project ${project} describe orders`,
    `granary --project ${project} training-data returns --out returns.parquet`,
    `granary --project ${project} get-vector returns customer_id=3 --passed amount=120`,
  ];
  if (ctx.json) {
    ctx.output.out(toJson({ project, files: written, next }));
    return;
  }
  ctx.output.out(
    [`wrote ${written.map(rel).join(", ")} (project ${project})`, "", "next, with the suite running (npm start):", ...next.map((c) => `  ${c}`)].join("\n"),
  );
}
