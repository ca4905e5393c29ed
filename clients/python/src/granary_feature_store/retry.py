"""When a failed call is tried again: the same policy as the TypeScript SDK (libs/client/src/call-policy.ts).

UNAVAILABLE (a service restarting, a connection reset, a replica behind on its write log) is
retried for every call this client makes: its reads change nothing, and its writes (WriteRows) are
upserts keyed by primary key and event time, which give the same rows when repeated.
DEADLINE_EXCEEDED is retried on idempotent reads only: a write that timed out may have been
applied, and the caller must decide. Every attempt has the call's full timeout.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import grpc

__all__ = ["RetryPolicy", "backoff_delay", "call_with_retries"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` in all, the first included; the delay before retry n is drawn from the upper half
    of min(max_delay, initial_delay * 2**(n-1)) seconds (jittered, so clients do not retry in step)."""

    attempts: int = 4
    initial_delay: float = 0.1
    max_delay: float = 2.0


def backoff_delay(retry: int, policy: RetryPolicy = RetryPolicy(), rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `retry` (1-based)."""
    ceiling = min(policy.max_delay, policy.initial_delay * 2 ** (retry - 1))
    return ceiling / 2 + rand() * (ceiling / 2)


def retryable(code: grpc.StatusCode, idempotent: bool) -> bool:
    return code == grpc.StatusCode.UNAVAILABLE or (idempotent and code == grpc.StatusCode.DEADLINE_EXCEEDED)


def call_with_retries(
    call: Callable[[], T],
    *,
    idempotent: bool,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
) -> T:
    """`call()` until it succeeds, fails with a code that is not retried, or the attempts are spent;
    the last grpc.RpcError is raised as is."""
    attempts = max(1, policy.attempts)
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except grpc.RpcError as err:
            code = err.code() if callable(getattr(err, "code", None)) else grpc.StatusCode.UNKNOWN  # type: ignore[attr-defined]
            if attempt >= attempts or not retryable(code, idempotent):
                raise
        sleep(backoff_delay(attempt, policy, rand))
    raise AssertionError("unreachable")
