"""The client's pieces that need no server: errors, retries, request rows, configuration."""

from __future__ import annotations

import os
import tempfile
import unittest
from typing import Any, Dict, List, Optional, Tuple

import grpc

import granary_feature_store as gfs
from granary_feature_store.client import entity_rows
from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2
from granary_feature_store.retry import RetryPolicy, backoff_delay, call_with_retries
from granary_feature_store.values import decode

S = types_pb2.ScalarType


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


class Errors(unittest.TestCase):
    def test_every_status_has_its_own_class_carrying_the_servers_message(self) -> None:
        for code in grpc.StatusCode:
            if code == grpc.StatusCode.OK:
                continue
            with self.subTest(code=code.name):
                err = gfs.from_rpc_error(FakeRpcError(code, "the server said so"), "/granary.online.v1.OnlineService/WriteRows")
                self.assertIsInstance(err, gfs.GranaryError)
                self.assertIsNot(type(err), gfs.GranaryError)
                self.assertEqual((err.code, err.message, err.method), (code, "the server said so", "/granary.online.v1.OnlineService/WriteRows"))
                self.assertEqual(str(err), f"{code.name}: the server said so")

    def test_names(self) -> None:
        self.assertIsInstance(gfs.from_rpc_error(FakeRpcError(grpc.StatusCode.NOT_FOUND)), gfs.NotFoundError)
        self.assertIsInstance(gfs.from_rpc_error(FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT)), gfs.InvalidArgumentError)
        self.assertIsInstance(gfs.from_rpc_error(FakeRpcError(grpc.StatusCode.UNAVAILABLE)), gfs.UnavailableError)
        self.assertIsInstance(gfs.from_rpc_error(FakeRpcError(grpc.StatusCode.PERMISSION_DENIED)), gfs.PermissionDeniedError)

    def test_only_unauthenticated_carries_the_key_hint(self) -> None:
        hint = "no API key was found"
        self.assertEqual(str(gfs.from_rpc_error(FakeRpcError(grpc.StatusCode.UNAUTHENTICATED, "missing key"), None, hint)), f"UNAUTHENTICATED: missing key ({hint})")
        self.assertIsNone(gfs.from_rpc_error(FakeRpcError(grpc.StatusCode.NOT_FOUND, "x"), None, hint).hint)


class Retries(unittest.TestCase):
    def run_calls(self, codes: List[grpc.StatusCode], idempotent: bool, attempts: int = 4) -> tuple:
        calls: List[int] = []
        sleeps: List[float] = []

        def call() -> str:
            calls.append(1)
            if len(calls) <= len(codes):
                raise FakeRpcError(codes[len(calls) - 1])
            return "ok"

        try:
            result = call_with_retries(call, idempotent=idempotent, policy=RetryPolicy(attempts=attempts), sleep=sleeps.append, rand=lambda: 1.0)
        except grpc.RpcError as err:
            result = err.code().name
        return result, len(calls), sleeps

    def test_unavailable_is_retried_with_exponential_backoff(self) -> None:
        self.assertEqual(self.run_calls([grpc.StatusCode.UNAVAILABLE] * 3, idempotent=False), ("ok", 4, [0.1, 0.2, 0.4]))

    def test_the_last_error_is_raised_once_the_attempts_are_spent(self) -> None:
        self.assertEqual(self.run_calls([grpc.StatusCode.UNAVAILABLE] * 5, idempotent=True, attempts=3), ("UNAVAILABLE", 3, [0.1, 0.2]))

    def test_deadline_exceeded_is_retried_on_idempotent_reads_only(self) -> None:
        self.assertEqual(self.run_calls([grpc.StatusCode.DEADLINE_EXCEEDED], idempotent=True)[:2], ("ok", 2))
        self.assertEqual(self.run_calls([grpc.StatusCode.DEADLINE_EXCEEDED], idempotent=False)[:2], ("DEADLINE_EXCEEDED", 1))

    def test_other_codes_fail_at_once(self) -> None:
        for code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.INTERNAL):
            self.assertEqual(self.run_calls([code], idempotent=True)[:2], (code.name, 1))

    def test_delays_are_jittered_in_the_upper_half_and_capped(self) -> None:
        policy = RetryPolicy(initial_delay=0.1, max_delay=2.0)
        self.assertEqual(backoff_delay(1, policy, lambda: 0.0), 0.05)
        self.assertEqual(backoff_delay(10, policy, lambda: 1.0), 2.0)


def view() -> feature_view_pb2.FeatureView:
    dtype = types_pb2.DataType
    return feature_view_pb2.FeatureView(
        name="fraud",
        version=1,
        serving_keys=[
            feature_view_pb2.ServingKey(name="cc_num", type=dtype(scalar=S.SCALAR_TYPE_INT64), required=True),
            feature_view_pb2.ServingKey(name="merchant", type=dtype(scalar=S.SCALAR_TYPE_STRING), required=False),
        ],
        output_columns=[feature_view_pb2.OutputColumn(name="amount", type=dtype(scalar=S.SCALAR_TYPE_DOUBLE))],
        on_demand_features=[
            feature_view_pb2.OnDemandFeature(
                name="over_limit", request_parameters=[feature_view_pb2.RequestParameter(name="limit", type=dtype(scalar=S.SCALAR_TYPE_INT32))]
            )
        ],
    )


class EntityRows(unittest.TestCase):
    def test_keys_passed_features_and_parameters_are_typed_by_the_view(self) -> None:
        rows = entity_rows(view(), [{"cc_num": 1}, {"cc_num": 2}], [{"amount": 3}, {}], [{"limit": 5}, {"limit": None}])
        self.assertEqual(rows.row_count, 2)
        self.assertEqual([c.name for c in rows.serving_keys], ["cc_num"])  # the optional key is left out
        self.assertEqual(rows.serving_keys[0].data.WhichOneof("values"), "int64s")
        self.assertEqual(decode(rows.passed_features[0].data), [3.0, None])
        self.assertEqual(rows.request_parameters[0].data.WhichOneof("values"), "int32s")
        self.assertEqual(decode(rows.request_parameters[0].data), [5, None])

    def test_mistakes_are_named(self) -> None:
        with self.assertRaisesRegex(ValueError, r'"cc" is not a serving key of view "fraud" \(serving keys: cc_num, merchant\)'):
            entity_rows(view(), [{"cc": 1}])
        with self.assertRaisesRegex(ValueError, 'serving key "cc_num" is missing: give cc_num'):
            entity_rows(view(), [{"merchant": "m"}])
        with self.assertRaisesRegex(ValueError, 'passed feature of view "fraud" "amt" is not one of: amount'):
            entity_rows(view(), [{"cc_num": 1}], [{"amt": 1.0}])
        with self.assertRaisesRegex(ValueError, "1 request_parameters rows for 2 entries"):
            entity_rows(view(), [{"cc_num": 1}, {"cc_num": 2}], None, [{"limit": 1}])
        with self.assertRaisesRegex(TypeError, "one dict per entry"):
            entity_rows(view(), [{"cc_num": 1}], {"amount": 1.0})  # type: ignore[arg-type]


class Connect(unittest.TestCase):
    def test_addresses_arguments_then_environment_then_defaults(self) -> None:
        env = {"GRANARY_ONLINE_ADDRESS": "online:9", "GRANARY_OFFLINE_ADDRESS": "offline:9"}
        with gfs.Granary.connect(metadata="meta:1", offline="off:1", env=env) as client:
            self.assertEqual(client.addresses, {"metadata": "meta:1", "online": "online:9", "offline": "off:1", "registry": "127.0.0.1:50054"})

    def test_api_key_argument_then_environment_then_files(self) -> None:
        with tempfile.TemporaryDirectory() as data:
            with open(os.path.join(data, "admin.key"), "w") as f:
                f.write("grn_admin\n")
            named = os.path.join(data, "named.key")
            with open(named, "w") as f:
                f.write("grn_named")
            cases: List[Tuple[Dict[str, Any], Dict[str, str], Optional[str]]] = [
                ({"api_key": "grn_arg"}, {"GRANARY_API_KEY": "grn_env"}, "the api_key argument"),
                ({}, {"GRANARY_API_KEY": "grn_env", "GRANARY_API_KEY_FILE": named}, "GRANARY_API_KEY"),
                ({}, {"GRANARY_API_KEY_FILE": named, "GRANARY_DATA_DIR": data}, f"GRANARY_API_KEY_FILE ({named})"),
                ({}, {"GRANARY_DATA_DIR": data}, os.path.join(data, "admin.key")),
                ({}, {"GRANARY_DATA_DIR": os.path.join(data, "none")}, None),
            ]
            for kwargs, env, source in cases:
                with self.subTest(source=source):
                    with gfs.Granary.connect(env=env, **kwargs) as client:
                        self.assertEqual(client.api_key_source, source)

    def test_project_from_argument_or_environment_and_required_for_calls(self) -> None:
        self.assertEqual(gfs.Granary.connect(env={"GRANARY_PROJECT": "fraud"}).project, "fraud")
        self.assertEqual(gfs.Granary.connect(project="p", env={"GRANARY_PROJECT": "fraud"}).project, "p")
        with self.assertRaisesRegex(ValueError, "no project"):
            gfs.Granary.connect(env={}).feature_view("v", 1)

    def test_health_never_raises(self) -> None:
        # A port nothing listens on (the discard port): each service is reported UNREACHABLE.
        with gfs.Granary.connect("127.0.0.1:9", env={}) as client:
            self.assertEqual(client.health(timeout=1.0), {s: "UNREACHABLE" for s in gfs.SERVICES})


if __name__ == "__main__":
    unittest.main()
