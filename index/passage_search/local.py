"""The default passage-search engine: FAISS + bm25s generations in the index directory.

Layout::

    CURRENT                      name of the live generation ("g000004")
    generations/g000004/         manifest.json, dense.faiss, bm25/, units/ (BM25 over whole units),
                                 fields.npz + fields.json

A generation is written under a temporary name, renamed, then CURRENT is replaced with
``os.replace``: a reader sees the old generation or the new one, never half of one. Each generation
keeps the document fields filters act on (doc id, province, year, type, issuer, access group) beside
the passage ids, so a filter is compiled here, without the catalogue.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import Unavailable
from .base import GENERATION_FORMAT, PassageEngine, PassageFilter, PassageRow, check_format
from .bm25 import LexicalIndex
from .dense import DenseIndex

__all__ = ["LocalEngine", "current_generation", "manifest_path", "built_version"]

_CATEGORIES = ("province", "doc_type", "issuer", "group")
UNITS = "units"   # the folder of the units' BM25 index


def current_generation(index_dir: Path) -> str | None:
    try:
        name = (Path(index_dir) / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if (Path(index_dir) / "generations" / name / "manifest.json").exists() else None


def manifest_path(index_dir: Path, name: str) -> Path:
    return Path(index_dir) / "generations" / name / "manifest.json"


def built_version(index_dir: Path, name: str) -> int:
    try:
        return int(json.loads(manifest_path(index_dir, name).read_text(encoding="utf-8"))["data_version"])
    except (OSError, ValueError, KeyError):
        return -1


@dataclass
class _Fields:
    """Per-passage document fields, row-aligned with ``ids``; categories as codes into a vocabulary."""
    ids: np.ndarray
    doc_ids: np.ndarray
    units: np.ndarray                    # each passage's unit id
    years: np.ndarray                    # -1 when unknown
    codes: dict[str, np.ndarray]         # category -> int32 codes (-1 = None)
    vocab: dict[str, list[str]]

    FILE = "fields"

    @classmethod
    def collect(cls, rows: list[PassageRow]) -> "_Fields":
        vocab: dict[str, list[str]] = {c: sorted({getattr(r, c) for r in rows if getattr(r, c) is not None})
                                       for c in _CATEGORIES}
        index = {c: {v: i for i, v in enumerate(vocab[c])} for c in _CATEGORIES}
        codes = {c: np.array([index[c].get(getattr(r, c), -1) for r in rows], dtype=np.int32) for c in _CATEGORIES}
        return cls(np.array([r.id for r in rows], dtype=np.int64), np.array([r.doc_id for r in rows], dtype=np.int64),
                   np.array([r.unit_id for r in rows], dtype=np.int64), np.array([r.year if r.year is not None else -1 for r in rows], dtype=np.int32), codes, vocab)

    def save(self, folder: Path) -> None:
        np.savez(folder / f"{self.FILE}.npz", ids=self.ids, doc_ids=self.doc_ids, units=self.units, years=self.years,
                 **{f"code_{c}": v for c, v in self.codes.items()})
        (folder / f"{self.FILE}.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "_Fields":
        z = np.load(folder / f"{cls.FILE}.npz")
        vocab = json.loads((folder / f"{cls.FILE}.json").read_text(encoding="utf-8"))
        return cls(z["ids"], z["doc_ids"], z["units"], z["years"], {c: z[f"code_{c}"] for c in _CATEGORIES}, vocab)

    def _code_mask(self, category: str, allowed: set[str], keep_none: bool = False) -> np.ndarray:
        codes = [i for i, v in enumerate(self.vocab[category]) if v in allowed] + ([-1] if keep_none else [])
        return np.isin(self.codes[category], codes)

    def allowed(self, flt: PassageFilter) -> set[int]:
        """Passage ids a filter lets through."""
        mask = np.ones(len(self.ids), dtype=bool)
        if flt.groups is not None:
            mask &= self._code_mask("group", set(flt.groups), keep_none=True)
        for category, value in (("province", flt.province), ("doc_type", flt.doc_type), ("issuer", flt.issuer)):
            if value is not None:
                mask &= self._code_mask(category, {value})
        if flt.year_from is not None:
            mask &= (self.years >= flt.year_from)
        if flt.year_to is not None:
            mask &= (self.years >= 0) & (self.years <= flt.year_to)
        if flt.doc_ids is not None:
            mask &= np.isin(self.doc_ids, np.asarray(flt.doc_ids, dtype=np.int64))
        return set(self.ids[mask].tolist())


@dataclass
class _Generation:
    name: str
    manifest: dict
    dense: DenseIndex
    lexical: LexicalIndex
    units: LexicalIndex                  # one document per unit, ids = unit ids
    fields: _Fields
    _masks: dict = field(default_factory=dict)
    _unit_of: dict = field(default_factory=dict)

    def unit_of(self, ids) -> dict[int, int]:
        if not self._unit_of and len(self.fields.ids):
            self._unit_of = dict(zip(self.fields.ids.tolist(), self.fields.units.tolist()))
        return {int(i): self._unit_of[int(i)] for i in ids if int(i) in self._unit_of}

    def allowed(self, flt: PassageFilter | None) -> frozenset[int] | None:
        """Passage ids a filter lets through; None = all (no filter, or one that removes nothing)."""
        if flt is None:
            return None
        if flt.groups is not None and set(flt.groups) >= set(self.fields.vocab["group"]):
            flt = replace(flt, groups=None)  # the caller sees every group this generation holds
        if flt.unrestricted():
            return None
        if flt not in self._masks:
            if len(self._masks) >= 64:
                self._masks.clear()
            self._masks[flt] = frozenset(self.fields.allowed(flt))
        return self._masks[flt]


class LocalEngine(PassageEngine):
    def __init__(self, index_dir: str | Path, kind: str = "auto"):
        self.dir = Path(index_dir)
        self.kind = kind
        self._lock = threading.Lock()
        self._live: _Generation | None = None

    # -- reading ---------------------------------------------------------------------------------------
    def current(self) -> str | None:
        return current_generation(self.dir)

    def _open(self, name: str) -> _Generation:
        folder = self.dir / "generations" / name
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        check_format(manifest, str(self.dir))
        return _Generation(name, manifest, DenseIndex.load(folder, manifest["dense"]["kind"]),
                           LexicalIndex.load(folder), LexicalIndex.load(folder, UNITS), _Fields.load(folder))

    def live(self) -> _Generation:
        gen = self._live
        if gen is None:
            self.refresh()
            gen = self._live
        if gen is None:
            raise Unavailable(f"Chưa có chỉ mục tìm kiếm tại {self.dir}: hãy chạy 'python -m ingest corpus "
                              f"--index-dir {self.dir}' trước.")
        return gen

    def refresh(self) -> bool:
        name = self.current()
        if name is None or (self._live is not None and name == self._live.name):
            return False
        with self._lock:
            if self._live is None or name != self._live.name:
                self._live = self._open(name)
        return True

    def manifest(self, name: str | None = None) -> dict:
        if name is None:
            return self.live().manifest
        return json.loads(manifest_path(self.dir, name).read_text(encoding="utf-8"))

    def generations(self) -> list[str]:
        gens = self.dir / "generations"
        return sorted(p.name for p in gens.iterdir() if p.name.startswith("g")) if gens.is_dir() else []

    def search_dense(self, vector, k, flt=None):
        gen = self.live()
        allowed = gen.allowed(flt)
        return gen.dense.search(vector, k, allowed)

    def search_lexical(self, terms, k, flt=None):
        gen = self.live()
        allowed = gen.allowed(flt)
        return gen.lexical.search(terms, k, allowed)

    def term_df(self, terms, flt=None):
        gen = self.live()
        allowed = gen.allowed(flt)
        n = int(len(gen.lexical.ids)) if allowed is None else len(allowed)
        return n, gen.lexical.term_df(list(terms), allowed)

    def search_units(self, terms, k, flt=None):
        gen = self.live()
        allowed = gen.allowed(flt)  # a unit's id is its first passage's, whose document fields it shares
        return gen.units.search(terms, k, allowed)

    def unit_of(self, ids):
        return self.live().unit_of(ids)

    # -- writing ---------------------------------------------------------------------------------------
    def write_generation(self, rows: Iterable[list[PassageRow]], info: dict) -> str:
        gens = self.dir / "generations"
        gens.mkdir(parents=True, exist_ok=True)
        existing = self.generations()
        name = f"g{int(existing[-1][1:]) + 1 if existing else 1:06d}"
        tmp = gens / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        flat = [r for batch in rows for r in batch]
        dim = info["embedder"]["dimension"]
        vectors = np.stack([r.vector for r in flat]) if flat else np.zeros((0, dim), dtype=np.float32)
        fields = _Fields.collect(flat)
        dense = DenseIndex.build(fields.ids, vectors, self.kind)
        dense.save(tmp)
        LexicalIndex.build(fields.ids, [r.terms for r in flat]).save(tmp)
        heads = [r for r in flat if r.unit_terms is not None]
        LexicalIndex.build(np.array([r.unit_id for r in heads], dtype=np.int64), [r.unit_terms for r in heads]).save(tmp, UNITS)
        fields.save(tmp)
        manifest = {"generation": name, "format": GENERATION_FORMAT, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    **info, "dense": {"kind": dense.kind, "vectors": dense.size},
                    "lexical": {"kind": "bm25s", "passages": int(len(fields.ids))},
                    "units": {"kind": "bm25s", "units": len(heads)}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        _fsync_dir(tmp)
        os.rename(tmp, gens / name)
        return name

    def switch(self, name: str) -> None:
        current_tmp = self.dir / f".CURRENT.{os.getpid()}"
        current_tmp.write_text(name, encoding="utf-8")
        with open(current_tmp) as fh:
            os.fsync(fh.fileno())
        os.replace(current_tmp, self.dir / "CURRENT")
        _fsync_dir(self.dir)

    def drop(self, name: str) -> None:
        if name == self.current():
            raise ValueError(f"không xoá được thế hệ đang dùng {name}")
        shutil.rmtree(self.dir / "generations" / name, ignore_errors=True)

    def clean_stale(self) -> None:
        """Leftovers of killed runs: temporary folders and CURRENT files."""
        for stale in (self.dir / "generations").glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in self.dir.glob(".CURRENT.*"):
            stale.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
