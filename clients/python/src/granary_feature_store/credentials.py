"""Where the Python client finds its API key and CA, the same way the TypeScript SDK and the CLI do.

The key: GRANARY_API_KEY; else the file GRANARY_API_KEY_FILE names (which must exist); else
`<GRANARY_DATA_DIR or .granary>/admin.key`, the admin key `npm start` writes on first start, when it
exists. It is sent as `authorization: Bearer <key>` on every call by a client interceptor, which
works on cleartext channels too (grpc.metadata_call_credentials needs a secure channel).
"""

from __future__ import annotations

import collections
import os
from typing import Any, Callable, Iterator, Mapping, Optional, Tuple

import grpc

__all__ = ["admin_key_file", "locate_api_key", "resolve_api_key", "read_ca", "split_address", "BearerInterceptor"]


def admin_key_file(env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None) -> str:
    """`<GRANARY_DATA_DIR or .granary>/admin.key`, absolute (relative to `cwd`)."""
    env = os.environ if env is None else env
    return os.path.abspath(os.path.join(cwd or os.getcwd(), env.get("GRANARY_DATA_DIR") or ".granary", "admin.key"))


def locate_api_key(env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None) -> Tuple[Optional[str], Optional[str]]:
    """(key, where it came from), or (None, None) when there is none. A key file that exists but
    cannot be read, or is empty, raises: sending no key would hide the cause behind UNAUTHENTICATED."""
    env = os.environ if env is None else env
    cwd = cwd or os.getcwd()
    from_env = (env.get("GRANARY_API_KEY") or "").strip()
    if from_env:
        return from_env, "GRANARY_API_KEY"
    named = env.get("GRANARY_API_KEY_FILE")
    if named:
        path = os.path.abspath(os.path.join(cwd, named))
        key = _read_key_file(path, "GRANARY_API_KEY_FILE")
        if key is None:
            raise FileNotFoundError(f"GRANARY_API_KEY_FILE names {path}, which does not exist")
        return key, f"GRANARY_API_KEY_FILE ({path})"
    path = admin_key_file(env, cwd)
    key = _read_key_file(path, "the admin key file")
    return (key, path) if key is not None else (None, None)


def resolve_api_key(env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None) -> Optional[str]:
    """The API key of this environment (see locate_api_key), or None."""
    return locate_api_key(env, cwd)[0]


def _read_key_file(path: str, what: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as f:
            key = f.read().strip()
    except FileNotFoundError:
        return None
    except PermissionError as err:
        raise PermissionError(f"cannot read {what} {path}: permission denied (it is mode 0600: run as its owner, or set GRANARY_API_KEY)") from err
    if not key:
        raise ValueError(f"{what} {path} is empty")
    return key


def read_ca(ca_file: Optional[str], env: Optional[Mapping[str, str]] = None) -> Optional[bytes]:
    """The PEM bytes of the CA to trust on https:// addresses: `ca_file`, else GRANARY_TLS_CA; None
    means gRPC's default roots."""
    env = os.environ if env is None else env
    path = ca_file or env.get("GRANARY_TLS_CA") or None
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


def split_address(address: str) -> Tuple[bool, str]:
    """(tls, "host:port") of "host:port", "http://host:port" or "https://host:port"."""
    for scheme, tls in (("https://", True), ("http://", False)):
        if address.startswith(scheme):
            return tls, address[len(scheme):].rstrip("/")
    if "://" in address:
        raise ValueError(f'address "{address}" must be host:port, http://host:port or https://host:port')
    return False, address


class _CallDetails(
    collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class BearerInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer <key>` to the metadata of every call."""

    def __init__(self, api_key: str) -> None:
        self._header = ("authorization", f"Bearer {api_key}")

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [m for m in (details.metadata or ()) if m[0] != "authorization"]
        metadata.append(self._header)
        return _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Iterator[Any]) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Iterator[Any]) -> Any:
        return continuation(self._details(details), requests)
