"""The passage-search seam: what every engine (FAISS + bm25s locally, Milvus) offers.

An engine holds *generations*: immutable snapshots of the live passages (vector, lexical terms and
the document fields filters need), written from the catalogue under a new name and switched in
atomically, so a reader sees the old snapshot or the new one, never half of one. Fusion, query
parsing, answers and access rules sit above this interface and never know which engine answers.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

__all__ = ["PassageRow", "Filters", "PassageFilter", "PassageEngine", "batched"]


@dataclass
class PassageRow:
    """One live passage as a generation stores it."""
    id: int                      # passage id (the catalogue's; never reused)
    doc_id: int
    vector: np.ndarray           # float32, unit length, the embedder's dimension
    terms: list[str]             # lexical terms (index.lexical.analyze of the segmented text)
    province: str | None = None  # the document's fields that filters act on
    year: int | None = None
    doc_type: str | None = None
    issuer: str | None = None
    group: str | None = None     # access group; None = public


@dataclass(frozen=True)
class Filters:
    """What a user narrows a search to (the sidebar, the CLI's --province ..., the API's query)."""
    province: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_type: str | None = None
    issuer: str | None = None
    doc_ids: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.doc_ids is not None and not isinstance(self.doc_ids, tuple):
            object.__setattr__(self, "doc_ids", tuple(int(i) for i in self.doc_ids))

    def empty(self) -> bool:
        return all(getattr(self, f) is None for f in Filters.__dataclass_fields__)

    def passage_filter(self, groups) -> "PassageFilter":
        return PassageFilter(**{f: getattr(self, f) for f in Filters.__dataclass_fields__}, groups=groups)


@dataclass(frozen=True)
class PassageFilter(Filters):
    """Which passages a search may return: the user's filters plus the caller's access groups.

    ``groups``: None = every document (an administrator); otherwise public documents plus those of
    these groups (an empty set = public documents only). Every field None = no restriction on it.
    """
    groups: frozenset[str] | None = None

    def unrestricted(self) -> bool:
        return all(getattr(self, f) is None for f in self.__dataclass_fields__)


class PassageEngine(ABC):
    """A store of passage generations with dense and lexical search."""

    @abstractmethod
    def write_generation(self, rows: Iterable[list[PassageRow]], info: dict) -> str:
        """Write a new generation from batches of rows; return its name. Not visible until ``switch``.

        ``info`` (embedder name and dimension, data version, counts) is kept as the generation's
        manifest."""

    @abstractmethod
    def switch(self, name: str) -> None:
        """Make ``name`` the live generation, atomically."""

    @abstractmethod
    def current(self) -> str | None:
        """Name of the live generation (None before the first build)."""

    @abstractmethod
    def manifest(self, name: str | None = None) -> dict:
        """The manifest of a generation (the live one by default)."""

    @abstractmethod
    def generations(self) -> list[str]:
        """Every generation this engine holds, oldest first."""

    @abstractmethod
    def drop(self, name: str) -> None:
        """Delete a generation that is not live."""

    @abstractmethod
    def search_dense(self, vector: np.ndarray, k: int, flt: PassageFilter | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (passage id, inner product) in the live generation, best first."""

    @abstractmethod
    def search_lexical(self, terms: list[str], k: int, flt: PassageFilter | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (passage id, BM25 score > 0) in the live generation, best first."""

    def refresh(self) -> bool:
        """Follow a switch made by another process; True if the live generation changed."""
        return False

    def clean_stale(self) -> None:
        """Remove what a killed build left behind (never the live or the previous generation)."""

    def close(self) -> None:
        pass


def batched(rows: Iterable[PassageRow], size: int = 1000) -> Iterator[list[PassageRow]]:
    batch: list[PassageRow] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
