"""Granary, the feature store, from Python: online writes and lookups as dicts, health, retries
and typed errors over gRPC, with no pyarrow. The generated messages and stubs of every service
are under ``granary_feature_store.proto`` (``proto/<path>.proto`` -> ``granary_feature_store.proto.<path>_pb2``).

    from granary_feature_store import Granary

    with Granary.connect(project="fraud") as client:
        client.write_rows("card_aggs", 1, [{"cc_num": 1, "ts": now, "spend_1h": 12.5}])
        print(client.get_feature_vector("fraud_view", 1, {"cc_num": 1}))
        print(client.health())
"""

from granary_feature_store.client import DEFAULT_ADDRESSES, SERVICE_NAMES, SERVICES, Granary, VectorsWithStatus, WriteResult, connect
from granary_feature_store.credentials import locate_api_key, resolve_api_key
from granary_feature_store.errors import (
    AbortedError,
    AlreadyExistsError,
    CancelledError,
    DataLossError,
    DeadlineExceededError,
    FailedPreconditionError,
    GranaryError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
    from_rpc_error,
)
from granary_feature_store.retry import RetryPolicy

__version__ = "0.2.0"

__all__ = [
    "DEFAULT_ADDRESSES",
    "SERVICES",
    "SERVICE_NAMES",
    "Granary",
    "RetryPolicy",
    "VectorsWithStatus",
    "WriteResult",
    "connect",
    "locate_api_key",
    "resolve_api_key",
    "from_rpc_error",
    "GranaryError",
    "AbortedError",
    "AlreadyExistsError",
    "CancelledError",
    "DataLossError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
]
