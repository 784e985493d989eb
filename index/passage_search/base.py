"""The passage-search seam: what every engine (FAISS + bm25s locally, Milvus) offers.

An engine holds *generations*: immutable snapshots of the live passages (vector, lexical terms and
the document fields filters need), written from the catalogue under a new name and switched in
atomically, so a reader sees the old snapshot or the new one, never half of one. Fusion, query
parsing, answers and access rules sit above this interface and never know which engine answers.

Passages belong to *units* (an article, a numbered item: ``ingest.chunking``); a unit's id is its
first passage's id. Besides passages, a generation indexes each unit as one lexical document (its
title and the terms of all its passages), so a search can score the unit a user asks about, not only
the clause (``search_units``), and group passage hits by unit (``unit_of``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

__all__ = ["PassageRow", "Filters", "PassageFilter", "PassageEngine", "Batches", "batched", "GENERATION_FORMAT",
           "check_format"]

# What a generation holds; a generation of another format is refused (1: passages only; 2: + units).
GENERATION_FORMAT = 2


@dataclass
class PassageRow:
    """One live passage as a generation stores it."""
    id: int                      # passage id (the catalogue's; never reused)
    doc_id: int
    vector: np.ndarray           # float32, unit length, the embedder's dimension
    terms: list[str]             # lexical terms (index.lexical.analyze of the context and segmented text)
    province: str | None = None  # the document's fields that filters act on
    year: int | None = None
    doc_type: str | None = None
    issuer: str | None = None
    group: str | None = None     # access group; None = public
    unit: int | None = None      # its unit's id (the unit's first passage id); None = its own id
    unit_terms: list[str] | None = None  # on a unit's first row: the whole unit's lexical terms

    @property
    def unit_id(self) -> int:
        return self.id if self.unit is None else self.unit


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

        ``rows`` may be read more than once (``Batches``: an engine may count statistics first).

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

    @abstractmethod
    def term_df(self, terms: list[str], flt: PassageFilter | None = None) -> tuple[int, dict[str, int]]:
        """(passages, {term: passages holding it}) in the live generation, among those ``flt`` lets
        through (the caller's groups: a restricted document's words are not counted for a caller who
        may not see it).

        What answers need to weigh a question's terms (IDF) and to tell which of them the caller's
        documents lack (df 0); exact, unless the engine documents a cap."""

    @abstractmethod
    def search_units(self, terms: list[str], k: int, flt: PassageFilter | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (unit id, BM25 score > 0) over whole units in the live generation, best first."""

    @abstractmethod
    def unit_of(self, ids: Iterable[int]) -> dict[int, int]:
        """Passage id -> its unit's id, for the given passages of the live generation."""

    def refresh(self) -> bool:
        """Follow a switch made by another process; True if the live generation changed."""
        return False

    def clean_stale(self) -> None:
        """Remove what a killed build left behind (never the live or the previous generation)."""

    def close(self) -> None:
        pass


def check_format(manifest: dict, where: str) -> None:
    """Refuse a generation written in another format (by an older version of this program)."""
    from ..errors import IndexMismatch
    found = manifest.get("format", 1)
    if found != GENERATION_FORMAT:
        raise IndexMismatch(f"Thế hệ chỉ mục {manifest.get('generation', '?')} tại {where} có định dạng {found}, "
                            f"phiên bản này cần định dạng {GENERATION_FORMAT} (đoạn kèm điều, khoản và ngữ cảnh): "
                            "hãy nạp lại dữ liệu với --rebuild.")


class Batches:
    """Batches of rows that can be read again: each pass calls ``source()`` anew (the catalogue's read)."""

    def __init__(self, source: Callable[[], Iterable[PassageRow]], size: int = 1000):
        self.source, self.size = source, size

    def __iter__(self) -> Iterator[list[PassageRow]]:
        return batched(self.source(), self.size)


def batched(rows: Iterable[PassageRow], size: int = 1000) -> Iterator[list[PassageRow]]:
    batch: list[PassageRow] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
