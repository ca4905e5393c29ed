import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { MAX_ONLINE_WORKERS } from "../config.js";

/**
 * Workers when GRANARY_ONLINE_WORKERS is unset in a container: one per CPU the process may use.
 * os.availableParallelism() counts the machine's (or the affinity mask's) cores, not a container's
 * CPU limit, so a pod limited to 2 CPUs on a 64-core node would fork 64; the cgroup's quota caps it.
 */
export function defaultWorkers(parallelism = availableParallelism(), quota = cgroupCpuQuota()): number {
  const cpus = quota === undefined ? parallelism : Math.min(parallelism, Math.max(1, Math.ceil(quota)));
  return Math.min(cpus, MAX_ONLINE_WORKERS);
}

/** CPUs allowed by the cgroup (v2 cpu.max, else v1 cfs quota); undefined when unlimited or unknown. */
export function cgroupCpuQuota(read: (path: string) => string | undefined = readOptional): number | undefined {
  const v2 = read("/sys/fs/cgroup/cpu.max")?.trim().split(/\s+/);
  if (v2) return v2[0] === "max" ? undefined : ratio(v2[0], v2[1]);
  return ratio(read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")?.trim(), read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")?.trim());
}

function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : undefined;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
