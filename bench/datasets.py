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


# alqac2022's law ids are numbers; the titles below are those laws' names (checked against their
# first articles), so its files can carry a title line like law_v1.1.json's (whose ids are titles).
ALQAC2022_TITLES = {
    "91/2015/QH13": "Bộ luật Dân sự",
    "24/2018/QH14": "Luật An ninh mạng",
    "45/2019/QH14": "Bộ luật Lao động",
    "01/VBHN-VPQH": "Bộ luật Hình sự",
}


def _alqac_articles(law_file: Path, title: str) -> list[tuple[str, str]]:
    """One document per article. ``title``: "none" (the article as given: its heading then its body),
    "article" ("Điều N. " before the heading) or "law" (the law's title line and "Điều N." before it,
    as the held-out set of issue 11 lays its files out)."""
    docs = []
    for law in json.loads(law_file.read_text(encoding="utf-8")):
        name = ALQAC2022_TITLES.get(law["id"], law["id"])
        for art in law["articles"]:
            text = art["text"].strip()
            if title == "article":
                text = f"Điều {art['id']}. {text}"
            elif title == "law":
                text = f"{name}\nĐiều {art['id']}. {text}"
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


# -- phapluat known-item set (issue 11): a deterministic slice of ../shared/corpora/phapluat -------------
PHAPLUAT_TOPICS = ("bhxh", "chinh_sach_dn", "cong_doan", "hd_khoan", "hd_kinh_te", "hdld", "thue_tncn", "uu_dai_dt")
PHAPLUAT_PER_TOPIC = 4
PHAPLUAT_SIZE = (15_000, 120_000)   # bytes: documents with articles, small enough to embed a few dozen


def phapluat_files() -> list[Path]:
    """Per topic, files of PHAPLUAT_SIZE sorted by name, PHAPLUAT_PER_TOPIC of them evenly spaced."""
    out = []
    for topic in PHAPLUAT_TOPICS:
        fs = [f for f in sorted((CORPORA / "phapluat" / "docs" / topic).glob("*.txt"))
              if PHAPLUAT_SIZE[0] <= f.stat().st_size <= PHAPLUAT_SIZE[1]]
        step = len(fs) / PHAPLUAT_PER_TOPIC
        out += [fs[int(i * step + step / 2)] for i in range(PHAPLUAT_PER_TOPIC)] if fs else []
    return out


def load_phapluat() -> Corpus:
    files = phapluat_files()
    return Corpus("phapluat", files, {f.name: f.stem for f in files})


_HEAD = re.compile(r"Điều\s+\d+[a-z]?\.\s*(?=[A-ZĐ" + "".join(chr(c) for c in range(0xC0, 0x1EFA) if chr(c).isupper()) + "])")
PHAPLUAT_MAX_ARTICLES = 16   # heading queries per document at most (evenly spaced over its articles)


def phapluat_questions(records: list[dict]) -> list[Question]:
    """Known-item queries over the chunked slice (``bench.units.build`` records):

    - a document's title (its trích yếu, without the type word) -> that document ("file" level);
    - an article's heading without "Điều N." -> that article ("article" level: file key | label).

    A heading is the first line of an article's first passage, "Điều N." then a capital letter (PDF line
    breaks make false "Điều 12, Điều 14, ..." starts). Kept only if the query has >= 4 words and no other document / article of the slice has the same
    folded text (a heading such as "Phạm vi điều chỉnh" names no one article); documents whose
    article label repeats (amending laws quote the articles they amend) lose those labels."""
    from vn.text import fold
    titles: dict[str, set[str]] = {}
    heads: dict[str, list[tuple[str, str]]] = {}
    label_count: dict[tuple[str, str], int] = {}
    for p in records:
        if p["title"]:
            t = re.sub(r"^(Luật|Nghị định|Nghị quyết|Thông tư|Quyết định|Văn bản hợp nhất|Bộ luật)\s+", "",
                       p["title"], flags=re.I)
            titles.setdefault(" ".join(fold(t).split()), set()).add(p["key"])
        first = p["clean"].strip().split("\n")[0].strip()
        if p["label"] and p["head"] is None and not p["only_title"] and _HEAD.match(first):
            q = re.sub(r"(?<=[^\W\d])\d+$", "", _HEAD.sub("", first, count=1).strip().rstrip("."))  # footnote mark
            heads.setdefault(p["key"], []).append((p["label"], q))
            label_count[(p["key"], p["label"])] = label_count.get((p["key"], p["label"]), 0) + 1
    fold_count: dict[str, int] = {}
    for hs in heads.values():
        for _, q in hs:
            fold_count[" ".join(fold(q).split())] = fold_count.get(" ".join(fold(q).split()), 0) + 1
    out = []
    title_text = {}
    for p in records:
        if p["title"] and p["key"] not in title_text:
            title_text[p["key"]] = re.sub(r"^(Luật|Nghị định|Nghị quyết|Thông tư|Quyết định|Văn bản hợp nhất|Bộ luật)\s+",
                                          "", p["title"], flags=re.I)
    for key, t in title_text.items():
        if len(t.split()) >= 4 and t[:1].isalpha() and len(titles[" ".join(fold(t).split())]) == 1:
            out.append(Question(f"title:{key}", t, {key}, {"level": "file"}))
    for key, hs in heads.items():
        ok = [(lab, q) for lab, q in hs if len(q.split()) >= 4 and label_count[(key, lab)] == 1
              and fold_count[" ".join(fold(q).split())] == 1]
        if len(ok) > PHAPLUAT_MAX_ARTICLES:
            step = len(ok) / PHAPLUAT_MAX_ARTICLES
            ok = [ok[int(i * step)] for i in range(PHAPLUAT_MAX_ARTICLES)]
        out += [Question(f"head:{key}|{lab}", q, {f"{key}|{lab}"}, {"level": "article"}) for lab, q in ok]
    return out
