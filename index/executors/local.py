"""The default executor: the per-file work in the writer's own process, one file at a time."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from .base import Executor, FileResult, FileTask, process_one

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    name = "local"

    def process(self, tasks: list[FileTask], embedder) -> Iterator[FileResult]:
        for task in tasks:
            yield process_one(task, embedder)

    def embed(self, texts: list[str], embedder, batch: int = 256) -> Iterator[np.ndarray]:
        for i in range(0, len(texts), batch):
            yield embedder.embed_passages(texts[i:i + batch])
