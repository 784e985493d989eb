"""The executor interface: who does the per-file work of an ingest (load, clean, metadata, references,
chunking, segmentation, embedding). The writer in ``index.build`` stays one: it takes results in file
order and commits each file in its own transaction, whatever executor produced them."""
from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ingest.chunking import with_context
from ingest.model import Document, IngestError
from ingest.pipeline import R_UNEXPECTED, process_file

__all__ = ["Executor", "FileTask", "FileResult", "process_one"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileTask:
    """One file to understand: its catalogue key (the resolved path), content hash and size."""
    key: str
    sha256: str
    size: int


@dataclass
class FileResult:
    """What the writer commits for one file: a document with one vector per passage, or the reason
    it failed (Vietnamese, user-facing). ``embedder`` names the model that made the vectors;
    ``seconds`` and ``cpu_seconds`` are the worker's wall and CPU time on the file (what per-worker
    rates are measured from; CPU time counts every thread of the worker's process)."""
    key: str
    doc: Document | None = None
    vectors: np.ndarray | None = None
    error: str | None = None
    embedder: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def process_one(task: FileTask, embedder) -> FileResult:
    """The per-file work, the same in every executor: ``ingest.pipeline.process_file``, then embed."""
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        doc = process_file(task.key, task.sha256, task.size)
        vectors = embedder.embed_passages([with_context(p.context, p.clean) for p in doc.passages])
        result = FileResult(task.key, doc=doc, vectors=vectors, embedder=embedder.name)
    except IngestError as e:
        result = FileResult(task.key, error=e.reason)
    except Exception:  # a bug or an unexpected file: logged, reported without its details, the run goes on
        log.exception("unexpected error while ingesting %s", task.key)
        result = FileResult(task.key, error=R_UNEXPECTED)
    result.seconds, result.cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    return result


class Executor(ABC):
    """Runs the per-file work and the embedding of stored passages; never writes the catalogue."""

    name: str

    @abstractmethod
    def process(self, tasks: list[FileTask], embedder) -> Iterator[FileResult]:
        """One result per task, in task order, produced lazily (the writer commits each as it comes).
        ``embedder`` is the writer's; remote workers build their own from ``embedder.config()``."""

    @abstractmethod
    def embed(self, texts: list[str], embedder, batch: int = 256) -> Iterator[np.ndarray]:
        """Vectors for ``texts`` in slices of ``batch``, in order, one array per slice."""

    def close(self) -> None:
        """Release what the executor started (workers, a local cluster)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
