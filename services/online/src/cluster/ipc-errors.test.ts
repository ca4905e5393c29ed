import { describe, expect, it } from "@jest/globals";
import { Code } from "@connectrpc/connect";
import { GranaryError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, UnavailableError, toConnectError } from "@granary/errors";
import { errorFromWire, errorToWire } from "./ipc-errors.js";

// The round trip a forwarded write's failure takes: primary → structured clone → worker.
const roundTrip = (err: unknown) => errorFromWire(structuredClone(errorToWire(err)));

describe("errors forwarded from the online primary to a worker", () => {
  it("keep their GranaryError class, code and message", () => {
    const full = roundTrip(new ResourceExhaustedError("the online store's disk is full", { cause: new Error("ENOSPC") }));
    expect(full).toBeInstanceOf(ResourceExhaustedError);
    expect((full as GranaryError).code).toBe(Code.ResourceExhausted);
    expect(full.message).toBe("the online store's disk is full");
    expect(toConnectError(full).code).toBe(Code.ResourceExhausted);
    expect(roundTrip(new UnavailableError("closed"))).toBeInstanceOf(UnavailableError);
    expect(roundTrip(new NotFoundError("no group"))).toBeInstanceOf(NotFoundError);
  });

  it("keep an invalid argument's field", () => {
    const err = roundTrip(new InvalidArgumentError("bad key", { field: "rows.columns[0]" }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe("rows.columns[0]");
  });

  it("never send the cause across", () => {
    const wire = errorToWire(new ResourceExhaustedError("full", { cause: new Error("/var/lib/granary/online: ENOSPC") }));
    expect(JSON.stringify(wire)).not.toContain("/var/lib");
  });

  it("rebuild an unknown GranaryError by its code, and anything else as a plain error (INTERNAL)", () => {
    class CustomError extends GranaryError {
      constructor(message: string) {
        super(Code.Aborted, message);
      }
    }
    const custom = roundTrip(new CustomError("lost a race"));
    expect(custom).toBeInstanceOf(GranaryError);
    expect((custom as GranaryError).code).toBe(Code.Aborted);
    const plain = roundTrip(new TypeError("x is undefined"));
    expect(plain).not.toBeInstanceOf(GranaryError);
    expect(toConnectError(plain).code).toBe(Code.Internal);
  });
});
