import { describe, expect, it } from "@jest/globals";
import { MetadataService } from "@granary/proto/metadata";
import { OfflineService } from "@granary/proto/offline";
import { OnlineService } from "@granary/proto/online";
import { RegistryService } from "@granary/proto/registry";
import { fieldAt, PERMISSIONS } from "./permissions.js";

const SERVICES = [MetadataService, OnlineService, OfflineService, RegistryService];
const methods = SERVICES.flatMap((s) => s.methods.map((m) => ({ path: `${s.typeName}/${m.name}`, method: m })));

describe("the permission table", () => {
  it("has an entry for every method of the four services (a new RPC without one fails here)", () => {
    const missing = methods.filter((m) => PERMISSIONS[m.path] === undefined).map((m) => m.path);
    expect(missing).toEqual([]);
  });

  it("names no method that does not exist", () => {
    const known = new Set(methods.map((m) => m.path));
    expect(Object.keys(PERMISSIONS).filter((p) => !known.has(p))).toEqual([]);
  });

  it("reads the project from a field each request really has", () => {
    // Every path segment must be a field (or a oneof member) of the request message: a typo would
    // make the project read as "" and the call be refused as if the project did not exist.
    for (const { path, method } of methods) {
      const permission = PERMISSIONS[path]!;
      const paths = "project" in permission ? [permission.project, ...("group" in permission && permission.group ? [permission.group] : [])] : [];
      for (const fieldPath of paths) {
        let message = method.input;
        for (const segment of fieldPath.split(".").slice(0, -1)) {
          const field = message.fields.find((f) => f.localName === segment) ?? message.oneofs.flatMap((o) => o.fields).find((f) => f.localName === segment);
          const oneof = message.oneofs.find((o) => o.localName === segment);
          if (oneof) continue;
          expect({ path, fieldPath, segment, found: field?.message !== undefined }).toEqual({ path, fieldPath, segment, found: true });
          message = field!.message!;
        }
        const last = fieldPath.split(".").at(-1)!;
        expect({ path, fieldPath, found: message.fields.some((f) => f.localName === last) }).toEqual({ path, fieldPath, found: true });
      }
    }
  });
});

describe("fieldAt", () => {
  it("follows messages and oneof members", () => {
    const request = { message: { case: "header", value: { project: "p", featureGroup: { name: "g", version: 2 } } } };
    expect(fieldAt(request, "message.header.project")).toBe("p");
    expect(fieldAt(request, "message.header.featureGroup.version")).toBe(2);
    expect(fieldAt(request, "message.chunk.ipc")).toBeUndefined();
    expect(fieldAt(undefined, "project")).toBeUndefined();
  });
});
