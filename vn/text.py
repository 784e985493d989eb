"""Characters: NFC, diacritic folding and the Vietnamese letter classes."""
from __future__ import annotations

import re
import unicodedata

__all__ = ["nfc", "fold", "has_diacritics", "LOWER", "UPPER", "ARTICLE"]

# character classes for Vietnamese letters (ranges like "à-ỹ" would mix both cases)
_LATIN = [chr(c) for c in range(0xC0, 0x1EFA) if chr(c).isalpha()]
LOWER = "a-z" + "".join(c for c in _LATIN if c.islower())
UPPER = "A-Z" + "".join(c for c in _LATIN if c.isupper())

# "Điều 12" / "Điều 5a": an article of a legal document (its number in group 1), as its line begins
ARTICLE = re.compile(r"Điều\s+(\d+[a-z]?)\b")

_FOLD = str.maketrans({"đ": "d", "Đ": "D"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics: "Dân vận khéo" -> "dan van kheo"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def has_diacritics(text: str) -> bool:
    """True when some letter of ``text`` carries a Vietnamese diacritic (or is đ)."""
    return any(c.isalpha() and fold(c) != c.lower() for c in text)
