"""Open the passage-search engine an index directory's deployment names."""
from __future__ import annotations

from pathlib import Path

from ..deployment import Deployment
from .base import PassageEngine

__all__ = ["open_engine"]


def open_engine(index_dir: str | Path, deployment: Deployment | None = None, kind: str = "auto") -> PassageEngine:
    deployment = deployment or Deployment.load(index_dir)
    if deployment.engine == "local":
        from .local import LocalEngine
        return LocalEngine(index_dir, kind=kind)
    from .milvus import MilvusEngine
    return MilvusEngine(deployment.milvus_uri, prefix=deployment.milvus_prefix, kind=kind)
