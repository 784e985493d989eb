"""BM25 (bm25s) over lexical terms; ids are passage ids (or unit ids: a unit's first passage id)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["LexicalIndex"]


class LexicalIndex:
    FILES = "bm25"

    def __init__(self, retriever, ids: np.ndarray):
        self.retriever = retriever
        self.ids = ids
        self._row = {int(pid): i for i, pid in enumerate(ids)}
        self._keep: dict[frozenset, np.ndarray] = {}  # allowed passage ids -> row mask, for term_df

    @classmethod
    def build(cls, ids: np.ndarray, terms: list[list[str]]) -> "LexicalIndex":
        """An index over each passage's terms (``index.lexical.analyze`` of its segmented text)."""
        import bm25s
        retriever = bm25s.BM25()
        corpus = [t or ["∅"] for t in terms]
        if corpus:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64))

    def save(self, directory: Path, name: str = FILES) -> None:
        d = Path(directory) / name
        d.mkdir(parents=True, exist_ok=True)
        if len(self.ids):
            self.retriever.save(str(d), show_progress=False)
        np.save(d / "ids.npy", self.ids)
        (d / "info.json").write_text(json.dumps({"passages": int(len(self.ids)), "analyzer": "words+folded-syllables"},
                                                ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, name: str = FILES) -> "LexicalIndex":
        import bm25s
        d = Path(directory) / name
        ids = np.load(d / "ids.npy")
        retriever = bm25s.BM25.load(str(d), show_progress=False, verbosity=0) if len(ids) else bm25s.BM25()
        return cls(retriever, ids)

    def search(self, terms: list[str], k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """Top k (passage id, score) with score > 0; ``allowed`` restricts to those passage ids."""
        if not len(self.ids) or not terms:
            return []
        vocab = self.retriever.vocab_dict
        terms = [t for t in terms if t in vocab]
        if not terms:
            return []
        scores = self.retriever.get_scores(terms)
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=bool)
            rows = [self._row[p] for p in allowed if p in self._row]
            mask[rows] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    def term_df(self, terms: list[str], allowed: set[int] | None = None) -> dict[str, int]:
        """Passages holding each term (bm25s's inverted index: the term's column), among ``allowed``."""
        if not len(self.ids):
            return {t: 0 for t in terms}
        vocab = self.retriever.vocab_dict
        indptr, rows = self.retriever.scores["indptr"], self.retriever.scores["indices"]
        keep = None
        if allowed is not None:
            keep = self._keep.get(allowed) if isinstance(allowed, frozenset) else None
            if keep is None:
                keep = np.zeros(len(self.ids), dtype=bool)
                keep[[self._row[p] for p in allowed if p in self._row]] = True
                if isinstance(allowed, frozenset):  # the engine's cached filter sets: rows kept with them
                    if len(self._keep) >= 64:
                        self._keep.clear()
                    self._keep[allowed] = keep
        out = {}
        for t in terms:
            i = vocab.get(t)
            if i is None:
                out[t] = 0
            elif keep is None:
                out[t] = int(indptr[i + 1] - indptr[i])
            else:
                out[t] = int(keep[rows[indptr[i]:indptr[i + 1]]].sum())
        return out
