"""Lexical terms of a text: underthesea words plus diacritic-folded syllables (what BM25 indexes).

Each passage is indexed as its lower-cased words ("dân_vận") plus its folded syllables
("dan", "van"), so "dan van kheo" finds "Dân vận khéo" while a query typed with diacritics
also matches the exact words and ranks those passages first. BM25 also indexes each pair of
consecutive words ("dân_vận|khéo", stopwords skipped): a passage that says the question's words in
its order ranks above one where they are scattered (``index_terms``, ``query_index_terms``).
"""
from __future__ import annotations

import re

from vn.stopwords import FUNCTION_WORDS as _STOP
from vn.text import fold

__all__ = ["analyze", "analyze_query", "with_pairs", "index_terms", "query_index_terms", "unit_terms",
           "unit_weights", "UNIT_TITLE_WEIGHT", "UNIT_HEADING_WEIGHT", "WORD_PAIRS"]

# A unit (an article, a numbered item) is also indexed whole: the document's title this many times,
# every passage, and the unit's heading line this many times in all (python -m bench.retrieval tune:
# bench/README.md, RETRIEVAL).
UNIT_TITLE_WEIGHT = 1
UNIT_HEADING_WEIGHT = 3
# BM25 indexes pairs of consecutive words beside the words (bench/README.md, RETRIEVAL: every development
# set gains, each one also when left out of the choice)
WORD_PAIRS = True

_WORD = re.compile(r"\w+", re.UNICODE)


def analyze(tokens: str) -> list[str]:
    """Index terms of an underthesea-segmented text ("Dân_vận khéo")."""
    out: list[str] = []
    for word in tokens.lower().split():
        if not _WORD.search(word):
            continue
        syllables = [s for s in word.split("_") if _WORD.fullmatch(s)]
        if word not in _STOP:
            out.append(word)
        out.extend("~" + fold(s) for s in syllables if s not in _STOP)
    return out


def analyze_query(text: str) -> list[str]:
    from vn.words import segment_words
    return analyze(segment_words(text))


def with_pairs(terms: list[str]) -> list[str]:
    """``terms`` and, when ``WORD_PAIRS``, each pair of consecutive word terms ("a|b"; folded syllables skipped)."""
    if not WORD_PAIRS:
        return terms
    words = [t for t in terms if not t.startswith("~")]
    return terms + [f"{a}|{b}" for a, b in zip(words, words[1:])]


def index_terms(tokens: str) -> list[str]:
    """What BM25 indexes for a passage's segmented text (its context first)."""
    return with_pairs(analyze(tokens))


def query_index_terms(text: str) -> list[str]:
    """What BM25 is asked for a free-text query."""
    return with_pairs(analyze_query(text))


def unit_terms(title_tokens: str, passage_tokens: list[str], heading_tokens: str = "") -> list[str]:
    """Index terms of a whole unit as one document: the document's title ``UNIT_TITLE_WEIGHT`` times, the
    unit's passages (the first holds the heading line once), the heading line ``UNIT_HEADING_WEIGHT - 1``
    more times."""
    out = analyze(title_tokens) * UNIT_TITLE_WEIGHT if title_tokens else []
    for tokens in passage_tokens:
        out += analyze(tokens)
    if heading_tokens:
        out += analyze(heading_tokens) * (UNIT_HEADING_WEIGHT - 1)
    return with_pairs(out)


def unit_weights() -> dict:
    """What a generation's whole-unit index was built with (a generation built otherwise is rebuilt)."""
    return {"title": UNIT_TITLE_WEIGHT, "heading": UNIT_HEADING_WEIGHT, "pairs": WORD_PAIRS}
