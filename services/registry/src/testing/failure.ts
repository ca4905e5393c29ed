import { ConnectError } from "@connectrpc/connect";

/** The error a call failed with; throws when it succeeded. */
export async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) throw new Error("expected the call to fail, but it succeeded");
  return ConnectError.from(err);
}
