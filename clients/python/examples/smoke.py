#!/usr/bin/env python3
"""Smoke test of a running Granary from Python, through granary_feature_store's API: health of the
four services; a project, an online-enabled feature group and a view (created with the generated
metadata stubs); rows written from dicts with write_rows; vectors read back as dicts, with passed
features and request parameters; and errors mapped to their GranaryError subclasses.

    /usr/bin/python3 clients/python/examples/smoke.py [--metadata HOST:PORT] [--online HOST:PORT] ...

Addresses default to GRANARY_<SERVICE>_ADDRESS, then 127.0.0.1:50051..50054 (https://HOST:PORT for
TLS, trusting --ca-file or GRANARY_TLS_CA). The API key is --api-key, else GRANARY_API_KEY, else
the file GRANARY_API_KEY_FILE names, else <GRANARY_DATA_DIR or .granary>/admin.key (what `npm start`
writes). Prints one JSON summary on stdout; exits 0 when everything matched, 1 on a mismatch, 2 on
an error. Creates a project named py_smoke_<random> and deletes what it created unless --keep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
import traceback
from typing import Any, Callable, Dict, List

try:
    import grpc  # noqa: F401
except ImportError:
    sys.exit(
        f"{sys.executable} cannot import grpc: run 'apt-get install -y --no-install-recommends python3-grpcio python3-protobuf' and use /usr/bin/python3"
    )

try:
    import granary_feature_store  # noqa: F401  (installed, or on PYTHONPATH)
except ImportError:  # run from the repository: use clients/python/src
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from granary_feature_store import (
    SERVICES,
    Granary,
    GranaryError,
    InvalidArgumentError,
    NotFoundError,
    UnauthenticatedError,
)
from granary_feature_store.proto.granary.metadata.v1 import feature_group_pb2, feature_view_pb2, metadata_service_pb2 as md_pb
from granary_feature_store.proto.granary.types.v1 import types_pb2


class Mismatch(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    for service in SERVICES:
        parser.add_argument(f"--{service}", metavar="HOST:PORT", help=f"default: $GRANARY_{service.upper()}_ADDRESS or 127.0.0.1")
    parser.add_argument("--api-key", help="default: GRANARY_API_KEY, GRANARY_API_KEY_FILE, or .granary/admin.key")
    parser.add_argument("--ca-file", help="CA certificate (PEM) to trust on https:// addresses; default: GRANARY_TLS_CA")
    parser.add_argument("--project", default=f"py_smoke_{secrets.token_hex(4)}")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per RPC attempt (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the project, group and view")
    args = parser.parse_args()

    summary: Dict[str, Any] = {"ok": False, "project": args.project}
    mismatches: List[str] = []
    summary["mismatches"] = mismatches
    project, group, view = args.project, "accounts", "accounts_view"

    def expect(what: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            mismatches.append(f"{what}: expected {expected!r}, got {actual!r}")

    def expect_error(what: str, cls: type, call: Callable[[], Any]) -> Dict[str, Any]:
        try:
            call()
        except Exception as err:  # noqa: BLE001 (compared below)
            got = {"class": type(err).__name__, "message": str(err)}
            if not isinstance(err, cls):
                mismatches.append(f"{what}: expected {cls.__name__}, got {type(err).__name__}: {err}")
            return got
        mismatches.append(f"{what}: expected {cls.__name__}, got no error")
        return {"class": None}

    client = Granary.connect(
        api_key=args.api_key, ca_file=args.ca_file, project=project, timeout=args.timeout, **{s: getattr(args, s) for s in SERVICES}
    )
    summary["addresses"] = client.addresses
    summary["api_key_source"] = client.api_key_source
    created: List[str] = []
    code = 2
    try:
        # 1. grpc.health.v1 on each service.
        try:
            summary["health"] = client.wait_until_serving(timeout=30)
        except TimeoutError:
            summary["health"] = client.health()
        for service, status in summary["health"].items():
            expect(f"health of {service}", status, "SERVING")
        if mismatches:
            raise Mismatch()

        # 2. Definitions, with the generated stubs through client.call (the client's timeout,
        #    retries and errors). The first call that needs the key shows whether it was accepted.
        md = client.metadata
        client.call(md.CreateProject, md_pb.CreateProjectRequest(name=project, description="Python client smoke test"))
        created.append("project")
        S = types_pb2.ScalarType
        columns = [
            ("id", S.SCALAR_TYPE_INT64, False),
            ("event_time", S.SCALAR_TYPE_TIMESTAMP, False),
            ("score", S.SCALAR_TYPE_DOUBLE, False),
            ("segment", S.SCALAR_TYPE_STRING, False),
            ("active", S.SCALAR_TYPE_BOOL, False),
            ("visits", S.SCALAR_TYPE_INT32, False),
            ("signup", S.SCALAR_TYPE_DATE, False),
            ("tags", S.SCALAR_TYPE_STRING, True),
        ]
        client.call(
            md.CreateFeatureGroup,
            md_pb.CreateFeatureGroupRequest(
                feature_group=feature_group_pb2.FeatureGroup(
                    project=project,
                    name=group,
                    version=1,
                    columns=[types_pb2.Column(name=n, type=types_pb2.DataType(scalar=s, list=lst)) for n, s, lst in columns],
                    primary_key=["id"],
                    event_time="event_time",
                    online_enabled=True,
                )
            ),
        )
        created.append("group")
        features = [n for n, _, _ in columns if n not in ("id", "event_time")]
        client.call(
            md.CreateFeatureView,
            md_pb.CreateFeatureViewRequest(
                feature_view=feature_view_pb2.FeatureView(
                    project=project,
                    name=view,
                    version=1,
                    query=feature_view_pb2.Query(
                        feature_group=types_pb2.FeatureGroupRef(name=group, version=1),
                        selection=feature_view_pb2.Selection(mode=feature_view_pb2.SELECTION_MODE_INCLUDE, columns=features),
                    ),
                    on_demand_features=[
                        feature_view_pb2.OnDemandFeature(
                            name="boosted",
                            type=types_pb2.DataType(scalar=S.SCALAR_TYPE_DOUBLE),
                            expression="score + bonus",
                            request_parameters=[feature_view_pb2.RequestParameter(name="bonus", type=types_pb2.DataType(scalar=S.SCALAR_TYPE_DOUBLE))],
                        )
                    ],
                )
            ),
        )
        created.append("view")

        # 3. Rows from dicts with Python types; None is a null, a key left out too.
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        rows = [
            {"id": 1, "event_time": now, "score": 0.5, "segment": "gold", "active": True, "visits": 7, "signup": dt.date(2020, 2, 29), "tags": ["a", "b"]},
            {"id": 2, "event_time": now, "score": 1.25, "segment": "silver", "active": False, "visits": 0, "signup": None, "tags": []},
            {"id": 3, "event_time": now, "score": None, "segment": "bronze"},
        ]
        written = client.write_rows(group, 1, rows, durability="committed")
        summary["written"] = written.written
        expect("written", (written.written, written.ignored), (3, 0))

        # 4. Lookups as dicts: keys 1, 3 and 42 (no such row: None values, status NOT_FOUND).
        vectors = client.get_feature_vectors_with_status(view, 1, [{"id": 1}, {"id": 3}, {"id": 42}], request_parameters=[{"bonus": 1.0}] * 3)
        summary["vectors"] = vectors.rows
        summary["statuses"] = vectors.statuses
        expect("columns", list(vectors.rows[0]), features + ["boosted"])
        expect("row 1", vectors.rows[0], {**{k: v for k, v in rows[0].items() if k in features}, "boosted": 1.5})
        expect("row 3", {k: vectors.rows[1][k] for k in ("score", "segment", "active", "tags")}, {"score": None, "segment": "bronze", "active": None, "tags": None})
        expect("statuses of row 3", {k: vectors.statuses[1][k] for k in ("score", "segment")}, {"score": "NULL", "segment": "PRESENT"})
        expect("row 42", vectors.rows[2], {name: None for name in features + ["boosted"]})
        expect("statuses of row 42", vectors.statuses[2]["segment"], "NOT_FOUND")

        one = client.get_feature_vector(view, 1, {"id": 2}, passed_features={"score": 9.5}, request_parameters={"bonus": 0.5})
        summary["vector"] = one
        expect("one vector with a passed feature", (one["score"], one["segment"], one["boosted"], one["signup"]), (9.5, "silver", 10.0, None))

        # 5. Errors: each failure comes back as its own GranaryError, with the server's message.
        summary["errors"] = {
            "no such view": expect_error("no such view", NotFoundError, lambda: client.get_feature_vector("no_such_view", 1, {"id": 1})),
            "no event time": expect_error("no event time", InvalidArgumentError, lambda: client.write_rows(group, 1, [{"id": 4, "score": 1.0}])),
            "wrong type": expect_error("wrong type", TypeError, lambda: client.write_rows(group, 1, [{"id": "four", "event_time": now}])),
            "unknown key": expect_error("unknown key", ValueError, lambda: client.get_feature_vector(view, 1, {"ID": 1})),
        }
        expect("no event time says why", "event_time" in summary["errors"]["no event time"]["message"], True)
        a = client.addresses
        with Granary.connect(
            api_key="grn_0000000000000000_not_a_key", project=project, metadata=a["metadata"], online=a["online"], offline=a["offline"], registry=a["registry"]
        ) as stranger:
            summary["errors"]["bad key"] = expect_error("bad key", UnauthenticatedError, lambda: stranger.get_feature_vector(view, 1, {"id": 1}))
        code = 1 if mismatches else 0
    except Mismatch:
        code = 1
    except GranaryError as err:
        summary["error"] = f"{err.code.name}: {err.message}"
        if err.hint:
            summary["hint"] = err.hint
    except Exception as err:  # noqa: BLE001 (reported in the summary)
        summary["error"] = f"{type(err).__name__}: {err}"
        summary["traceback"] = traceback.format_exc()
    finally:
        if not args.keep and created:
            summary["cleanup"] = cleanup(client, project, group, view, created, args.timeout)
        client.close()

    summary["ok"] = code == 0
    print(json.dumps(summary, indent=2, default=str))
    return code


def cleanup(client: Granary, project: str, group: str, view: str, created: List[str], timeout: float) -> str:
    """Deletes what the run created, newest first; best effort, reported but never fatal."""
    md = client.metadata
    calls = {
        "view": lambda: md.DeleteFeatureView(md_pb.DeleteFeatureViewRequest(project=project, name=view, version=1), timeout=timeout),
        "group": lambda: md.DeleteFeatureGroup(md_pb.DeleteFeatureGroupRequest(project=project, name=group, version=1), timeout=timeout),
        "project": lambda: md.DeleteProject(md_pb.DeleteProjectRequest(name=project), timeout=timeout),
    }
    what = ""
    try:
        for what in reversed(created):
            calls[what]()
        return "deleted"
    except grpc.RpcError as err:
        return f"{what}: {err.code().name}: {err.details()}"  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
