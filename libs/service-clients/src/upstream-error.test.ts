import { describe, expect, it } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import { FailedPreconditionError, GranaryError, InvalidArgumentError, NotFoundError } from "@granary/errors";
import { callUpstream, translateUpstreamError } from "./upstream-error.js";

const policy = { service: "the metadata service", what: "store statistics" };
const codeOf = (err: unknown) => (err instanceof GranaryError ? Code[err.code] : err instanceof ConnectError ? `raw ${Code[err.code]}` : "other");

describe("translateUpstreamError", () => {
  it.each([
    [Code.Unavailable, "Unavailable", "could not store statistics: the metadata service is unavailable; retry later"],
    [Code.DeadlineExceeded, "Unavailable", "could not store statistics: the metadata service is unavailable; retry later"],
    [Code.ResourceExhausted, "Unavailable", "could not store statistics: the metadata service is unavailable; retry later"],
    [
      Code.Unauthenticated,
      "Unavailable",
      "could not store statistics: the metadata service refused this service's credentials (operators: check GRANARY_SERVICE_KEY)",
    ],
    [Code.NotFound, "NotFound", "the metadata service: no such group"],
    [Code.InvalidArgument, "InvalidArgument", "the metadata service: no such group"],
    [Code.FailedPrecondition, "FailedPrecondition", "the metadata service: no such group"],
    [Code.AlreadyExists, "AlreadyExists", "the metadata service: no such group"],
  ])("%s upstream → %s", (code, expected, message) => {
    const out = translateUpstreamError(new ConnectError("no such group", code), policy) as Error;
    expect(codeOf(out)).toBe(expected);
    expect(out.message).toBe(message);
  });

  it("keeps upstream's INTERNAL as it is, and leaves typed and foreign errors alone", () => {
    const internal = new ConnectError("boom", Code.Internal);
    expect(translateUpstreamError(internal, policy)).toBe(internal);
    const typed = new InvalidArgumentError("mine");
    expect(translateUpstreamError(typed, policy)).toBe(typed);
    const bug = new TypeError("x is undefined");
    expect(translateUpstreamError(bug, policy)).toBe(bug);
  });

  it("treats a refused connection reported as INTERNAL as unavailable", () => {
    const socket = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const out = translateUpstreamError(new ConnectError("internal", Code.Internal, undefined, undefined, socket), policy) as Error;
    expect(codeOf(out)).toBe("Unavailable");
  });

  it("lets a caller say what NOT_FOUND means for it", async () => {
    const call = () => Promise.reject(new ConnectError("project x", Code.NotFound));
    const err = await callUpstream(call, {
      service: "the metadata service",
      notFound: (m, cause) => new FailedPreconditionError(`unknown: ${m}`, { cause }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect((err as Error).message).toBe("unknown: project x");
    const plain = await callUpstream(call, { service: "the registry" }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(NotFoundError);
    expect((plain as Error).message).toBe("the registry: project x");
  });
});
