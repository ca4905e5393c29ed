// The modules a command needs to talk to the suite: the SDK and connect, which bring gRPC,
// protobuf-es and Arrow (about 2 MB of JavaScript). Loaded when a command runs, so `granary --help`
// and usage errors never pay for them (start-up: docs/decisions/0013-compiled-runtime.md).
import type * as Client from "@granary/client";
import type * as Connect from "@connectrpc/connect";

export type ClientModule = typeof Client;
export type ConnectModule = typeof Connect;

let loaded: { readonly client: ClientModule; readonly connect: ConnectModule } | undefined;

export async function loadRuntime(): Promise<{ readonly client: ClientModule; readonly connect: ConnectModule }> {
  if (!loaded) {
    const [client, connect] = await Promise.all([import("@granary/client"), import("@connectrpc/connect")]);
    loaded = { client, connect };
  }
  return loaded;
}

/** The loaded modules; loadRuntime() runs before any command's action. */
export function runtime(): { readonly client: ClientModule; readonly connect: ConnectModule } {
  if (!loaded) throw new Error("the CLI's runtime is not loaded: call loadRuntime() before a command runs");
  return loaded;
}
