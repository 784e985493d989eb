"""Passages that follow the document's own structure.

Items ("1.", "Điều 5"), sub-items ("a)") and paragraphs become passages; short header lines are
packed together; anything longer than ``max_chars`` is split at sentence boundaries
(underthesea ``sent_tokenize``). Spans are computed on the clean text and mapped back so that
``Passage.text`` is the original text, quoted exactly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from vn.text import LOWER
from vn.words import segment_words, split_sentences

from .model import CleanText, Passage, SourceText

__all__ = ["chunk", "MAX_CHARS"]

# ~1,000 characters of Vietnamese is about 250-300 e5 tokens: well inside the 512-token window
# and small enough that a passage is about one thing.
MAX_CHARS = 1000
MIN_CHARS = 200

_ITEM = re.compile(r"(\d{1,2})(?:\.(\d{1,2}))?[.)]\s+(?=\S)")
_SUB = re.compile(rf"([{LOWER}])\)\s+")
_ARTICLE = re.compile(r"Điều\s+(\d+[a-z]?)\b")
_HEADING = re.compile(r"(Chương\s+[IVXLC\d]+|Mục\s+\d+|Phần\s+(?:thứ\s+\w+|[IVXLC\d]+)|[IVX]{1,5}\.)(?=\s|$)")
_CLOSING = re.compile(r"(Nơi nhận|Trên đây|Nhận được (?:Công văn|văn bản))")


@dataclass
class _Group:
    start: int       # clean offsets
    end: int
    label: str | None
    heading: str | None
    kind: str        # "item" | "sub" | "para" | "head" | "closing"


def _lines(text: str):
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            yield pos, pos + len(line), line
        pos += len(line) + 1


def _groups(clean: str) -> list[_Group]:
    groups: list[_Group] = []
    heading: str | None = None
    item: str | None = None
    for s, e, line in _lines(clean):
        if m := _HEADING.match(line):
            heading = line.strip()[:200]
            item = None
            groups.append(_Group(s, e, None, heading, "head"))
        elif m := _ARTICLE.match(line):
            item = f"Điều {m.group(1)}"
            groups.append(_Group(s, e, item, heading, "item"))
        elif (m := _ITEM.match(line)) and not re.match(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}", line):
            item = f"mục {m.group(1)}" + (f".{m.group(2)}" if m.group(2) else "")
            groups.append(_Group(s, e, item, heading, "item"))
        elif (m := _SUB.match(line)) and item:
            groups.append(_Group(s, e, f"{item}.{m.group(1)}", heading, "sub"))
        elif _CLOSING.match(line):
            item = None
            groups.append(_Group(s, e, None, heading, "closing"))
        elif groups and groups[-1].kind in ("item", "sub", "closing") and item is not None or (
                groups and groups[-1].kind == "closing"):
            groups[-1].end = e  # a paragraph continuing the current item or closing block
        else:
            groups.append(_Group(s, e, item, heading, "para"))
    return _pack(clean, groups)


def _pack(clean: str, groups: list[_Group]) -> list[_Group]:
    """Merge runs of short plain paragraphs (header lines, recipient lists) up to MAX_CHARS."""
    out: list[_Group] = []
    for g in groups:
        prev = out[-1] if out else None
        if (prev is not None and g.kind in ("para", "head") and prev.kind in ("para", "head")
                and prev.end - prev.start < MIN_CHARS and g.end - prev.start <= MAX_CHARS):
            prev.end = g.end
            prev.heading = prev.heading or g.heading
        elif (prev is not None and g.kind == "sub" and prev.label and g.label.startswith(prev.label + ".")
              and g.end - prev.start <= MAX_CHARS):
            prev.end = g.end  # sub-items stay with their item while it fits
        else:
            out.append(g)
    return out


def _split(clean: str, g: _Group, max_chars: int) -> list[tuple[int, int]]:
    if g.end - g.start <= max_chars:
        return [(g.start, g.end)]
    text = clean[g.start:g.end]
    # aim at equal windows rather than a full one and a scrap
    n = -(-len(text) // max_chars)
    target = min(max_chars, int(len(text) / n * 1.1))
    pieces: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        if pieces and pieces[-1][1] - pieces[-1][0] < 30:  # "2." alone is no sentence
            s = pieces.pop()[0]
        while e - s > target:  # an overlong sentence: cut at the last space before the limit
            cut = max(text.rfind("; ", s + target // 2, s + target), text.rfind(", ", s + target // 2, s + target))
            cut = cut + 1 if cut > s else text.rfind(" ", s, s + target)
            cut = cut if cut > s else s + target
            pieces.append((s, cut))
            s = cut + 1 if text[cut:cut + 1] == " " else cut
        pieces.append((s, e))
    windows: list[tuple[int, int]] = []
    for s, e in pieces:
        if windows and e - windows[-1][0] <= target:
            windows[-1] = (windows[-1][0], e)
        else:
            windows.append((s, e))
    return [(g.start + s, g.start + e) for s, e in windows]


def chunk(source: SourceText, ct: CleanText, max_chars: int = MAX_CHARS,
          segment: bool = True) -> list[Passage]:
    """Split a cleaned document into passages that follow its structure."""
    passages: list[Passage] = []
    for g in _groups(ct.clean):
        for s, e in _split(ct.clean, g, max_chars):
            while s < e and ct.clean[s].isspace():
                s += 1
            while e > s and ct.clean[e - 1].isspace():
                e -= 1
            if e <= s:
                continue
            os_, oe = ct.to_original(s, e)
            clean_text = ct.clean[s:e]
            passages.append(Passage(
                ord=len(passages), start=os_, end=oe, text=ct.original[os_:oe], clean=clean_text,
                tokens=segment_words(clean_text) if segment else clean_text,
                page=source.page_at(os_), label=g.label, heading=g.heading))
    return passages
