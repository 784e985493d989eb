"""Words that carry no topic: function words (compared with diacritics) and the words of a question."""
from __future__ import annotations

from .text import fold

__all__ = ["FUNCTION_WORDS", "QUERY_WORDS", "QUERY_WORDS_FOLDED"]

# dropped from index terms; with diacritics, so "và" goes and "vá" stays
FUNCTION_WORDS = frozenset("và của các là có được cho với trong về theo tại để những một này đã từ thì ra bị do".split())
# dropped from a question before it is matched against passages ("văn bản nào ... gì?")
QUERY_WORDS = FUNCTION_WORDS | frozenset("văn bản nào gì như thế sao ai không số hay hoặc ở".split())
QUERY_WORDS_FOLDED = frozenset(fold(w) for w in QUERY_WORDS)
