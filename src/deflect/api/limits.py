"""Per-key request rate limits in fixed one-minute windows: in process, or in Redis so that every worker and
replica counts against the same budget. A refused request learns how long to wait (Retry-After)."""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

WINDOW_SECONDS = 60


class RateLimiter(Protocol):
    def hit(self, key_id: str, limit: int) -> float | None:
        """Count one request; None when allowed, else the seconds until the key may try again."""
        ...


def _window(now: float) -> tuple[int, float]:
    window = int(now // WINDOW_SECONDS)
    return window, (window + 1) * WINDOW_SECONDS - now


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # key → (window, requests in it)
        self._lock = threading.Lock()

    def hit(self, key_id: str, limit: int) -> float | None:
        window, remaining = _window(time.time())
        with self._lock:
            counted_window, count = self._counts.get(key_id, (window, 0))
            count = count + 1 if counted_window == window else 1
            self._counts[key_id] = (window, count)
        return None if count <= limit else max(1.0, math.ceil(remaining))


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str = "deflect:"):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.prefix = prefix

    def hit(self, key_id: str, limit: int) -> float | None:
        window, remaining = _window(time.time())
        key = f"{self.prefix}rate:{key_id}:{window}"
        pipeline = self.client.pipeline(transaction=True)
        pipeline.incr(key)
        pipeline.expire(key, WINDOW_SECONDS * 2)
        count, _ = pipeline.execute()
        return None if int(count) <= limit else max(1.0, math.ceil(remaining))
