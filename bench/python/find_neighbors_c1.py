"""FindNeighbors one call at a time from Python (grpcio, the C core: no JavaScript collector on the
client side), for bench/vectors.ts. Reads the queries as little-endian float32 rows from a file and
prints one JSON object: each call's latency in ms and the ids it returned.

  python3 find_neighbors_c1.py <online address> <project> <group> <column> <dimension> <k> <queries file>

The API key comes from GRANARY_API_KEY."""
import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python", "src"))

import grpc  # noqa: E402

from granary_feature_store.proto.granary.online.v1 import online_service_pb2, online_service_pb2_grpc  # noqa: E402
from granary_feature_store.proto.granary.types.v1 import types_pb2  # noqa: E402


def main() -> None:
    address, project, group, column, dimension, k, path = sys.argv[1:8]
    dimension, k = int(dimension), int(k)
    with open(path, "rb") as f:
        raw = f.read()
    count = len(raw) // (4 * dimension)
    queries = [list(struct.unpack_from(f"<{dimension}f", raw, i * 4 * dimension)) for i in range(count)]
    metadata = (("authorization", f"Bearer {os.environ['GRANARY_API_KEY']}"),)
    with grpc.insecure_channel(address) as channel:
        stub = online_service_pb2_grpc.OnlineServiceStub(channel)
        target = types_pb2.FeatureGroupRef(name=group, version=1)

        def call(query):
            request = online_service_pb2.FindNeighborsRequest(project=project, feature_group=target, column=column, query=query, k=k)
            return stub.FindNeighbors(request, metadata=metadata, timeout=30)

        for query in queries[: min(50, count)]:
            call(query)
        latencies, ids = [], []
        for query in queries:
            started = time.perf_counter()
            response = call(query)
            latencies.append((time.perf_counter() - started) * 1000)
            ids.append(list(response.keys[0].data.int64s.values) if response.keys else [])
    print(json.dumps({"latencies_ms": latencies, "ids": ids}))


if __name__ == "__main__":
    main()
