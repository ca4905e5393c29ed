import { describe, expect, it } from "@jest/globals";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { GranaryError } from "@granary/errors";
import { ApiKeySchema, Role } from "@granary/proto/metadata";
import { authorize, type AccessLookups } from "./authorize.js";
import { PERMISSIONS } from "./permissions.js";
import { OPEN_PRINCIPAL, principalOfKey, SERVICE_PRINCIPAL, type Principal } from "./principal.js";

const MD = "granary.metadata.v1.MetadataService";
const OFF = "granary.offline.v1.OfflineService";
const user = (name: string, scopes: [string, Role][], admin = false): Principal =>
  principalOfKey(create(ApiKeySchema, { id: name, user: name, admin, scopes: scopes.map(([project, role]) => ({ project, role })) }));

const lookups: AccessLookups = {
  groupCreator: (project, group) => (project === "shop" && group === "alice_fg" ? "alice" : project === "shop" && group === "bob_fg" ? "bob" : undefined),
  sharedWith: (project, group) => new Set(project === "shop" && group === "alice_fg" ? ["bank"] : []),
};

async function codeOf(principal: Principal, method: string, request: unknown): Promise<string> {
  try {
    await authorize(principal, PERMISSIONS[method], method, request, lookups);
    return "OK";
  } catch (err) {
    if (err instanceof GranaryError) return Code[err.code];
    throw err;
  }
}

const alice = user("alice", [["shop", Role.DATA_SCIENTIST]]);
const viewer = user("vic", [["shop", Role.VIEWER]]);
const owner = user("olga", [["shop", Role.DATA_OWNER]]);
const banker = user("ben", [["bank", Role.VIEWER]]);
const admin = user("root", [], true);

describe("authorize", () => {
  it("lets a role do what it includes and no more", async () => {
    const getGroup = `${MD}/GetFeatureGroup`;
    const createView = `${MD}/CreateFeatureView`;
    const share = `${MD}/ShareFeatureGroup`;
    expect(await codeOf(viewer, getGroup, { project: "shop", name: "x" })).toBe("OK");
    expect(await codeOf(viewer, createView, { featureView: { project: "shop" } })).toBe("PermissionDenied");
    expect(await codeOf(alice, createView, { featureView: { project: "shop" } })).toBe("OK");
    expect(await codeOf(alice, share, { project: "shop" })).toBe("PermissionDenied");
    expect(await codeOf(owner, share, { project: "shop" })).toBe("OK");
  });

  it("answers NOT_FOUND for a project the caller has no role in, whether it exists or not", async () => {
    expect(await codeOf(banker, `${MD}/ListFeatureGroups`, { project: "shop" })).toBe("NotFound");
    expect(await codeOf(banker, `${MD}/ListFeatureGroups`, { project: "nowhere" })).toBe("NotFound");
  });

  it("lets a data scientist write only the groups it created; a data owner writes any", async () => {
    const insert = `${OFF}/Insert`;
    const header = (group: string) => ({ message: { case: "header", value: { project: "shop", featureGroup: { name: group, version: 1 } } } });
    expect(await codeOf(alice, insert, header("alice_fg"))).toBe("OK");
    expect(await codeOf(alice, insert, header("bob_fg"))).toBe("PermissionDenied");
    expect(await codeOf(owner, insert, header("bob_fg"))).toBe("OK");
    expect(await codeOf(viewer, insert, header("alice_fg"))).toBe("PermissionDenied");
    expect(await codeOf(banker, insert, header("alice_fg"))).toBe("NotFound");
  });

  it("lets a project read a group shared with it, and nothing else of the owner's", async () => {
    expect(await codeOf(banker, `${OFF}/Read`, { project: "shop", featureGroup: { name: "alice_fg", version: 1 } })).toBe("OK");
    expect(await codeOf(banker, `${OFF}/Read`, { project: "shop", featureGroup: { name: "bob_fg", version: 1 } })).toBe("NotFound");
    expect(await codeOf(banker, `${MD}/ListFeatureGroups`, { project: "shop" })).toBe("NotFound");
  });

  it("refuses service-only methods to every user, admins included, and allows them to services", async () => {
    for (const p of [alice, owner, admin]) expect(await codeOf(p, `${MD}/CreateCommit`, { commit: { project: "shop" } })).toBe("PermissionDenied");
    expect(await codeOf(SERVICE_PRINCIPAL, `${MD}/CreateCommit`, { commit: { project: "shop" } })).toBe("OK");
  });

  it("keeps cluster-wide watches to admins and services", async () => {
    expect(await codeOf(owner, `${MD}/WatchChanges`, { project: "" })).toBe("PermissionDenied");
    expect(await codeOf(owner, `${MD}/WatchChanges`, { project: "shop" })).toBe("OK");
    expect(await codeOf(admin, `${MD}/WatchChanges`, { project: "" })).toBe("OK");
  });

  it("refuses a method missing from the table to everyone, services included", async () => {
    const unknown = `${MD}/DropEverything`;
    for (const p of [admin, SERVICE_PRINCIPAL, OPEN_PRINCIPAL]) expect(await codeOf(p, unknown, {})).toBe("PermissionDenied");
    expect(await codeOf(OPEN_PRINCIPAL, `${MD}/CreateProject`, {})).toBe("OK");
  });
});
