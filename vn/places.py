"""The 63 provinces and centrally run cities, and how documents and queries spell them."""
from __future__ import annotations

import re
import unicodedata

from .text import fold

__all__ = ["PROVINCES", "CITIES", "find_province", "province_loose", "fold_aligned"]

# the 63 provinces and centrally run cities before the 2025 merger
PROVINCES: tuple[str, ...] = (
    "Hà Nội", "TP. Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ",
    "An Giang", "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bắc Giang", "Bắc Kạn", "Bắc Ninh", "Bến Tre",
    "Bình Dương", "Bình Định", "Bình Phước", "Bình Thuận", "Cà Mau", "Cao Bằng", "Đắk Lắk",
    "Đắk Nông", "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Giang", "Hà Nam", "Hà Tĩnh",
    "Hải Dương", "Hậu Giang", "Hòa Bình", "Hưng Yên", "Khánh Hòa", "Kiên Giang", "Kon Tum",
    "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Long An", "Nam Định", "Nghệ An", "Ninh Bình",
    "Ninh Thuận", "Phú Thọ", "Phú Yên", "Quảng Bình", "Quảng Nam", "Quảng Ngãi", "Quảng Ninh",
    "Quảng Trị", "Sóc Trăng", "Sơn La", "Tây Ninh", "Thái Bình", "Thái Nguyên", "Thanh Hóa",
    "Thừa Thiên Huế", "Tiền Giang", "Trà Vinh", "Tuyên Quang", "Vĩnh Long", "Vĩnh Phúc", "Yên Bái",
)
CITIES = {"Hà Nội", "TP. Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ"}

# other spellings (with diacritics; their folded forms are aliases too)
_VARIANTS: dict[str, tuple[str, ...]] = {
    "TP. Hồ Chí Minh": ("Thành phố Hồ Chí Minh", "TP Hồ Chí Minh", "TPHCM", "TP HCM",
                        "TP.HCM", "HCM", "Sài Gòn"),
    "Đắk Lắk": ("Đăk Lăk", "Đắc Lắc", "Đăk Lắk", "Đắk Lăk", "Daklak"),
    "Đắk Nông": ("Đăk Nông", "Đắc Nông", "Daknong"),
    "Bà Rịa - Vũng Tàu": ("Bà Rịa Vũng Tàu", "BRVT"),
    "Bắc Kạn": ("Bắc Cạn",),
    "Kon Tum": ("Kontum",),
    "Thừa Thiên Huế": ("Thừa Thiên - Huế", "TT Huế", "Huế"),
}
# folded aliases that are ordinary words too ("huế" folds to "hue" = "huệ"): match only with diacritics
_NO_FOLDED = {"hue"}


def fold_aligned(text: str) -> str:
    """fold() one character at a time, so index i of the result is character i of ``text``;
    anything not a letter or digit becomes a space."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        f = fold(ch)
        out.append(f if len(f) == 1 and f.isalnum() else " ")
    return "".join(out)


def _tone(s: str) -> str:
    """One tone placement: old "hoà" and new "hòa" compare equal; spaces and dots collapsed."""
    s = re.sub(r"[\s.\-–]+", " ", unicodedata.normalize("NFC", s).lower()).strip()
    nfd = unicodedata.normalize("NFD", s)
    # move a tone mark written on the second vowel of oa/oe/uy back onto the first
    nfd = re.sub(r"(o)([ae])([\u0300\u0301\u0303\u0309\u0323])|(u)(y)([\u0300\u0301\u0303\u0309\u0323])",
                 lambda m: m[1] + m[3] + m[2] if m[1] else m[4] + m[6] + m[5], nfd)
    return unicodedata.normalize("NFC", nfd)


def _build_aliases():
    folded: dict[str, str] = {}
    exact: dict[str, set[str]] = {}
    for p in PROVINCES:
        names = (p,) + _VARIANTS.get(p, ())
        exact[p] = {_tone(n) for n in names}
        for n in names:
            key = " ".join(fold_aligned(n).split())
            if key not in _NO_FOLDED:
                folded.setdefault(key, p)
    return folded, exact


_ALIAS_FOLDED, _ALIAS_EXACT = _build_aliases()
_ALIAS_RE = re.compile(r"(?<![a-z0-9])(?:" + "|".join(
    r"\s+".join(map(re.escape, k.split())) for k in sorted(_ALIAS_FOLDED, key=len, reverse=True))
    + r")(?![a-z0-9])")
_DIACRITIC_ONLY = [(re.compile(rf"(?<![\w]){re.escape(n)}(?![\w])"), p)
                   for p, ns in _VARIANTS.items() for n in ns if fold_aligned(n).strip() in _NO_FOLDED]


def find_province(text: str | None) -> str | None:
    """The first province named in ``text`` (canonical name), with or without diacritics.

    "dak lak" and "Đắk Lắk" both give "Đắk Lắk". A span written with diacritics must be the
    province's own spelling, so "lòng an" is not "Long An".
    """
    if not text:
        return None
    text = unicodedata.normalize("NFC", text)
    aligned = fold_aligned(text)
    best: tuple[int, str] | None = None
    for m in _ALIAS_RE.finditer(aligned):
        span = text[m.start():m.end()]
        p = _ALIAS_FOLDED[" ".join(m.group(0).split())]
        if span.isascii() or _tone(span) in _ALIAS_EXACT[p]:
            best = (m.start(), p)
            break
    for rx, p in _DIACRITIC_ONLY:
        m = rx.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), p)
    return best[1] if best else None


def province_loose(text: str) -> str | None:
    """Province in a header or place line, tolerating broken spacing ("Qu ả ng Ngãi")."""
    p = find_province(text)
    if p:
        return p
    compact = "".join(fold_aligned(text).split())
    hits = [(compact.find(k.replace(" ", "")), -len(k), v) for k, v in _ALIAS_FOLDED.items()
            if len(k) > 4 and k.replace(" ", "") in compact]
    return min(hits)[2] if hits else None
