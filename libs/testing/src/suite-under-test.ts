import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { createServiceClient } from "@granary/service-clients";

/** A service started in-process for a test, with the address it listens on. */
export interface StartedService {
  readonly address: string;
  stop(): Promise<void>;
}

/** A scratch data directory PostgreSQL (running as its own user) can enter too. */
export function scratchDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `granary-${prefix}-`));
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A typed client for a started service. */
export function clientOf<T extends DescService>(service: T, started: StartedService): Client<T> {
  return createServiceClient(service, started.address);
}
