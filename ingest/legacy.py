"""Legacy Vietnamese 8-bit encodings (TCVN3/ABC and VNI) to Unicode.

Text typed in ".VnTime" (TCVN3) or "VNI-Times" (VNI) fonts reaches us as mojibake: each legacy byte
shown as the Windows-1252/Latin-1 character with the same code ("Uû ban nh©n d©n" is TCVN3 for
"Uỷ ban nhân dân", "UÛy ban nhaân daân" is VNI). The converters below work on such strings; bytes are
first decoded with ``decode_8bit``.

Detection (``detect``) converts the text both ways and keeps the reading whose words are valid
Vietnamese syllables, and only when it clearly beats the text as it stands, so Unicode Vietnamese and
other languages are left alone.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["TCVN3", "VNI_SINGLE", "VNI_MODIFIERS", "tcvn3_to_unicode", "vni_to_unicode", "convert", "detect",
           "fix", "decode_8bit", "font_encoding", "is_syllable", "syllable_share"]

# ---------------------------------------------------------------- tables (data)

# TCVN 5712:1993 (VN3, the ".VnTime" fonts), bytes 0xA1-0xFE shown as Latin-1 characters. VN3 has
# lowercase letters with tones only; the uppercase fonts (".VnTimeH") draw these codes as capitals.
# The few VN1 capitals in this range (0xAF, 0xBA, 0xBF-0xC5, ...) are included: they are unambiguous.
TCVN3 = {
    "¡": "Ă", "¢": "Â", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư", "§": "Đ",
    "¨": "ă", "©": "â", "ª": "ê", "«": "ô", "¬": "ơ", "\u00ad": "ư", "®": "đ", "¯": "Ằ",
    "µ": "à", "¶": "ả", "·": "ã", "¸": "á", "¹": "ạ", "º": "Ẳ",
    "»": "ằ", "¼": "ẳ", "½": "ẵ", "¾": "ắ", "¿": "Ẵ",
    "À": "Ắ", "Á": "Ầ", "Â": "Ẩ", "Ã": "Ẫ", "Ä": "Ấ", "Å": "Ề", "Æ": "ặ",
    "Ç": "ầ", "È": "ẩ", "É": "ẫ", "Ê": "ấ", "Ë": "ậ",
    "Ì": "è", "Í": "Ể", "Î": "ẻ", "Ï": "ẽ", "Ð": "é", "Ñ": "ẹ",
    "Ò": "ề", "Ó": "ể", "Ô": "ễ", "Õ": "ế", "Ö": "ệ",
    "×": "ì", "Ø": "ỉ", "Ù": "Ễ", "Ú": "Ế", "Û": "Ồ", "Ü": "ĩ", "Ý": "í", "Þ": "ị",
    "ß": "ò", "à": "Ổ", "á": "ỏ", "â": "õ", "ã": "ó", "ä": "ọ",
    "å": "ồ", "æ": "ổ", "ç": "ỗ", "è": "ố", "é": "ộ",
    "ê": "ờ", "ë": "ở", "ì": "ỡ", "í": "ớ", "î": "ợ",
    "ï": "ù", "ð": "Ỗ", "ñ": "ủ", "ò": "ũ", "ó": "ú", "ô": "ụ",
    "õ": "ừ", "ö": "ử", "÷": "ữ", "ø": "ứ", "ù": "ự",
    "ú": "ỳ", "û": "ỷ", "ü": "ỹ", "ý": "ý", "þ": "ỵ", "ÿ": "Ố",
}

_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE = "\u0302", "\u0306"

# VNI Windows: a vowel is written as the base letter followed by a modifier character.
# modifier -> (shape mark or "", tone mark or ""); lowercase modifiers, uppercase ones follow by case.
VNI_MODIFIERS = {
    "ù": ("", _ACUTE), "ø": ("", _GRAVE), "û": ("", _HOOK), "õ": ("", _TILDE), "ï": ("", _DOT),
    "â": (_CIRC, ""), "á": (_CIRC, _ACUTE), "à": (_CIRC, _GRAVE), "å": (_CIRC, _HOOK), "ã": (_CIRC, _TILDE),
    "ä": (_CIRC, _DOT),
    "ê": (_BREVE, ""), "é": (_BREVE, _ACUTE), "è": (_BREVE, _GRAVE), "ú": (_BREVE, _HOOK), "ü": (_BREVE, _TILDE),
    "ë": (_BREVE, _DOT),
}
# which modifiers each base letter takes: tone only, + circumflex, + breve (a only)
_VNI_TONES = "ùøûõï"
_VNI_CIRCS = "âáàåãä"
_VNI_BREVES = "êéèúüë"
VNI_BASES = {"a": _VNI_TONES + _VNI_CIRCS + _VNI_BREVES, "e": _VNI_TONES + _VNI_CIRCS,
             "o": _VNI_TONES + _VNI_CIRCS, "u": _VNI_TONES, "y": _VNI_TONES,
             "ô": _VNI_TONES, "ö": _VNI_TONES}  # ô is ơ, ö is ư in VNI
# characters that stand alone
VNI_SINGLE = {"ô": "ơ", "ö": "ư", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ", "ñ": "đ",
              "Ô": "Ơ", "Ö": "Ư", "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Î": "Ỵ", "Ñ": "Đ"}


def _build_vni() -> dict[str, str]:
    table: dict[str, str] = {}
    for base, mods in VNI_BASES.items():
        letter = VNI_SINGLE.get(base, base)
        for m in mods:
            shape, tone = VNI_MODIFIERS[m]
            lower = unicodedata.normalize("NFC", letter + shape + tone)
            upper = lower.upper()
            table[base + m] = lower
            table[base.upper() + m.upper()] = upper
            table[base.upper() + m] = upper
    return table


_VNI_PAIRS = _build_vni()
_TCVN3_TRANS = str.maketrans(TCVN3)

# ---------------------------------------------------------------- conversion


def tcvn3_to_unicode(text: str, upper: bool = False) -> str:
    """Convert TCVN3 mojibake; ``upper`` for text in an uppercase font (".VnTimeH")."""
    out = text.translate(_TCVN3_TRANS)
    return out.upper() if upper else _restore_capitals(text, out)


def vni_to_unicode(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        pair = text[i:i + 2]
        if len(pair) == 2 and pair in _VNI_PAIRS:
            out.append(_VNI_PAIRS[pair])
            i += 2
            continue
        c = text[i]
        out.append(VNI_SINGLE.get(c, c))
        i += 1
    return unicodedata.normalize("NFC", "".join(out))


def convert(text: str, encoding: str, upper: bool = False) -> str:
    if encoding == "tcvn3":
        return tcvn3_to_unicode(text, upper)
    if encoding == "vni":
        return vni_to_unicode(text)
    raise ValueError(f"unknown legacy encoding: {encoding}")


_WORD = re.compile(r"\S+")


def _restore_capitals(src: str, out: str) -> str:
    """TCVN3 capitals typed in an "H" font come out lowercase: "TØNH" -> "TỉNH" -> "TỈNH".

    A converted word whose Latin letters are all capitals is uppercased when that is clear (two or
    more Latin letters, or one not in first place: "§¾K"); one like "Sè" (Số or SỐ) only on a line
    with such clear capitals and no lowercase word. The TCVN3 table maps one character to one, so
    ``src`` and ``out`` align position by position."""
    if out == src:
        return out
    parts: list[str] = []
    pos = 0
    for line in src.split("\n"):
        o = out[pos:pos + len(line)]
        pos += len(line) + 1
        if o != line:
            words = [(m.start(), m.end()) for m in _WORD.finditer(line) if line[m.start():m.end()] != o[m.start():m.end()]]
            kinds = [_caps_kind(line[a:b]) for a, b in words]
            line_caps = "strong" in kinds and "lower" not in kinds
            chars = list(o)
            for (a, b), kind in zip(words, kinds):
                if kind == "strong" or (kind == "weak" and line_caps):
                    chars[a:b] = o[a:b].upper()
            o = "".join(chars)
        parts.append(o)
    return "\n".join(parts)


def _caps_kind(word: str) -> str:
    word = word.lstrip("\"'([{“‘-")
    latin = [(i, c) for i, c in enumerate(word) if c.isascii() and c.isalpha()]
    if not latin:
        return "none"
    if any(c.islower() for _, c in latin):
        return "lower"
    if len(latin) >= 2 or latin[0][0] > 0:
        return "strong"
    return "weak"


# ---------------------------------------------------------------- detection

_TONES = {_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT}
_INITIAL = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
# nuclei ending in a glide take no final consonant; the others may
_OPEN = "iêu yêu ươi ươu uôi oai oay oao oeo uây uyu uya ai ao au ay âu ây eo êu ia iu oi ôi ơi ui ưi ưu ua ưa"
_ANY = "uyê iê yê uô ươ oa oă oe uâ uê uơ uy a ă â e ê i o ô ơ u ư y"
_SYLLABLE = re.compile(
    rf"^{_INITIAL}(?:(?:{'|'.join(_OPEN.split())})|(?:{'|'.join(_ANY.split())})(?:ch|ng|nh|[cmnpt])?)$")
_SPLIT = re.compile(r"[\s\d.,;:!?()\[\]{}\"'/\\\-–—…“”‘’*+=<>|_#%&@~`^$]+")


def is_syllable(word: str) -> bool:
    """A Vietnamese syllable: initial + nucleus + final, at most one tone mark."""
    d = unicodedata.normalize("NFD", word.lower())
    tones = sum(c in _TONES for c in d)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in d if c not in _TONES))
    return bool(_SYLLABLE.match(base))


def syllable_share(text: str) -> float:
    """Share of the words with non-ASCII letters that are Vietnamese syllables (0 when none)."""
    words = [w for w in _SPLIT.split(text) if w and any(ord(c) >= 0x80 for c in w)][:_SAMPLE_WORDS]
    return sum(is_syllable(w) for w in words) / len(words) if words else 0.0


def _viet_ext(c: str) -> bool:
    return c in "ĂăĐđĨĩŨũƠơƯư" or "\u1ea0" <= c <= "\u1ef9"


_SAMPLE_WORDS = 4000


def detect(text: str) -> str | None:
    """"tcvn3" or "vni" when ``text`` reads as mojibake of that encoding, else None."""
    high = sum(1 for c in text if "\u00a0" <= c <= "\u00ff")
    if high == 0:
        return None
    if sum(1 for c in text if _viet_ext(c)) > 0.1 * high:
        return None  # already Unicode Vietnamese
    words = [w for w in _SPLIT.split(text) if w and any(ord(c) >= 0x80 for c in w)][:_SAMPLE_WORDS]
    if len(words) < 2:
        return None
    sample = " ".join(words)

    def score(candidate: str) -> float:
        ws = candidate.split(" ")
        return sum(is_syllable(w) for w in ws) / len(ws) if len(ws) == len(words) else 0.0

    here = score(sample)
    best, best_score = None, 0.0
    for enc in ("tcvn3", "vni"):
        s = score(convert(sample, enc, upper=False))
        if s > best_score:
            best, best_score = enc, s
    if best and best_score >= 0.6 and best_score >= here + 0.3:
        return best
    return None


def fix(text: str) -> tuple[str, str | None]:
    """(Unicode text, "tcvn3" | "vni" | None): converted when the text is legacy mojibake."""
    enc = detect(text)
    return (convert(text, enc), enc) if enc else (text, None)


# ---------------------------------------------------------------- bytes and fonts

# Windows-1252 characters for 0x80-0x9F, where defined; others stay as C1 code points
_CP1252_C1 = {b: bytes([b]).decode("cp1252") for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_C1_TRANS = str.maketrans({chr(b): c for b, c in _CP1252_C1.items()})


def decode_8bit(data: bytes) -> str:
    """Bytes as the characters Windows shows for them (cp1252, Latin-1 where cp1252 has a hole)."""
    return data.decode("latin-1").translate(_C1_TRANS)


def font_encoding(font: str | None) -> tuple[str | None, bool]:
    """(encoding, uppercase font) for a font name: ".VnTime" -> ("tcvn3", False),
    ".VnTimeH" -> ("tcvn3", True), "VNI-Times" -> ("vni", False); Unicode fonts -> (None, False)."""
    if not font:
        return None, False
    name = font.strip()
    if name.lower().startswith(".vn"):
        return "tcvn3", name.endswith("H")
    if name.upper().startswith("VNI-") or name.upper().startswith("VNI "):
        return "vni", False
    return None, False
