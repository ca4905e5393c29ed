import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";

/**
 * The API key lives in sessionStorage only: it ends with the tab, and is never written where
 * another tab or a later visitor of the machine would find it (localStorage).
 */
const KEY_ITEM = "granary.apiKey";

export function storedKey(): string | undefined {
  return sessionStorage.getItem(KEY_ITEM) ?? undefined;
}
export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_ITEM, key);
}
export function forgetKey(): void {
  sessionStorage.removeItem(KEY_ITEM);
}

/** Told when a call comes back UNAUTHENTICATED, so the app can return to the login screen. */
let onUnauthenticated: (message: string) => void = () => {};
export function setUnauthenticatedHandler(handler: (message: string) => void): void {
  onUnauthenticated = handler;
}

const auth: Interceptor = (next) => async (req) => {
  const key = storedKey();
  if (key !== undefined) req.header.set("authorization", `Bearer ${key}`);
  try {
    return await next(req);
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.Unauthenticated) onUnauthenticated(e.rawMessage);
    throw e;
  }
};

const transport = createConnectTransport({ baseUrl: window.location.origin, useBinaryFormat: true, interceptors: [auth] });

export interface Api {
  readonly metadata: Client<typeof MetadataService>;
  readonly online: Client<typeof OnlineService>;
  readonly offline: Client<typeof OfflineService>;
  readonly registry: Client<typeof RegistryService>;
}

export const api: Api = {
  metadata: createClient(MetadataService, transport),
  online: createClient(OnlineService, transport),
  offline: createClient(OfflineService, transport),
  registry: createClient(RegistryService, transport),
};

/** What a person can do about an error, in words. */
export function describeError(err: unknown): { title: string; detail: string } {
  const e = ConnectError.from(err);
  const said = /[.!?)]$/.test(e.rawMessage) || e.rawMessage === "" ? e.rawMessage : `${e.rawMessage}.`;
  switch (e.code) {
    case Code.PermissionDenied:
      return {
        title: "Your API key may not see this",
        detail: `${said} Ask an admin for a key with read access to this project, or sign out and sign in with another key.`,
      };
    case Code.Unauthenticated:
      return { title: "Sign in again", detail: said };
    case Code.NotFound:
      return { title: "Not found", detail: `${said} It may have been deleted, or the link has a typo.` };
    case Code.Unavailable:
      return { title: "A service is unavailable", detail: `${said} Check that Granary is running (npm start), then retry.` };
    case Code.DeadlineExceeded:
      return { title: "The call took too long", detail: `${said} Retry; if it keeps happening the service may be overloaded.` };
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
      return { title: "The request was refused", detail: said };
    default:
      return { title: `Something went wrong (${Code[e.code]})`, detail: said };
  }
}

/** The call's answer, or undefined when the thing does not exist (yet). */
export async function orNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return undefined;
    throw err;
  }
}
