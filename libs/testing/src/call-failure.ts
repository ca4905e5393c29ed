import { ConnectError } from "@connectrpc/connect";

/** The ConnectError a call failed with; fails the test when the call succeeds or fails otherwise. */
export async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConnectError)) throw new Error(`expected a failure, got ${String(err)}`);
  return err;
}
