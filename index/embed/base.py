"""The embedder interface: every backend turns texts into L2-normalised float32 vectors."""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import Callable

import numpy as np

from ..errors import Unavailable

__all__ = ["Embedder", "EmbedderError", "Progress"]

QUERY_CACHE = 1024  # query vectors kept per embedder (least recently used dropped first)

Progress = Callable[[int, int], None]
"""Called as progress(done, total) after each batch."""


class EmbedderError(Unavailable):
    """A backend cannot be created or used; the message says why and how to fix it."""


class Embedder(ABC):
    """One interface for every backend (see factory.create_embedder).

    Subclasses implement `_encode` for one batch; batching, progress and input checks live here,
    so `embed_passages` and `embed_query` are thin wrappers over one encode.
    """

    name: str  # stable id recorded in the index manifest
    dimension: int
    max_tokens: int  # tokens the model attends to in one window
    batch_size: int

    @abstractmethod
    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        """Embed one batch; returns (len(texts), dimension) float32, L2-normalised."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` as a passage (prefix and special tokens included)."""

    @abstractmethod
    def config(self) -> dict:
        """Everything create_embedder needs to rebuild this embedder, defaults resolved."""

    def embed_passages(
        self,
        texts: list[str],
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Embed passages in batches; returns (len(texts), dimension) float32."""
        texts = _check_texts(texts)
        size = self.batch_size if batch_size is None else batch_size
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {size!r}")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), size):
            batch = texts[start : start + size]
            out[start : start + len(batch)] = self._encode(batch, query=False)
            if progress is not None:
                progress(start + len(batch), len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query; returns (dimension,) float32, read-only.

        Repeated queries come from an LRU cache of QUERY_CACHE vectors (a search followed by an
        answer, the app's reruns, the same question asked again)."""
        if not isinstance(text, str):
            raise TypeError(f"embed_query expects a str, got {type(text).__name__}")
        cache, lock = self._query_cache()
        with lock:
            vec = cache.get(text)
            if vec is not None:
                cache.move_to_end(text)
                return vec
        vec = np.ascontiguousarray(self._encode([text], query=True)[0], dtype=np.float32)
        vec.setflags(write=False)
        with lock:
            cache[text] = vec
            while len(cache) > QUERY_CACHE:
                cache.popitem(last=False)
        return vec

    def clear_query_cache(self) -> None:
        """Forget cached query vectors (benchmarks time cold queries)."""
        cache, lock = self._query_cache()
        with lock:
            cache.clear()

    def _query_cache(self) -> tuple[OrderedDict, threading.Lock]:
        state = self.__dict__.get("_qcache")
        if state is None:
            with _CACHE_INIT:
                state = self.__dict__.setdefault("_qcache", (OrderedDict(), threading.Lock()))
        return state

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed several queries in one batch; returns (len(texts), dimension) float32."""
        texts = _check_texts(texts)
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(self._encode(texts, query=True), dtype=np.float32)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dimension={self.dimension})"


_CACHE_INIT = threading.Lock()


def _check_texts(texts) -> list[str]:
    # A bare str would be embedded character by character; refuse it.
    if isinstance(texts, str):
        raise TypeError("embed_passages expects a list of str, got a single str")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")
    return texts
