// The suite's memory over the run, from /proc/<pid>/status (Linux only).
import { readFileSync } from "node:fs";

export interface RssSample {
  readonly t_s: number;
  readonly rss_mb: number;
  /** Heap and other anonymous memory: what a leak grows. */
  readonly anon_mb: number;
  /** Mapped files (LMDB, DuckDB, Parquet) resident now: grows with the data touched, not a leak. */
  readonly file_mb: number;
}

export function readRss(pid: number, tSeconds: number): RssSample | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  const mb = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { t_s: Math.round(tSeconds), rss_mb: mb(kb("VmRSS")), anon_mb: mb(kb("RssAnon")), file_mb: mb(kb("RssFile")) };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Flat: the median of the last third of the samples is within `tolerance` of the second third's
 * (the first third is warm-up: caches, JIT, LMDB pages coming in).
 */
export function flatness(
  values: readonly number[],
  tolerance = 0.1,
): { second_third_median_mb: number; last_third_median_mb: number; ratio: number; flat: boolean } | undefined {
  if (values.length < 3) return undefined;
  const third = Math.floor(values.length / 3);
  const second = median(values.slice(third, values.length - third));
  const last = median(values.slice(values.length - third));
  const ratio = last / second;
  return { second_third_median_mb: second, last_third_median_mb: last, ratio: Math.round(ratio * 1000) / 1000, flat: Math.abs(ratio - 1) <= tolerance };
}

/** CPU time (user + system) the process has used so far, in seconds (/proc/<pid>/stat, 100 ticks a second). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces) start at state, the 3rd field: utime is the 14th, stime the 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
