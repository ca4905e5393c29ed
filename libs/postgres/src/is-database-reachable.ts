import type { Pool } from "pg";

/**
 * Whether the database answers `SELECT 1` within `timeoutMs`, for health checks. A pool whose
 * connections are all busy counts as unreachable too: the service could not serve a request either.
 */
export async function isDatabaseReachable(pool: Pool, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  // The query keeps running after a timeout; its outcome is then simply ignored.
  const answered = pool.query("SELECT 1").then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
