import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Pool } from "pg";
import { ChangeKind, ChangeSchema, type Change, type MetadataService } from "@granary/proto/metadata";
import { principalKey } from "@granary/server";
import * as apiKeys from "./access/api-keys.js";
import * as audit from "./store/audit-store.js";
import * as shares from "./store/shares-store.js";

type AccessMethods =
  | "createApiKey"
  | "listApiKeys"
  | "revokeApiKey"
  | "authenticateApiKey"
  | "shareFeatureGroup"
  | "unshareFeatureGroup"
  | "listFeatureGroupShares"
  | "listAuditEvents"
  | "recordAuditEvents";

export interface AccessHandlerDeps {
  readonly pool: Pool;
  /** Told of a key or share this replica changed, so its caches drop it at once. */
  readonly onAccessChange?: (change: Change) => void;
}

/** Handlers of the trust boundary's RPCs: keys, shares, audit. Who may call them is in @granary/auth's table. */
export function createAccessHandlers({ pool, onAccessChange = () => {} }: AccessHandlerDeps): Pick<ServiceImpl<typeof MetadataService>, AccessMethods> {
  return {
    createApiKey: (req, ctx) => apiKeys.createApiKey(pool, ctx.values.get(principalKey), req),
    listApiKeys: async (req, ctx) => {
      const page = await apiKeys.listApiKeys(pool, ctx.values.get(principalKey), req);
      return { apiKeys: page.items, nextPageToken: page.nextPageToken };
    },
    revokeApiKey: async (req, ctx) => {
      const apiKey = await apiKeys.revokeApiKey(pool, ctx.values.get(principalKey), req.id);
      onAccessChange(create(ChangeSchema, { kind: ChangeKind.UPDATED, resource: { case: "apiKey", value: apiKey } }));
      return { apiKey };
    },
    authenticateApiKey: async (req, ctx) => ({ apiKey: await apiKeys.authenticateApiKey(pool, ctx.values.get(principalKey), req.secret) }),

    shareFeatureGroup: async (req, ctx) => {
      const share = await shares.shareFeatureGroup(pool, req.project, req.featureGroup, req.withProject, ctx.values.get(principalKey).name);
      onAccessChange(create(ChangeSchema, { kind: ChangeKind.CREATED, project: req.project, resource: { case: "share", value: share } }));
      return { share };
    },
    unshareFeatureGroup: async (req) => {
      await shares.unshareFeatureGroup(pool, req.project, req.featureGroup, req.withProject);
      onAccessChange(
        create(ChangeSchema, {
          kind: ChangeKind.DELETED,
          project: req.project,
          resource: { case: "share", value: { project: req.project, featureGroup: req.featureGroup, withProject: req.withProject } },
        }),
      );
      return {};
    },
    listFeatureGroupShares: (req) => shares.listFeatureGroupShares(pool, req.project),

    listAuditEvents: async (req) => {
      const page = await audit.listAuditEvents(pool, req.project, req.pageSize, req.pageToken);
      return { events: page.items, nextPageToken: page.nextPageToken };
    },
    recordAuditEvents: async (req) => {
      await audit.insertAuditEvents(pool, req.events);
      return {};
    },
  };
}
