"""The catalogue seam: files, documents, passages, references, vectors, accounts and the data version.

Two implementations share one SQL body (``sql.SqlCatalog``): SQLite (the default, one file in the
index directory) and PostgreSQL (several serving machines). Fusion, answers and research views sit
above this interface and never know which one answers.

Reads that show documents take ``visible`` first: ``None`` for every document (an administrator),
otherwise the access groups whose documents the caller may see (public documents always). Callers
above the library never pass it themselves: ``index.access.ScopedCatalog`` binds it once per caller.
Writes and build-time reads (``generation_rows``) are unscoped and only the library's ingest uses them.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator

import numpy as np

from ingest.model import Document

from ..passage_search.base import PassageFilter, PassageRow

__all__ = ["Catalog", "SCOPED_READS"]


# the reads a caller-bound view may make (index.access.ScopedCatalog)
SCOPED_READS = ("counts", "documents", "documents_by_ids", "document", "document_numbers", "documents_by_number",
                "passages", "document_passages", "references", "reference_keys", "facets", "live_passage_ids",
                "doc_ids", "vectors")


class Catalog(ABC):
    """What the library needs from a catalogue; see the module docstring."""

    location: str  # where it lives, for messages ("…/store.sqlite", "postgresql://host/db")

    # -- lifecycle and meta ----------------------------------------------------------------------
    @abstractmethod
    def close(self) -> None: ...

    def integrity_ok(self) -> bool:
        """The engine's own consistency check (SQLite's integrity_check; a server guarantees its own)."""
        return True

    @abstractmethod
    def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None: ...

    @property
    @abstractmethod
    def data_version(self) -> int:
        """Grows with every change of the live documents; a generation records the one it was built from."""

    @abstractmethod
    def check_embedder(self, name: str, dimension: int) -> None:
        """Vectors in one catalogue come from one embedder; record it, or refuse another."""

    @abstractmethod
    def embedder_info(self) -> dict | None: ...

    # -- files and writes (the ingest's) ------------------------------------------------------------
    @abstractmethod
    def file(self, path: str) -> dict | None: ...

    @abstractmethod
    def files(self) -> list[dict]: ...

    @abstractmethod
    def doc_id_by_sha(self, sha256: str, group: str | None = None) -> int | None:
        """A live document with this content in the same access group."""

    @abstractmethod
    def put_document(self, doc: Document, vectors: np.ndarray | None, group: str | None = None) -> int:
        """Store a document with its passages, references and vectors in one transaction."""

    @abstractmethod
    def link_duplicate(self, path: str, sha256: str, size: int, doc_id: int) -> None: ...

    @abstractmethod
    def put_failure(self, path: str, sha256: str, size: int, error: str) -> None: ...

    @abstractmethod
    def remove_file(self, path: str) -> None: ...

    @abstractmethod
    def purge(self, version: int) -> int:
        """Delete what was retired at or before ``version``."""

    @abstractmethod
    def clear_vectors(self) -> None: ...

    @abstractmethod
    def put_vectors(self, pids: list[int], vectors: np.ndarray) -> None: ...

    @abstractmethod
    def passages_without_vectors(self) -> list[dict]: ...

    @abstractmethod
    def generation_rows(self, dimension: int) -> Iterator[PassageRow]:
        """Every live passage with its vector, lexical terms and the fields filters act on."""

    # -- accounts and the audit log (the library's users module and every write use these) -----------
    @abstractmethod
    def put_user(self, name: str, role: str, groups: list[str], password_hash: str | None) -> None:
        """Create or replace an account (its token, if any, stays)."""

    @abstractmethod
    def remove_user(self, name: str) -> bool: ...

    @abstractmethod
    def user(self, name: str) -> dict | None: ...

    @abstractmethod
    def users(self) -> list[dict]: ...

    @abstractmethod
    def set_token_hash(self, name: str, token_hash: str) -> None:
        """Replace the user's API token (the old one stops working)."""

    @abstractmethod
    def user_by_token_hash(self, token_hash: str) -> dict | None: ...

    @abstractmethod
    def audit(self, actor: str, action: str, detail: dict) -> None:
        """Record who did what, when."""

    @abstractmethod
    def audit_log(self, limit: int = 1000) -> list[dict]:
        """The most recent records first."""

    # -- caller-scoped reads -------------------------------------------------------------------------
    @abstractmethod
    def counts(self, visible) -> dict: ...

    @abstractmethod
    def documents(self, visible) -> list[dict]: ...

    @abstractmethod
    def documents_by_ids(self, visible, ids: list[int]) -> dict[int, dict]: ...

    @abstractmethod
    def document(self, visible, doc_id: int) -> dict | None: ...

    @abstractmethod
    def document_numbers(self, visible) -> list[dict]: ...

    @abstractmethod
    def documents_by_number(self, visible, number: str) -> list[dict]: ...

    @abstractmethod
    def passages(self, visible, ids: list[int]) -> dict[int, dict]: ...

    @abstractmethod
    def document_passages(self, visible, doc_id: int) -> list[dict]: ...

    @abstractmethod
    def references(self, visible, doc_id: int | None = None, key: str | None = None) -> list[dict]: ...

    @abstractmethod
    def reference_keys(self, visible) -> list[dict]: ...

    @abstractmethod
    def facets(self, visible) -> dict: ...

    @abstractmethod
    def live_passage_ids(self, visible) -> list[int]: ...

    @abstractmethod
    def doc_ids(self, visible, flt: PassageFilter) -> set[int]:
        """Live documents matching a filter's document fields."""

    @abstractmethod
    def vectors(self, visible, pids: list[int]) -> dict[int, np.ndarray]: ...
