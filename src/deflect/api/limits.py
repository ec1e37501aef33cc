"""Request and cost budgets in fixed one-minute windows: in process, or in Redis so that every worker and replica
counts against the same budget. A refused request learns how long to wait (Retry-After).

A bucket is whatever is counted: an API key's requests, one client address's requests or characters, one
conversation's messages."""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

WINDOW_SECONDS = 60


class RateLimiter(Protocol):
    def take(self, bucket: str, amount: int, limit: int) -> float | None:
        """Count `amount` (requests, characters) against `bucket`; None while the window's total stays within
        `limit`, else the seconds until the next window."""
        ...


def _window(now: float) -> tuple[int, float]:
    window = int(now // WINDOW_SECONDS)
    return window, (window + 1) * WINDOW_SECONDS - now


def _verdict(total: int, limit: int, remaining: float) -> float | None:
    return None if total <= limit else max(1.0, math.ceil(remaining))


class MemoryRateLimiter:
    """Keeps the current window's totals only, so buckets named by visitors cannot grow it past one minute's."""

    def __init__(self) -> None:
        self._window = -1
        self._totals: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, bucket: str, amount: int, limit: int) -> float | None:
        window, remaining = _window(time.time())
        with self._lock:
            if window != self._window:
                self._window, self._totals = window, {}
            total = self._totals[bucket] = self._totals.get(bucket, 0) + amount
        return _verdict(total, limit, remaining)


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str = "deflect:"):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.prefix = prefix

    def take(self, bucket: str, amount: int, limit: int) -> float | None:
        window, remaining = _window(time.time())
        key = f"{self.prefix}rate:{bucket}:{window}"
        pipeline = self.client.pipeline(transaction=True)
        pipeline.incrby(key, amount)
        pipeline.expire(key, WINDOW_SECONDS * 2)
        total, _ = pipeline.execute()
        return _verdict(int(total), limit, remaining)
