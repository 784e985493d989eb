"""Loaders for the labelled sets used by bench/eval.py.

Each set is a corpus (documents written as text files under ``bench/cache/<set>/docs`` so the real
ingest pipeline indexes them) plus questions whose gold answers are document keys:

- ``alqac``      ALQAC 2023: law_v1.1.json articles; train.json, private_test.json (test: report only)
- ``alqac2022``  ALQAC 2022: alqac2022/law.json articles; alqac2022/question.json (development)
- ``congbot``    congbot/documents/*.md; gold chunk ids ``<doc_id>_<chunk>`` mapped to documents
- ``seeds``      ../shared/eval/seed_questions.jsonl over the sample ``corpus/`` (numbers as keys)
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Question", "Corpus", "SETS", "SHARED", "CACHE", "REPO", "load_corpus", "load_questions",
           "seed_questions"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"
CACHE = REPO / "bench" / "cache"

SETS = ("alqac", "alqac2022", "congbot", "seeds")
SPLITS = {
    "alqac": ("train", "private_test"),
    "alqac2022": ("train",),
    "congbot": ("questions_test", "benchmark_challenge_2", "uploaded_benchmark"),
    "seeds": ("all",),
}


@dataclass
class Question:
    id: str
    text: str
    relevant: set[str]                       # document keys
    extra: dict = field(default_factory=dict)


@dataclass
class Corpus:
    name: str
    files: list[Path]            # one text file per document
    key_of: dict[str, str]       # file name -> document key


def _write(folder: Path, docs: list[tuple[str, str]]) -> Corpus:
    """Write (key, text) documents as files named by position; rewrite only what changed."""
    folder.mkdir(parents=True, exist_ok=True)
    files, key_of = [], {}
    for i, (key, text) in enumerate(docs):
        path = folder / f"{i:05d}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        files.append(path)
        key_of[path.name] = key
    for stale in folder.glob("*.txt"):
        if stale.name not in key_of:
            stale.unlink()
    (folder.parent / "keys.json").write_text(json.dumps(key_of, ensure_ascii=False, indent=0), encoding="utf-8")
    return Corpus(folder.parent.name, files, key_of)


def article_key(law_id: str, article_id: str) -> str:
    return f"{law_id}#{article_id}"


def _alqac_articles(law_file: Path, title: str) -> list[tuple[str, str]]:
    """One document per article. ``title``: "none" (the article as given: its heading then its body),
    "article" ("Điều N. " before the heading) or "law" (the law's name and "Điều N." before it)."""
    docs = []
    for law in json.loads(law_file.read_text(encoding="utf-8")):
        for art in law["articles"]:
            text = art["text"].strip()
            if title == "article":
                text = f"Điều {art['id']}. {text}"
            elif title == "law":
                text = f"{law['id']}\nĐiều {art['id']}. {text}"
            docs.append((article_key(law["id"], art["id"]), text))
    return docs


def load_corpus(name: str, title: str = "none") -> Corpus:
    if name == "alqac":
        return _write(CACHE / f"alqac-{title}" / "docs", _alqac_articles(CORPORA / "alqac" / "law_v1.1.json", title))
    if name == "alqac2022":
        return _write(CACHE / f"alqac2022-{title}" / "docs",
                      _alqac_articles(CORPORA / "alqac" / "alqac2022" / "law.json", title))
    if name == "congbot":
        files = sorted((CORPORA / "congbot" / "documents").glob("*.md"))
        return Corpus("congbot", files, {f.name: f.stem for f in files})
    if name == "seeds":
        files = sorted((REPO / "corpus").glob("*"))
        return Corpus("seeds", files, {f.name: f.stem for f in files})
    raise ValueError(f"unknown set {name!r}; choose one of: {', '.join(SETS)}")


def _alqac_questions(path: Path, prefix: str) -> list[Question]:
    out = []
    for i, q in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        rel = {article_key(r["law_id"], r["article_id"]) for r in q["relevant_articles"]}
        out.append(Question(f"{prefix}{q.get('question_id') or q.get('id') or i}#{i}", q["text"], rel))
    return out


def _fold_id(s: str) -> str:
    from vn.text import fold
    return fold(s).lower()


def congbot_doc_of(chunk_id: str, stems: list[str]) -> str | None:
    """``<doc_id>_<chunk>`` ("47_2009_TTLT_BTC_BLĐTBXH_art1_2") -> the document stem it starts with
    (longest match; Đ and D compared alike, as the ids spell them both ways)."""
    c = _fold_id(chunk_id)
    found = [s for s in stems if c == _fold_id(s) or c.startswith(_fold_id(s) + "_")]
    return max(found, key=len) if found else None


def _congbot_questions(split: str) -> list[Question]:
    folder = CORPORA / "congbot"
    # 18 of the 53 documents are blank in the shared copy: gold pointing only at them is unanswerable
    stems = [f.stem for f in (folder / "documents").glob("*.md") if f.read_text(encoding="utf-8").strip()]
    paths = sorted(folder.glob("uploaded_benchmark_*.json")) if split == "uploaded_benchmark" else \
        [folder / f"{split}.json"]
    out = []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = next(v for v in data.values() if isinstance(v, list)) if isinstance(data, dict) else data
        for i, q in enumerate(items):
            gold = q.get("contexts") or q.get("positive_chunks") or []
            gold = gold.split(";") if isinstance(gold, str) else gold
            rel = {d for d in (congbot_doc_of(g, stems) for g in gold if g) if d}
            unmapped = [g for g in gold if g and not congbot_doc_of(g, stems)]  # blank or absent documents
            if rel:
                out.append(Question(f"{path.stem}#{q.get('id', i)}", q["question"], rel,
                                    {"unmapped": unmapped} if unmapped else {}))
    return out


def seed_questions() -> list[dict]:
    path = SHARED / "eval" / "seed_questions.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_questions(name: str, split: str) -> list[Question]:
    if split not in SPLITS.get(name, ()):
        raise ValueError(f"unknown split {split!r} for {name}; choose one of: {', '.join(SPLITS.get(name, ()))}")
    if name == "alqac":
        return _alqac_questions(CORPORA / "alqac" / f"{split}.json", f"{split}:")
    if name == "alqac2022":
        return _alqac_questions(CORPORA / "alqac" / "alqac2022" / "question.json", "2022:")
    if name == "congbot":
        return _congbot_questions(split)
    raise ValueError(f"{name} questions are not ranked questions; use seed_questions()")


def fingerprint(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode("utf-8")).hexdigest()[:12]
