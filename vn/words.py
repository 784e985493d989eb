"""Sentences and words of Vietnamese text (underthesea)."""
from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import threading

__all__ = ["segment_words", "split_sentences"]


_LOCK = threading.Lock()


def _underthesea():
    """The two tokenizers, loaded once; the first call of each is serialised (underthesea publishes
    its model as a global before it has finished loading: two threads starting together crash)."""
    with _LOCK:
        return _loaded()


@functools.cache
def _loaded():
    """underthesea's word_tokenize and sent_tokenize, without running the package's ``__init__``.

    ``import underthesea`` imports its optional pipelines too (translate -> transformers -> torch):
    12-16 s of a cold command-line start for two functions that need none of it. Loading the two
    submodules under an empty package object takes under a second. If the full package is already
    imported, it is used as it is.
    """
    pkg = sys.modules.get("underthesea")
    if pkg is not None and hasattr(pkg, "word_tokenize"):
        pkg.word_tokenize("Khởi động"), pkg.sent_tokenize("Khởi động.")
        return pkg.word_tokenize, pkg.sent_tokenize
    if pkg is None:
        spec = importlib.util.find_spec("underthesea")
        pkg = sys.modules["underthesea"] = importlib.util.module_from_spec(spec)
    importlib.import_module("underthesea.pipeline.text_normalize")  # first, as the package does: a cycle
    word_tokenize = importlib.import_module("underthesea.pipeline.word_tokenize").word_tokenize
    sent_tokenize = importlib.import_module("underthesea.pipeline.sent_tokenize").sent_tokenize
    pkg.word_tokenize, pkg.sent_tokenize = word_tokenize, sent_tokenize
    word_tokenize("Khởi động"), sent_tokenize("Khởi động.")  # the lazy model loads, here, once
    return word_tokenize, sent_tokenize


def segment_words(text: str) -> str:
    """underthesea word segmentation: "Ủy ban nhân dân" -> "Ủy_ban_nhân_dân"."""
    return _underthesea()[0](text, format="text")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (underthesea sent_tokenize, located back in the text)."""
    spans, pos = [], 0
    for sent in _underthesea()[1](text):
        i = text.find(sent, pos)
        if i < 0:  # tokenizer changed whitespace: fall back to the rest of the text
            i = pos
            sent = text[pos:]
        spans.append((i, i + len(sent)))
        pos = i + len(sent)
    if pos < len(text.rstrip()):
        spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]
