"""Exceptions of the Python client: one ``GranaryError`` subclass per gRPC status a caller handles
differently, mapped from ``grpc.RpcError`` in one place (``from_rpc_error``).

    try:
        client.get_feature_vector("fraud", 1, {"cc_num": 1})
    except NotFoundError as err:       # no such view (a missing entity is data, not an error)
        print(err.code, err.message)   # StatusCode.NOT_FOUND, the server's message

``err.message`` is the server's message as sent; ``err.method`` the RPC ("/granary.online.v1.
OnlineService/GetFeatureVectors"); the original ``grpc.RpcError`` is ``err.__cause__``.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

import grpc

__all__ = [
    "GranaryError",
    "CancelledError",
    "UnknownError",
    "InvalidArgumentError",
    "DeadlineExceededError",
    "NotFoundError",
    "AlreadyExistsError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "FailedPreconditionError",
    "AbortedError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnavailableError",
    "DataLossError",
    "UnauthenticatedError",
    "from_rpc_error",
]


class GranaryError(Exception):
    """An RPC that failed: its status `code`, the server's `message` and the `method` called."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, *, code: Optional[grpc.StatusCode] = None, method: Optional[str] = None, hint: Optional[str] = None) -> None:
        if code is not None:
            self.code = code
        self.message = message
        self.method = method
        self.hint = hint
        text = f"{self.code.name}: {message}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class CancelledError(GranaryError):
    code = grpc.StatusCode.CANCELLED


class UnknownError(GranaryError):
    code = grpc.StatusCode.UNKNOWN


class InvalidArgumentError(GranaryError):
    """The request is wrong (a bad name, a column of the wrong type...): fix it, never retry."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(GranaryError):
    """The call's timeout passed. Reads were retried; a write may or may not have been applied."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(GranaryError):
    """No such project, group, view, model or version."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(GranaryError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(GranaryError):
    """The API key is valid but lacks the role this call needs."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(GranaryError):
    """A message over the size limit, a full disk, or a rate limit."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(GranaryError):
    """The system is not in the state the call needs (e.g. a view whose transformations need a
    training dataset that does not exist yet)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class AbortedError(GranaryError):
    """A conflict with a concurrent change."""

    code = grpc.StatusCode.ABORTED


class OutOfRangeError(GranaryError):
    code = grpc.StatusCode.OUT_OF_RANGE


class UnimplementedError(GranaryError):
    code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(GranaryError):
    code = grpc.StatusCode.INTERNAL


class UnavailableError(GranaryError):
    """The service could not be reached (down, restarting, behind on its write log); raised only
    once the retries are spent."""

    code = grpc.StatusCode.UNAVAILABLE


class DataLossError(GranaryError):
    code = grpc.StatusCode.DATA_LOSS


class UnauthenticatedError(GranaryError):
    """No API key was sent, or it is unknown or revoked; `hint` says where the key came from."""

    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE: Dict[grpc.StatusCode, Type[GranaryError]] = {
    cls.code: cls
    for cls in (
        CancelledError,
        UnknownError,
        InvalidArgumentError,
        DeadlineExceededError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        ResourceExhaustedError,
        FailedPreconditionError,
        AbortedError,
        OutOfRangeError,
        UnimplementedError,
        InternalError,
        UnavailableError,
        DataLossError,
        UnauthenticatedError,
    )
}


def from_rpc_error(err: grpc.RpcError, method: Optional[str] = None, hint: Optional[str] = None) -> GranaryError:
    """The GranaryError of a failed call (raise it `from err` to keep the original)."""
    code_of = getattr(err, "code", None)
    code = code_of() if callable(code_of) else grpc.StatusCode.UNKNOWN
    details_of = getattr(err, "details", None)
    message = (details_of() if callable(details_of) else None) or str(err)
    cls = _BY_CODE.get(code, GranaryError)
    return cls(message, code=code, method=method, hint=hint if code == grpc.StatusCode.UNAUTHENTICATED else None)
