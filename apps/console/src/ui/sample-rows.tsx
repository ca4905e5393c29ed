import type { JSX } from "preact";
import type { FeatureGroup } from "@granary/proto/metadata";
import { api } from "./api";
import { Async, EmptyState } from "./components";
import { useCall } from "./use-call";

const SAMPLE_ROWS = 20n;

interface Sample {
  readonly columns: string[];
  readonly rows: string[][];
}

function cellText(v: unknown, kind?: "timestamp" | "date"): string {
  if (v === null || v === undefined) return "null";
  if (kind !== undefined && (typeof v === "number" || typeof v === "bigint")) {
    const iso = new Date(Number(v)).toISOString();
    return kind === "date" ? iso.slice(0, 10) : iso.replace("T", " ");
  }
  if (v instanceof Date) return v.toISOString().replace("T", " ");
  if (typeof v === "object" && v !== null && "toArray" in v && typeof (v as { toArray: unknown }).toArray === "function")
    return `[${Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), (x) => cellText(x)).join(", ")}]`;
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  return String(v);
}

/** A few rows through the offline Read (Arrow IPC, decoded in the browser by apache-arrow). */
async function readSample(project: string, group: FeatureGroup, signal: AbortSignal): Promise<Sample> {
  const parts: Uint8Array[] = [];
  for await (const r of api.offline.read({ project, featureGroup: { name: group.name, version: group.version }, limit: SAMPLE_ROWS }, { signal })) {
    if (r.chunk && r.chunk.ipc.byteLength > 0) parts.push(r.chunk.ipc);
  }
  if (parts.length === 0) return { columns: group.columns.map((c) => c.name), rows: [] };
  const arrow = await import("apache-arrow");
  const table = arrow.tableFromIPC(parts);
  const fields = table.schema.fields.map((f) => ({
    name: f.name,
    kind: arrow.DataType.isTimestamp(f.type) ? ("timestamp" as const) : arrow.DataType.isDate(f.type) ? ("date" as const) : undefined,
    vector: table.getChild(f.name),
  }));
  const columns = fields.map((f) => f.name);
  const rows: string[][] = [];
  for (let i = 0; i < table.numRows; i++) rows.push(fields.map((f) => cellText(f.vector?.get(i), f.kind)));
  return { columns, rows };
}

export function SampleRows({ project, group }: { project: string; group: FeatureGroup }): JSX.Element {
  const [state, retry] = useCall((signal) => readSample(project, group, signal), [project, group.name, group.version]);
  return (
    <div data-testid="sample-rows">
      <Async state={state} retry={retry} what="sample rows">
        {(sample) =>
          sample.rows.length === 0 ? (
            <EmptyState>No rows yet.</EmptyState>
          ) : (
            <div class="scroll-x">
              <table class="table compact nowrap">
                <thead>
                  <tr>
                    {sample.columns.map((c) => (
                      <th key={c} class="mono">
                        {c}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {sample.rows.map((row, i) => (
                    <tr key={i} data-testid="sample-row">
                      {row.map((cell, j) => (
                        <td key={j} class="mono">
                          {cell}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
      <p class="muted small">The first {String(SAMPLE_ROWS)} rows of the latest state, read from the offline store.</p>
    </div>
  );
}
