"""Sentences and words of Vietnamese text (underthesea)."""
from __future__ import annotations

__all__ = ["segment_words", "split_sentences"]


def segment_words(text: str) -> str:
    """underthesea word segmentation: "Ủy ban nhân dân" -> "Ủy_ban_nhân_dân"."""
    from underthesea import word_tokenize
    return word_tokenize(text, format="text")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (underthesea sent_tokenize, located back in the text)."""
    from underthesea import sent_tokenize
    spans, pos = [], 0
    for sent in sent_tokenize(text):
        i = text.find(sent, pos)
        if i < 0:  # tokenizer changed whitespace: fall back to the rest of the text
            i = pos
            sent = text[pos:]
        spans.append((i, i + len(sent)))
        pos = i + len(sent)
    if pos < len(text.rstrip()):
        spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]
