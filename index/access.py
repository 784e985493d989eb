"""Who is asking, and the one place that decides what they may see.

A document is public or belongs to one access group (``python -m ingest --group G``). A caller is
anonymous, a reader with groups, or an administrator. ``visible(principal)`` is the rule: every
document for an administrator, public documents plus the caller's groups' for everyone else. Every read
of the library goes through a ``ScopedCatalog`` bound to the caller (and passage searches carry the
same groups), so no front end, route or research view can forget the rule.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import PurePath

from .catalog.base import SCOPED_READS, Catalog

__all__ = ["Principal", "ANYONE", "SYSTEM", "visible", "ScopedCatalog", "ROLES"]

ROLES = ("reader", "admin")


@dataclass(frozen=True)
class Principal:
    """The caller: ``role`` is "anonymous", "reader" or "admin"."""
    name: str | None = None
    role: str = "anonymous"
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_anonymous(self) -> bool:
        return self.role == "anonymous"

    @property
    def cache_key(self) -> str:
        """What results may be shared on: callers with the same key see the same documents."""
        return "*" if self.is_admin else "|".join(sorted(self.groups))


ANYONE = Principal()                                  # an anonymous visitor: public documents only
SYSTEM = Principal(name="system", role="admin")       # the command line on the server itself


def visible(who: Principal):
    """The access rule: None = every document; else the groups (besides public) the caller may see."""
    return None if who.is_admin else frozenset(who.groups)


class ScopedCatalog:
    """The catalogue's reads, bound to one caller's visibility; writes are not reachable through it.
    A non-administrator's document rows name their files, never the server's paths."""

    _DOCUMENT_READS = ("documents", "documents_by_ids", "document", "documents_by_number")

    def __init__(self, catalog: Catalog, who: Principal):
        self._catalog = catalog
        self.visible = visible(who)
        self._paths = who.is_admin

    def __getattr__(self, name: str):
        if name not in SCOPED_READS:
            raise AttributeError(f"{name} is not a caller-scoped catalogue read")
        read = functools.partial(getattr(self._catalog, name), self.visible)
        if self._paths or name not in self._DOCUMENT_READS:
            return read

        def names_only(*args, **kwargs):
            out = read(*args, **kwargs)
            if isinstance(out, dict) and name == "documents_by_ids":
                return {k: _file_names(d) for k, d in out.items()}
            return [_file_names(d) for d in out] if isinstance(out, list) else _file_names(out)
        return names_only

    @property
    def data_version(self) -> int:
        return self._catalog.data_version


def _file_names(d: dict | None) -> dict | None:
    if d is None:
        return None
    return {**d, "path": PurePath(d["path"]).name, "paths": [PurePath(p).name for p in d.get("paths") or [d["path"]]]}
