import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { ResourceExhaustedError } from "@granary/errors";
import { Durability, type OnlineService } from "@granary/proto/online";
import type { ColumnarRows } from "@granary/proto/types";
import { callUpstream } from "@granary/service-clients";

/** A feature group version, as the online service names it. */
export interface GroupRef {
  readonly name: string;
  readonly version: number;
}

/**
 * What the offline service asks of the online store: the online service over gRPC, or the write log
 * when there is one (logOnlineWriter). `msgId` names the batch for a retry: the log stores a batch
 * once per id; the gRPC writes ignore it.
 */
export interface OnlineWriter {
  /** Arrow IPC rows; absent when the writer takes ColumnarRows only (the write log's payload). */
  writeArrow?(project: string, group: GroupRef, ipc: Uint8Array): Promise<void>;
  writeColumns(project: string, group: GroupRef, rows: ColumnarRows, msgId: string): Promise<void>;
  deleteKeys(project: string, group: GroupRef, keys: ColumnarRows, msgId: string): Promise<void>;
}

/**
 * The online service over gRPC; every write is acknowledged only once flushed to disk. A request
 * refused for its size (RESOURCE_EXHAUSTED: more rows than GRANARY_ONLINE_MAX_ROWS) fails with
 * ResourceExhaustedError, so the pusher halves it; other failures are mapped by callUpstream.
 */
export function onlineWriter(client: Client<typeof OnlineService>, timeoutMs = 30_000): OnlineWriter {
  const featureGroup = (g: GroupRef) => ({ name: g.name, version: g.version });
  const call = (what: string, run: () => Promise<unknown>): Promise<void> =>
    callUpstream(
      () =>
        run().catch((err: unknown) => {
          if (err instanceof ConnectError && err.code === Code.ResourceExhausted)
            throw new ResourceExhaustedError(`the online service: ${err.rawMessage}`, { cause: err });
          throw err;
        }),
      { service: "the online service", what },
    ).then(() => undefined);
  return {
    writeArrow: (project, group, ipc) =>
      call("write rows online", () =>
        client.writeRows({ project, featureGroup: featureGroup(group), rows: { case: "arrowIpc", value: ipc }, durability: Durability.FLUSHED }, { timeoutMs }),
      ),
    writeColumns: (project, group, rows) =>
      call("write rows online", () =>
        client.writeRows({ project, featureGroup: featureGroup(group), rows: { case: "columns", value: rows }, durability: Durability.FLUSHED }, { timeoutMs }),
      ),
    deleteKeys: (project, group, keys) =>
      call("delete rows online", () => client.deleteRows({ project, featureGroup: featureGroup(group), keys, durability: Durability.FLUSHED }, { timeoutMs })),
  };
}
