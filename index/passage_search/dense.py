"""FAISS index over passage vectors; ids are passage ids.

Exact inner product (``IndexFlatIP``) up to ``HNSW_MIN`` vectors, HNSW above it (measured in
bench/perf.py: at 10^5 passages flat search stops meeting the latency target on 2 cores).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["DenseIndex", "choose_kind", "HNSW_MIN", "KINDS"]

HNSW_MIN = 50_000
KINDS = ("auto", "flat", "hnsw")


def choose_kind(n: int, kind: str = "auto") -> str:
    if kind not in KINDS:
        raise ValueError(f"loại chỉ mục '{kind}' không hợp lệ; chọn một trong {', '.join(KINDS)}")
    return ("hnsw" if n >= HNSW_MIN else "flat") if kind == "auto" else kind


class DenseIndex:
    FILE = "dense.faiss"

    def __init__(self, index, kind: str):
        self.index = index
        self.kind = kind

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, kind: str = "auto") -> "DenseIndex":
        import faiss
        n, dim = vectors.shape
        kind = choose_kind(n, kind)
        if kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = 80
            base.hnsw.efSearch = 128
        else:
            base = faiss.IndexFlatIP(dim)
        index = faiss.IndexIDMap2(base)
        if n:
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        return cls(index, kind)

    def save(self, directory: Path) -> None:
        import faiss
        faiss.write_index(self.index, str(Path(directory) / self.FILE))

    @classmethod
    def load(cls, directory: Path, kind: str) -> "DenseIndex":
        import faiss
        index = faiss.read_index(str(Path(directory) / cls.FILE))
        if kind == "hnsw":
            faiss.downcast_index(index.index).hnsw.efSearch = 128
        return cls(index, kind)

    @property
    def size(self) -> int:
        return self.index.ntotal

    def search(self, query: np.ndarray, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        import faiss
        if self.index.ntotal == 0:
            return []
        k = min(k, self.index.ntotal)
        params = None
        if allowed is not None:
            if not allowed:
                return []
            sel = faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64))
            params = (faiss.SearchParametersHNSW(sel=sel, efSearch=128) if self.kind == "hnsw"
                      else faiss.SearchParameters(sel=sel))
        scores, ids = self.index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
