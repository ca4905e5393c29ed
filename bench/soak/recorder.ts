// What the soak counts per operation kind: acknowledged calls, latencies, errors by gRPC code.
import { Code, ConnectError } from "@connectrpc/connect";

/** "DeadlineExceeded" → "DEADLINE_EXCEEDED": the names gRPC clients in every language print. */
export function grpcCodeName(err: unknown): string {
  // Anything else was thrown on this side (a check of the answer, a bug in the soak itself).
  if (!(err instanceof ConnectError)) return `CLIENT_${err instanceof Error ? err.name : "ERROR"}`.toUpperCase();
  return Code[err.code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export class KindRecorder {
  readonly latencies: number[] = [];
  readonly errors = new Map<string, number>();
  /** The first few messages per code, to tell what went wrong without rerunning. */
  readonly samples: string[] = [];
  /** Rows, bytes or vectors moved by acknowledged calls (what "units" means depends on the kind). */
  units = 0;
  #lastReported = 0;

  ok(ms: number, units = 0): void {
    this.latencies.push(ms);
    this.units += units;
  }

  fail(err: unknown): void {
    const code = grpcCodeName(err);
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    if (this.samples.length < 5) this.samples.push(`${code}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300));
  }

  get errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }

  /** Acknowledged calls since the previous call of this method. */
  sinceLastReport(): number {
    const n = this.latencies.length - this.#lastReported;
    this.#lastReported = this.latencies.length;
    return n;
  }

  summary(seconds: number) {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (p: number) => (sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!));
    return {
      ops: sorted.length,
      ops_per_s: round(sorted.length / seconds),
      units_per_s: Math.round(this.units / seconds),
      p50_ms: at(0.5),
      p99_ms: at(0.99),
      max_ms: sorted.length === 0 ? null : round(sorted[sorted.length - 1]!),
      errors: Object.fromEntries(this.errors),
      ...(this.samples.length > 0 ? { error_samples: this.samples } : {}),
    };
  }
}
