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

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v instanceof Date) return v.toISOString().replace("T", " ");
  if (typeof v === "object" && v !== null && "toArray" in v && typeof (v as { toArray: unknown }).toArray === "function")
    return `[${Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), cellText).join(", ")}]`;
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
  const columns = table.schema.fields.map((f) => f.name);
  const rows: string[][] = [];
  for (let i = 0; i < table.numRows; i++) rows.push(columns.map((c) => cellText(table.getChild(c)?.get(i))));
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
              <table class="table compact">
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
