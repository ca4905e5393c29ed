import type { RunningService } from "@granary/server";

/** The online service as its starter sees it. */
export interface OnlineRunningService extends RunningService {
  /**
   * The processes answering gRPC: this one with GRANARY_ONLINE_WORKERS=1, else the workers (a
   * benchmark reads their CPU time from /proc). A restarted worker shows its new pid.
   */
  workerPids(): number[];
}
