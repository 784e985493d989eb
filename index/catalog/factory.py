"""Open the catalogue an index directory's deployment names."""
from __future__ import annotations

from pathlib import Path

from ..deployment import Deployment
from .base import Catalog

__all__ = ["open_catalog"]


def open_catalog(index_dir: str | Path, deployment: Deployment | None = None, readonly: bool = False) -> Catalog:
    deployment = deployment or Deployment.load(index_dir)
    if deployment.catalog == "sqlite":
        from .sqlite import SqliteCatalog
        return SqliteCatalog(index_dir, readonly=readonly)
    from .postgres import PostgresCatalog
    return PostgresCatalog(deployment.catalog, readonly=readonly)
