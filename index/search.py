"""Retrieval above the passage-search seam: candidates from the engine, fusion by unit, hydration.

A search ranks *units* (an article, a numbered item: ``ingest.chunking``) and shows each unit's best
passage, quoted exactly. A unit's scores:

- dense: the best cosine of its passages (each embedded with its context: title, unit heading);
- BM25: ``UNIT_BM25_SHARE`` x the BM25 of the whole unit as one document + the rest x the BM25 of its
  best passage (indexed with its context), each as a share of the best unit's; both index words, their
  folded syllables and pairs of consecutive words (``index.lexical``);
- hybrid: each method's top ``CANDIDATES`` units, min-max normalised per method, combined as
  ``w * dense + (1 - w) * bm25`` (a unit absent from one list gets 0 there).

``DENSE_WEIGHT`` and ``UNIT_BM25_SHARE`` were chosen with ``python -m bench.retrieval tune``: on ALQAC
train, alqac2022 and phapluat known-item queries, the setting whose worst set is best, checked leaving
one set out (never on a test set; bench/README.md, RETRIEVAL). A query typed without diacritics ranks
by BM25 (its folded terms; dense only orders what BM25 misses): the embedder reads it as noise.

``Reader`` is what answers, research views and document views are given: the catalogue's reads bound
to one caller (``index.access``) and retrieval that carries the same caller's groups to the engine.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from vn.numbers import document_key
from vn.text import has_diacritics

from .access import Principal, ScopedCatalog, visible
from .errors import InvalidInput
from .lexical import query_index_terms
from .passage_search.base import Filters, PassageEngine, PassageFilter

__all__ = ["Reader", "Filters", "Hit", "MODES", "DENSE_WEIGHT", "fuse", "by_unit", "mix_bm25", "document_json"]

MODES = ("hybrid", "bm25", "dense")
DENSE_WEIGHT = 0.5          # bench/README.md, RETRIEVAL: best worst-set MRR@10, leave-one-set-out
UNIT_BM25_SHARE = 0.4       # BM25 of the whole unit beside its best passage's
NO_DIACRITICS_DENSE_WEIGHT = 0.0   # dense reads folded Vietnamese as noise (bench/README.md, folded queries)
CANDIDATES = 100            # units per method
PASSAGES_PER_UNIT = 3       # passages (and whole units) fetched per unit candidate: scores for the mix


@dataclass
class Hit:
    passage_id: int
    score: float
    dense: float | None = None
    bm25: float | None = None
    unit: int | None = None


def by_unit(hits: list[tuple[int, float]], unit_of: dict[int, int], n: int) -> list[tuple[int, float]]:
    """Passage hits (best first) -> the first ``n`` units, each scored by its best passage."""
    out, seen = [], set()
    for pid, score in hits:
        u = unit_of.get(pid, pid)
        if u not in seen:
            seen.add(u)
            out.append((u, score))
            if len(out) == n:
                break
    return out


def mix_bm25(units: list[tuple[int, float]], passages: list[tuple[int, float]], share: float) -> list[tuple[int, float]]:
    """A unit's BM25: ``share`` x its whole-unit score + (1 - share) x its best passage's, each divided
    by the best of its list (a unit absent from a list gets 0 there); best first, ties by unit id."""
    def shares(pairs):
        top = max((s for _, s in pairs), default=0.0)
        return {u: s / top for u, s in pairs} if top > 0 else {}
    su, sp = shares(units), shares(passages)
    out = [(u, share * su.get(u, 0.0) + (1 - share) * sp.get(u, 0.0)) for u in set(su) | set(sp)]
    return sorted((x for x in out if x[1] > 0), key=lambda x: (-x[1], x[0]))


def fuse(dense: list[tuple[int, float]], bm25: list[tuple[int, float]], w: float) -> list[Hit]:
    """Weighted sum of min-max normalised scores; a passage absent from one list gets 0 there. Equal sums
    (with w = 0 or 1, every passage only the ignored method found) are ordered by BM25, then dense."""
    def norm(pairs):
        if not pairs:
            return {}
        vals = np.array([s for _, s in pairs], dtype=np.float64)
        lo, hi = vals.min(), vals.max()
        span = hi - lo
        return {pid: (1.0 if span == 0 else (s - lo) / span) for pid, s in pairs}
    nd, nb = norm(dense), norm(bm25)
    rawd, rawb = dict(dense), dict(bm25)
    ids = set(nd) | set(nb)
    hits = [Hit(pid, w * nd.get(pid, 0.0) + (1 - w) * nb.get(pid, 0.0), rawd.get(pid), rawb.get(pid)) for pid in ids]
    hits.sort(key=lambda h: (-h.score, -nb.get(h.passage_id, 0.0), -nd.get(h.passage_id, 0.0), h.passage_id))
    return hits


def document_json(d: dict) -> dict:
    """The document object every command and view shows."""
    return {"id": d["id"], "number": d["number"], "type": d["doc_type"], "issuer": d["issuer"],
            "province": d["province"], "date": d["date"], "title": d["title"], "signer": d["signer"],
            "signer_title": d["signer_title"], "level": d["level"], "recipients": d["recipients"],
            "path": d["path"], "paths": d.get("paths", [d["path"]])}


class Reader:
    """One caller's view of an index: scoped catalogue reads and retrieval. Built by ``Library.reader``."""

    def __init__(self, catalog, engine: PassageEngine, embedder, who: Principal, keys_cache: dict | None = None):
        self.who = who
        self.catalog = ScopedCatalog(catalog, who)
        self.engine = engine
        self.embedder = embedder
        self.groups = visible(who)
        self._keys = keys_cache if keys_cache is not None else {}
        self._lock = threading.Lock()

    @property
    def data_version(self) -> int:
        return self.catalog.data_version

    def passage_filter(self, filters: Filters | None) -> PassageFilter:
        return (filters or Filters()).passage_filter(self.groups)

    # -- retrieval ------------------------------------------------------------------------------
    def retrieve(self, text: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None,
                 dense_weight: float | None = None) -> list[Hit]:
        """Ranked units for free text, each as its best passage (``Hit.unit`` names the unit)."""
        if mode not in MODES:
            raise InvalidInput(f"chế độ tìm '{mode}' không hợp lệ; chọn một trong: {', '.join(MODES)}", field="mode")
        self.engine.refresh()
        flt = self.passage_filter(filters)
        n = max(k, CANDIDATES)
        dense = bm25 = units = []
        if mode in ("hybrid", "dense"):
            dense = self.engine.search_dense(self.embedder.embed_query(text), n * PASSAGES_PER_UNIT, flt)
        if mode in ("hybrid", "bm25"):
            terms = query_index_terms(text)
            bm25 = self.engine.search_lexical(terms, n * PASSAGES_PER_UNIT, flt)
            units = self.engine.search_units(terms, n * PASSAGES_PER_UNIT, flt)
        unit_of = self.engine.unit_of({pid for pid, _ in dense} | {pid for pid, _ in bm25})
        w = dense_weight if dense_weight is not None else (
            DENSE_WEIGHT if has_diacritics(text) else NO_DIACRITICS_DENSE_WEIGHT)
        unit_dense = by_unit(dense, unit_of, n)
        unit_bm25 = mix_bm25(units, by_unit(bm25, unit_of, n), UNIT_BM25_SHARE)[:n]
        if mode == "dense":
            ranked, passages = [Hit(u, s, dense=s) for u, s in unit_dense], dense
        elif mode == "bm25":
            ranked, passages = [Hit(u, s, bm25=s) for u, s in unit_bm25], bm25
        else:
            ranked = fuse(unit_dense, unit_bm25, w)
            passages = [(h.passage_id, h.score) for h in fuse(dense, bm25, w)]
        # each unit is shown by its best passage (by the same method); a unit found only as a whole, by its first
        best: dict[int, int] = {}
        for pid, _ in passages:
            best.setdefault(unit_of.get(pid, pid), pid)
        return [Hit(best.get(h.passage_id, h.passage_id), float(h.score), h.dense, h.bm25, unit=h.passage_id)
                for h in ranked[:k]]

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        self.engine.refresh()
        return self.engine.search_dense(vector, k, self.passage_filter(filters))

    def search(self, text: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None) -> dict:
        """{results: [{rank, score, number, passage_id, text, page, ...}]}"""
        # The catalogue may be ahead of the live generation while an ingest runs (a removed or edited
        # file's passages are gone before the new generation is switched in): rank all candidates
        # and keep the first k that still exist, so a query never comes back short.
        hits = self.retrieve(text, max(k, CANDIDATES), mode, filters)
        present = self.catalog.passages([h.passage_id for h in hits])
        hits = [h for h in hits if h.passage_id in present][:k]
        return {"query": text, "mode": mode, "results": self.hydrate(hits)}

    def hydrate(self, hits: list[Hit]) -> list[dict]:
        """Passage and document fields for hits; ids gone from the catalogue (a newer ingest) are skipped."""
        rows = self.catalog.passages([h.passage_id for h in hits])
        docs = self.catalog.documents_by_ids([p["doc_id"] for p in rows.values()])
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
                        "label": p["label"], "unit": p.get("unit_label"), "start": p["start"], "end": p["end"],
                        "document": document_json(d)})
        return out

    def document_keys(self) -> dict[str, list[int]]:
        """Citation key -> ids of the caller's visible documents with that number; cached per data version."""
        version = self.data_version
        cache_key = (version, self.who.cache_key)
        with self._lock:
            cached = self._keys.get(cache_key)
        if cached is not None:
            return cached
        keys: dict[str, list[int]] = {}
        for r in self.catalog.document_numbers():
            if k := document_key(r["number"], r["province"]):
                keys.setdefault(k, []).append(r["id"])
        with self._lock:
            for old in [c for c in self._keys if c[0] != version]:
                del self._keys[old]
            self._keys[cache_key] = keys
        return keys

    # -- catalogue --------------------------------------------------------------------------------
    def docs(self) -> dict:
        return {"documents": [document_json(d) for d in self.catalog.documents()]}



