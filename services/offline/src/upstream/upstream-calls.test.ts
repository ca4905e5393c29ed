import { describe, expect, it } from "@jest/globals";
import { create, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { NotFoundError, ResourceExhaustedError, UnavailableError } from "@granary/errors";
import { StatisticsSubjectSchema, type MetadataService } from "@granary/proto/metadata";
import type { OnlineService } from "@granary/proto/online";
import { metadataWriter } from "./metadata-writer.js";
import { onlineVectors } from "./online-vectors.js";
import { onlineWriter } from "./online-writer.js";

// Each adapter reports a failed call through the shared mapper (libs/service-clients), naming the service.
const failing = (code: Code) => () => Promise.reject(new ConnectError("upstream says no", code));
const client = <S extends DescService>(methods: Partial<Client<S>>) => methods as Client<S>;

describe("calls to other services", () => {
  it("metadata: an outage is UNAVAILABLE naming the service and what failed; NOT_FOUND of statistics is an answer", async () => {
    const down = metadataWriter(client<typeof MetadataService>({ putStatistics: failing(Code.Unavailable), getStatistics: failing(Code.NotFound) }));
    const err = await down.putStatistics({} as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe("could not store statistics: the metadata service is unavailable; retry later");
    expect(await down.hasStatistics("p", create(StatisticsSubjectSchema))).toBe(false);
  });

  it("online writes: an outage is UNAVAILABLE naming the online service", async () => {
    const writer = onlineWriter(client<typeof OnlineService>({ writeRows: failing(Code.DeadlineExceeded), deleteRows: failing(Code.Unavailable) }));
    const group = { name: "g", version: 1 };
    await expect(writer.writeArrow?.("p", group, new Uint8Array())).rejects.toThrow(
      "could not write rows online: the online service is unavailable; retry later",
    );
    await expect(writer.deleteKeys("p", group, {} as never, "id")).rejects.toBeInstanceOf(UnavailableError);
  });

  it("online writes: a request refused for its size is ResourceExhaustedError (the pusher halves it)", async () => {
    const writer = onlineWriter(client<typeof OnlineService>({ writeRows: failing(Code.ResourceExhausted), deleteRows: failing(Code.ResourceExhausted) }));
    const group = { name: "g", version: 1 };
    await expect(writer.writeArrow?.("p", group, new Uint8Array())).rejects.toBeInstanceOf(ResourceExhaustedError);
    await expect(writer.writeColumns("p", group, {} as never, "id")).rejects.toThrow("the online service: upstream says no");
    await expect(writer.deleteKeys("p", group, {} as never, "id")).rejects.toBeInstanceOf(ResourceExhaustedError);
  });

  it("online vectors: an answer about the request keeps its code, named by the online service", async () => {
    const vectors = onlineVectors(client<typeof OnlineService>({ getFeatureVectors: failing(Code.NotFound) }));
    const err = await vectors
      .read(
        { project: "p", featureView: { name: "v", version: 1 } as never, rowCount: 1, servingKeys: [], requestParameters: [] },
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe("the online service: upstream says no");
  });
});
