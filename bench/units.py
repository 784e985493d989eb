"""Passages with their context and their parent units, built with the library's own steps.

A prototype of issue 11 kept in bench/ so that porting it is mechanical: every step is a library
primitive (``normalize.clean`` -> ``metadata.extract_metadata`` -> ``chunking.chunk`` ->
``lexical.analyze`` / the embedder), plus two things the library does not have yet:

- **context**: the document's title (its trích yếu from the metadata, else the header line before the
  first article) and the heading line of the article a passage sits in ("Điều 5. Thời hiệu ..."). It is
  put in front of the passage in what is embedded and what BM25 indexes, never in what is quoted.
- **units**: the parent a passage belongs to, the article ("Điều N" and everything up to the next one)
  or, before the first article, the document's preamble. A passage that is only the document's title
  line (a one-article file's header, as in the held-out set) joins the first article's unit.

``build`` returns one record per passage: file key, unit ordinal, label, quoted clean text, tokens,
and the context strings (raw and segmented). Records are cached per corpus fingerprint.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np

__all__ = ["build", "Passages", "embed_text", "bm25_tokens", "Vectors", "VARIANTS"]

VARIANTS = ("plain", "ctx")
_ARTICLE_HEAD = re.compile(r"Điều\s+\d+[a-z]?\b")
TITLE_CHARS = 300     # a document title in the context is cut here (some trích yếu run on)
HEAD_CHARS = 200      # an article heading likewise


def _fp(files: list[Path]) -> str:
    """The files' paths and contents (the first caches' fingerprint: tied to this checkout's path)."""
    h = hashlib.sha1()
    for f in files:
        h.update(str(f).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _fp2(files: list[Path]) -> str:
    """The same, with paths relative to the checkout (or beside it): another checkout shares the caches."""
    from .datasets import REPO
    h = hashlib.sha1()
    for f in files:
        f = Path(f)
        rel = f.relative_to(REPO) if f.is_relative_to(REPO) else (
            f.relative_to(REPO.parent) if f.is_relative_to(REPO.parent) else f)
        h.update(str(rel).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def fresh(data: dict, files: list[Path]) -> bool:
    """A cache made from these files (by either fingerprint)."""
    return bool(data) and (data.get("fp2") == _fp2(files) or data.get("fingerprint") == _fp(files))


def stamp(files: list[Path]) -> dict:
    return {"fingerprint": _fp(files), "fp2": _fp2(files)}


def _document_title(md, passages) -> str | None:
    """The trích yếu with its type ("Nghị định Quy định chi tiết ..."), else the first line of a short
    header passage that comes before the first article (the held-out set's "Luật Đất đai" line)."""
    if md.title:
        t = " ".join(md.title.split())
        return (f"{md.doc_type} {t}" if md.doc_type and not t.lower().startswith(md.doc_type.lower()) else t)[:TITLE_CHARS]
    for p in passages:
        if p.label and p.label.startswith("Điều"):
            return None
        first = p.clean.strip().split("\n")[0].strip()
        if first and len(first) <= TITLE_CHARS:
            return first
    return None


def _units(passages, title: str | None) -> list[tuple[int, str | None, str | None, bool]]:
    """Per passage: (unit ordinal, article label, article heading line, is the article's first passage).

    A new unit starts at each "Điều N" passage; passages before the first one form unit 0 (the preamble),
    except a passage that is only the title line, which joins the first article."""
    out = []
    unit, label, head = 0, None, None
    for i, p in enumerate(passages):
        first_line = p.clean.strip().split("\n")[0].strip()
        is_head = bool(p.label and p.label.startswith("Điều") and _ARTICLE_HEAD.match(first_line))
        if is_head:
            unit += 1 if i else 0
            label, head = p.label, first_line[:HEAD_CHARS]
        out.append([unit, label, head, is_head])
    # the title-only header passage(s) before the first article join the first article's unit
    if title:
        first_art = next((i for i, o in enumerate(out) if o[3]), None)
        if first_art is not None:
            pre = [i for i in range(first_art) if passages[i].clean.strip() == title]
            if len(pre) == first_art:  # the preamble is nothing but the title: no unit of its own
                for i in pre:
                    out[i][0] = out[first_art][0]
    # renumber units densely from 0
    ids: dict[int, int] = {}
    return [(ids.setdefault(u, len(ids)), lab, hd, h) for u, lab, hd, h in out]


def build(files: list[Path], key_of: dict[str, str], cache: Path, log=print) -> dict:
    """Chunk every file; return {"passages": [...], "titles": {...}} (cached by the files' contents)."""
    if cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
        if fresh(data, files):
            return data
    from ingest.chunking import chunk
    from ingest.metadata import extract_metadata
    from ingest.model import SourceText
    from ingest.normalize import clean
    from vn.text import nfc
    from vn.words import segment_words
    t0, out, seg_cache = time.time(), [], {}

    def seg(s):
        if s not in seg_cache:
            seg_cache[s] = segment_words(s)
        return seg_cache[s]

    for fi, f in enumerate(files):
        text = nfc(f.read_text(encoding="utf-8"))
        ct = clean(text)
        md = extract_metadata(ct, str(f))
        ps = chunk(SourceText(str(f), text), ct)
        title = _document_title(md, ps)
        for p, (u, label, head, is_head) in zip(ps, _units(ps, title)):
            only_title = bool(title) and p.clean.strip() == title
            out.append({"file": fi, "key": key_of[f.name] if f.name in key_of else key_of[str(f)],
                        "unit": u, "label": label, "clean": p.clean, "tokens": p.tokens,
                        "title": title, "title_tok": seg(title) if title else None,
                        "head": None if is_head else head, "head_tok": seg(head) if head and not is_head else None,
                        "only_title": only_title})
        if fi % 200 == 199:
            log(f"chunked {fi + 1}/{len(files)} files, {len(out)} passages, {time.time() - t0:.0f}s")
    log(f"chunked {len(files)} files into {len(out)} passages in {time.time() - t0:.0f}s")
    data = {**stamp(files), "passages": out}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return data


# -- what is embedded and what BM25 indexes ----------------------------------------------------------
def embed_text(p: dict, variant: str) -> str:
    """plain: the passage (the library today); ctx: title + article heading + passage."""
    if variant == "plain" or p["only_title"]:
        return p["clean"]
    parts = [p["title"], p["head"], p["clean"]]
    return "\n".join(x for x in parts if x)


def bm25_tokens(p: dict, variant: str) -> str:
    if variant == "plain" or p["only_title"]:
        return p["tokens"]
    return "\n".join(x for x in (p["title_tok"], p["head_tok"], p["tokens"]) if x)


class Passages:
    """Records plus the unit structure: ``unit_of[i]`` is passage i's global unit index."""

    def __init__(self, data: dict):
        self.records = data["passages"]
        keys: dict[tuple[int, int], int] = {}
        self.unit_of = np.array([keys.setdefault((p["file"], p["unit"]), len(keys)) for p in self.records])
        self.n_units = len(keys)
        self.unit_passages: list[list[int]] = [[] for _ in range(self.n_units)]
        for i, u in enumerate(self.unit_of):
            self.unit_passages[u].append(i)
        self.unit_file_key = [self.records[ps[0]]["key"] for ps in self.unit_passages]
        self.unit_label = [next((self.records[i]["label"] for i in ps if self.records[i]["label"]), None)
                           for ps in self.unit_passages]

    def unit_key(self, u: int, level: str) -> str:
        """"file": the file's key (ALQAC: the article); "article": file key + "|" + article label."""
        if level == "file":
            return self.unit_file_key[u]
        return f"{self.unit_file_key[u]}|{self.unit_label[u] or ''}"


class Vectors:
    """Passage vectors by text hash in <stem>.npy + <stem>.json, appended as they are embedded."""

    def __init__(self, stem: Path, embedder):
        self.stem, self.embedder = stem, embedder
        self.index_file, self.vec_file = stem.with_suffix(".json"), stem.with_suffix(".npy")
        self.row: dict[str, int] = json.loads(self.index_file.read_text()) if self.index_file.exists() else {}
        self.mat = np.load(self.vec_file) if self.vec_file.exists() and self.row else \
            np.zeros((0, embedder.dimension), np.float32)

    @staticmethod
    def _h(t: str) -> str:
        return hashlib.sha1(t.encode("utf-8")).hexdigest()

    def missing(self, texts: list[str]) -> int:
        return len({self._h(t) for t in texts} - set(self.row))

    def get(self, texts: list[str], log=print, batch: int = 64, budget_s: float | None = None) -> np.ndarray | None:
        """Vectors for ``texts``; embeds the missing ones (shortest first), saving every ~20 batches.
        With ``budget_s`` stops after that long and returns None if some are still missing."""
        hashes = [self._h(t) for t in texts]
        todo = sorted({h: t for h, t in zip(hashes, texts) if h not in self.row}.items(), key=lambda x: len(x[1]))
        t0, new = time.time(), []
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            new.append(self.embedder.embed_passages([t for _, t in part]))
            for h, _ in part:
                self.row[h] = len(self.row)
            last = i + batch >= len(todo) or (budget_s is not None and time.time() - t0 > budget_s)
            if (i // batch) % 4 == 3 or last:
                self.mat = np.vstack([self.mat] + new)
                new = []
                np.save(self.vec_file, self.mat)
                self.index_file.write_text(json.dumps(self.row))
                log(f"{self.stem.name}: embedded {min(i + batch, len(todo))}/{len(todo)}, {time.time() - t0:.0f}s")
            if last:
                break
        if any(h not in self.row for h in hashes):
            return None
        return self.mat[[self.row[h] for h in hashes]]
