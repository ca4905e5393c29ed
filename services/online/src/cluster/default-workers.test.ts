import { describe, expect, it } from "@jest/globals";
import { cgroupCpuQuota, defaultWorkers } from "./default-workers.js";

const files = (entries: Record<string, string>) => (path: string) => entries[path];

describe("the default number of online workers", () => {
  it("is the core count, capped by the container's CPU quota (rounded up) and by 64", () => {
    expect(defaultWorkers(8, undefined)).toBe(8);
    expect(defaultWorkers(64, 2)).toBe(2);
    expect(defaultWorkers(64, 1.5)).toBe(2);
    expect(defaultWorkers(64, 0.25)).toBe(1);
    expect(defaultWorkers(4, 16)).toBe(4);
    expect(defaultWorkers(128, undefined)).toBe(64);
  });

  it("reads the quota from cgroup v2, else v1; unlimited is no cap", () => {
    expect(cgroupCpuQuota(files({ "/sys/fs/cgroup/cpu.max": "200000 100000\n" }))).toBe(2);
    expect(cgroupCpuQuota(files({ "/sys/fs/cgroup/cpu.max": "max 100000\n" }))).toBeUndefined();
    expect(cgroupCpuQuota(files({ "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "150000\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n" }))).toBe(1.5);
    expect(cgroupCpuQuota(files({ "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n" }))).toBeUndefined();
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
  });
});
