"""Where conversations live between requests: a small interface, kept in this process by default (nothing to
set up), or in Redis when several `kb serve` processes share them (`kb serve --store redis://host:6379/0`).

Values are JSON objects. Every store is bounded: entries expire `max_age` seconds after their last write,
an entry larger than `max_bytes` is refused (`TooLarge`), and past `max_items` the entries written longest
ago are dropped first. `update` reads, changes and writes one entry under a lock, so two requests on one
conversation take turns instead of one losing the other's turn.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

Value = dict[str, Any]


@dataclass(frozen=True)
class Bounds:
    """How much a store keeps: entries, seconds since the last write, and bytes per entry (as JSON)."""

    max_items: int = 2_000
    max_age: float = 24 * 3600.0
    max_bytes: int = 8 * 1024 * 1024


class TooLarge(ValueError):
    """An entry larger than the store's `max_bytes`."""


class Store(Protocol):
    """What the API and the chat need of a store."""

    bounds: Bounds

    def get(self, key: str) -> Value | None: ...

    def put(self, key: str, value: Value) -> None: ...

    def delete(self, key: str) -> bool: ...

    def update(self, key: str, change: Callable[[Value | None], Value | None]) -> Value | None: ...

    def close(self) -> None: ...


def _encoded(value: Value, bounds: Bounds) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode("utf-8")) > bounds.max_bytes:
        raise TooLarge(f"more than {bounds.max_bytes // 1024} KB to keep")
    return text


class MemoryStore:
    """Entries in this process (the default): an ordered dict, oldest write first."""

    def __init__(self, bounds: Bounds | None = None, clock: Callable[[], float] = time.monotonic):
        self.bounds = bounds or Bounds()
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.RLock()
        self._keys: dict[str, threading.Lock] = {}

    def get(self, key: str) -> Value | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if self._clock() - found[0] > self.bounds.max_age:
                del self._items[key]
                return None
            value: Value = json.loads(found[1])
            return value

    def put(self, key: str, value: Value) -> None:
        text = _encoded(value, self.bounds)
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (self._clock(), text)
            now = self._clock()
            while self._items:
                oldest, (written, _) = next(iter(self._items.items()))
                if len(self._items) <= self.bounds.max_items and now - written <= self.bounds.max_age:
                    break
                del self._items[oldest]

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    def update(self, key: str, change: Callable[[Value | None], Value | None]) -> Value | None:
        with self._held(key):
            new = change(self.get(key))
            if new is not None:
                self.put(key, new)
            return new

    @contextlib.contextmanager
    def _held(self, key: str) -> Iterator[None]:
        with self._lock:
            lock = self._keys.setdefault(key, threading.Lock())
        with lock:
            yield

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        with self._lock:
            self._items.clear()


class RedisStore:
    """Entries in Redis, shared by every process given the same URL. Each entry is a string with an expiry;
    a sorted set of keys by write time drops the oldest past `max_items`; `update` holds a Redis lock."""

    PREFIX = "oscar:"

    def __init__(self, url: str, bounds: Bounds | None = None):
        import redis

        self.bounds = bounds or Bounds()
        self.url = url
        self._redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self._redis.ping()  # a wrong URL is reported at start, not at the first request

    def _key(self, key: str) -> str:
        return self.PREFIX + key

    def get(self, key: str) -> Value | None:
        raw = self._redis.get(self._key(key))
        if raw is None:
            return None
        value: Value = json.loads(raw)
        return value

    def put(self, key: str, value: Value) -> None:
        text = _encoded(value, self.bounds)
        index = self.PREFIX + "index"
        pipe = self._redis.pipeline()
        pipe.set(self._key(key), text, ex=max(1, int(self.bounds.max_age)))
        pipe.zadd(index, {key: time.time()})
        pipe.zremrangebyscore(index, "-inf", time.time() - self.bounds.max_age)
        pipe.zcard(index)
        count = pipe.execute()[-1]
        if count > self.bounds.max_items:
            popped: Any = self._redis.zpopmin(index, count - self.bounds.max_items)
            for old, _score in popped:
                self._redis.delete(self._key(old.decode() if isinstance(old, bytes) else str(old)))

    def delete(self, key: str) -> bool:
        self._redis.zrem(self.PREFIX + "index", key)
        return bool(self._redis.delete(self._key(key)))

    def update(self, key: str, change: Callable[[Value | None], Value | None]) -> Value | None:
        with self._redis.lock(self.PREFIX + "lock:" + key, timeout=120, blocking_timeout=120):
            new = change(self.get(key))
            if new is not None:
                self.put(key, new)
            return new

    def close(self) -> None:
        self._redis.close()


def open_store(url: str | None, bounds: Bounds | None = None) -> Store:
    """The store a URL names: none (or `memory:`) keeps entries in this process, `redis://...` in Redis.
    ValueError says what is wrong with a URL that can't be used (unknown scheme, Redis not reachable)."""
    if not url or url == "memory:":
        return MemoryStore(bounds)
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            return RedisStore(url, bounds)
        except Exception as exc:  # noqa: BLE001 - any connection failure is reported the same way
            raise ValueError(f"cannot reach the store at {url}: {exc}") from None
    raise ValueError(f"unknown store {url!r}: give redis://host:port/db, or nothing to keep conversations in memory")
