#!/usr/bin/env python3
"""Smoke test of a running Granary from Python: health of the four services, a project, an
online-enabled feature group, rows written through OnlineService.WriteRows, a feature view, and a
feature vector read back through GetFeatureVectors with its values and statuses checked.

    /usr/bin/python3 clients/python/examples/smoke.py [--metadata HOST:PORT] [--online HOST:PORT] ...

Addresses default to GRANARY_<SERVICE>_ADDRESS, then 127.0.0.1:50051..50054 (https://HOST:PORT for
TLS, trusting --ca-file or GRANARY_TLS_CA). The API key is --api-key, else GRANARY_API_KEY, else
the file GRANARY_API_KEY_FILE names, else <GRANARY_DATA_DIR or .granary>/admin.key (what `npm start`
writes). Prints one JSON
summary on stdout; exits 0 when everything matched, 1 on a mismatch, 2 on an error (RPC failure,
timeout). Creates a project named py_smoke_<random> and deletes what it created unless --keep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
import time
import traceback
from typing import Any, Callable, Dict, List, TypeVar

try:
    import grpc
except ImportError:
    sys.exit(
        f"{sys.executable} cannot import grpc: run 'apt-get install -y protobuf-compiler "
        "protobuf-compiler-grpc python3-grpcio python3-protobuf' and use /usr/bin/python3"
    )

try:
    import granary_client  # noqa: F401  (installed, or on PYTHONPATH)
except ImportError:  # run from the repository: use clients/python/src
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from granary.metadata.v1 import feature_group_pb2, feature_view_pb2, metadata_service_pb2
from granary.online.v1 import online_service_pb2
from granary.types.v1 import types_pb2
from granary_client import SERVICES, connect
from granary_client.credentials import admin_key_file
from granary_client.columns import columnar, decode, doubles, int64s, named, strings, timestamps

T = TypeVar("T")
# The online service follows the metadata catalogue asynchronously: a group or view just created
# may be unknown to it for a moment.
NOT_YET = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE)


class Mismatch(Exception):
    pass


def retry(call: Callable[[], T], what: str, deadline: float, retries: Dict[str, int]) -> T:
    """Calls until it succeeds or fails other than NOT_YET, backing off up to 0.5 s; counts retries."""
    delay = 0.05
    while True:
        try:
            return call()
        except grpc.RpcError as err:
            if err.code() not in NOT_YET or time.monotonic() + delay > deadline:  # type: ignore[attr-defined]
                raise
        retries[what] = retries.get(what, 0) + 1
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for service in SERVICES:
        parser.add_argument(f"--{service}", metavar="HOST:PORT", help=f"default: $GRANARY_{service.upper()}_ADDRESS or 127.0.0.1")
    parser.add_argument("--api-key", help="default: GRANARY_API_KEY, GRANARY_API_KEY_FILE, or .granary/admin.key")
    parser.add_argument("--ca-file", help="CA certificate (PEM) to trust on https:// addresses; default: GRANARY_TLS_CA")
    parser.add_argument("--project", default=f"py_smoke_{secrets.token_hex(4)}")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for the whole run (default 30)")
    parser.add_argument("--keep", action="store_true", help="keep the project, group and view")
    args = parser.parse_args()

    summary: Dict[str, Any] = {"ok": False, "project": args.project}
    mismatches: List[str] = []
    retries: Dict[str, int] = {}
    summary["mismatches"] = mismatches
    summary["retries"] = retries
    deadline = time.monotonic() + args.timeout
    rpc_timeout = 5.0
    project, group, view = args.project, "accounts", "accounts_view"

    def expect(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            mismatches.append(f"{what}: expected {expected!r}, got {actual!r}")

    granary = connect(api_key=args.api_key, ca_file=args.ca_file, **{s: getattr(args, s) for s in SERVICES})
    summary["addresses"] = granary.addresses
    summary["api_key_source"] = granary.api_key_source
    created: List[str] = []
    code = 2
    try:
        # 1. grpc.health.v1 on each service, for its gRPC name ("" is the server as a whole).
        while True:
            health = granary.check_health(timeout=rpc_timeout)
            if all(s == "SERVING" for s in health.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        summary["health"] = health
        for service, status in health.items():
            expect(f"health of {service}", status, "SERVING")
        if mismatches:
            raise Mismatch()

        # 2. A project and an online-enabled feature group: int64 key, timestamp event time, a
        #    double and a string feature.
        md = granary.metadata
        md.CreateProject(metadata_service_pb2.CreateProjectRequest(name=project, description="Python client smoke test"), timeout=rpc_timeout)
        created.append("project")
        scalar = types_pb2.ScalarType
        columns = [("id", scalar.SCALAR_TYPE_INT64), ("event_time", scalar.SCALAR_TYPE_TIMESTAMP), ("score", scalar.SCALAR_TYPE_DOUBLE), ("segment", scalar.SCALAR_TYPE_STRING)]
        fg = md.CreateFeatureGroup(
            metadata_service_pb2.CreateFeatureGroupRequest(
                feature_group=feature_group_pb2.FeatureGroup(
                    project=project,
                    name=group,
                    version=1,
                    columns=[types_pb2.Column(name=n, type=types_pb2.DataType(scalar=s)) for n, s in columns],
                    primary_key=["id"],
                    event_time="event_time",
                    online_enabled=True,
                )
            ),
            timeout=rpc_timeout,
        ).feature_group
        created.append("group")
        summary["feature_group"] = {"name": fg.name, "version": fg.version, "id": fg.id}

        # 3. Rows through the online store, column by column; None is a null.
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        rows = columnar(
            id=int64s([1, 2, 3]),
            event_time=timestamps([now, now, now]),
            score=doubles([0.5, 1.25, None]),
            segment=strings(["gold", "silver", "bronze"]),
        )
        write = online_service_pb2.WriteRowsRequest(
            project=project,
            feature_group=types_pb2.FeatureGroupRef(name=group, version=1),
            columns=rows,
            durability=online_service_pb2.DURABILITY_COMMITTED,
        )
        written = retry(lambda: granary.online.WriteRows(write, timeout=rpc_timeout), "WriteRows", deadline, retries)
        summary["written"] = written.written_count
        expect("written_count", written.written_count, 3)

        # 4. A view of the two features; the service derives its serving key `id`.
        fv = md.CreateFeatureView(
            metadata_service_pb2.CreateFeatureViewRequest(
                feature_view=feature_view_pb2.FeatureView(
                    project=project,
                    name=view,
                    version=1,
                    query=feature_view_pb2.Query(
                        feature_group=types_pb2.FeatureGroupRef(name=group, version=1),
                        selection=feature_view_pb2.Selection(mode=feature_view_pb2.SELECTION_MODE_INCLUDE, columns=["score", "segment"]),
                    ),
                )
            ),
            timeout=rpc_timeout,
        ).feature_view
        created.append("view")
        summary["serving_keys"] = [k.name for k in fv.serving_keys]
        expect("serving keys", summary["serving_keys"], ["id"])

        # 5. Feature vectors for keys 1 (all present), 3 (score null) and 42 (no such row).
        lookup = online_service_pb2.GetFeatureVectorsRequest(
            project=project,
            feature_view=types_pb2.FeatureViewRef(name=view, version=1),
            entities=online_service_pb2.EntityRows(row_count=3, serving_keys=[named("id", int64s([1, 3, 42]))]),
        )
        vectors = retry(lambda: granary.online.GetFeatureVectors(lookup, timeout=rpc_timeout), "GetFeatureVectors", deadline, retries).vectors
        status_name = types_pb2.ValueStatus.Name
        got = {
            c.name: {"values": decode(c.values), "statuses": [status_name(s).replace("VALUE_STATUS_", "") for s in c.statuses]}
            for c in vectors.columns
        }
        summary["vectors"] = {"row_count": vectors.row_count, "columns": [c.name for c in vectors.columns], **got}
        expect("row_count", vectors.row_count, 3)
        expect("columns", [c.name for c in vectors.columns], ["score", "segment"])
        expect("score", got.get("score"), {"values": [0.5, 0.0, 0.0], "statuses": ["PRESENT", "NULL", "NOT_FOUND"]})
        expect("segment", got.get("segment"), {"values": ["gold", "bronze", ""], "statuses": ["PRESENT", "PRESENT", "NOT_FOUND"]})
        code = 1 if mismatches else 0
    except Mismatch:
        code = 1
    except grpc.RpcError as err:
        summary["error"] = f"{err.code().name}: {err.details()}"  # type: ignore[attr-defined]
        if err.code() == grpc.StatusCode.UNAUTHENTICATED:  # type: ignore[attr-defined]
            summary["hint"] = f"the API key is read from --api-key, GRANARY_API_KEY, the file GRANARY_API_KEY_FILE names, or {admin_key_file()}"
    except Exception as err:  # noqa: BLE001 (reported in the summary)
        summary["error"] = f"{type(err).__name__}: {err}"
        summary["traceback"] = traceback.format_exc()
    finally:
        if not args.keep and created:
            summary["cleanup"] = cleanup(granary, project, group, view, created, rpc_timeout)
        granary.close()

    summary["ok"] = code == 0
    print(json.dumps(summary, indent=2, default=str))
    return code


def cleanup(granary: Any, project: str, group: str, view: str, created: List[str], timeout: float) -> str:
    """Deletes what the run created, newest first; best effort, reported but never fatal."""
    md = granary.metadata
    calls = {
        "view": lambda: md.DeleteFeatureView(metadata_service_pb2.DeleteFeatureViewRequest(project=project, name=view, version=1), timeout=timeout),
        "group": lambda: md.DeleteFeatureGroup(metadata_service_pb2.DeleteFeatureGroupRequest(project=project, name=group, version=1), timeout=timeout),
        "project": lambda: md.DeleteProject(metadata_service_pb2.DeleteProjectRequest(name=project), timeout=timeout),
    }
    try:
        for what in reversed(created):
            calls[what]()
        return "deleted"
    except grpc.RpcError as err:
        return f"{what}: {err.code().name}: {err.details()}"  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
