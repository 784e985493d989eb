"""Who is calling (``Authorization: Bearer TOKEN``, else anonymous) and how often.

A token maps to its account through the library (only the token's hash is stored). A missing header
is an anonymous caller; a header that is not a valid bearer token is refused (401), never read as
anonymous. Requests are counted per token, or per client address when anonymous, in a token bucket
of ``VANBAN_RATE_PER_SECOND`` per second (a burst of as many); the count is per server process.
"""
from __future__ import annotations

import hashlib
import threading
import time

from index.access import ANYONE, Principal
from index.errors import RateLimited, Unauthorized
from index.settings import settings

__all__ = ["RateLimiter", "principal_from_header"]


class RateLimiter:
    """Token buckets keyed by caller; ``hit(key)`` raises RateLimited when the caller's bucket is empty."""

    MAX_KEYS = 100_000   # idle buckets are dropped past this many (full buckets are as good as new)

    def __init__(self):
        self._buckets: dict[str, tuple[float, float]] = {}   # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def hit(self, key: str, rate: int | None = None) -> None:
        rate = rate or settings().rate_per_second
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(rate), now))
            tokens = min(float(rate), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited(f"Quá {rate} yêu cầu mỗi giây; hãy thử lại sau giây lát.", field="Authorization")
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self.MAX_KEYS:
                self._forget(now)

    def _forget(self, now: float) -> None:
        for key, (_, last) in list(self._buckets.items()):
            if now - last > 2.0:
                del self._buckets[key]


def principal_from_header(library, header: str | None, client: str | None, limiter: RateLimiter) -> Principal:
    """The caller of a request, counted against its rate limit first."""
    if header is None:
        limiter.hit(f"addr:{client or '?'}")
        return ANYONE
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        limiter.hit(f"addr:{client or '?'}")
        raise Unauthorized("Tiêu đề Authorization phải có dạng “Bearer MÃ_TRUY_CẬP”.", field="Authorization")
    limiter.hit("token:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:32])
    return library.principal_for_token(token)
