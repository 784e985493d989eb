"""Passages that follow the document's own structure.

Items ("1.", "Điều 5"), sub-items ("a)") and paragraphs become passages; short header lines are
packed together; anything longer than ``max_chars`` is split at sentence boundaries
(underthesea ``sent_tokenize``). Spans are computed on the clean text and mapped back so that
``Passage.text`` is the original text, quoted exactly.

Each passage also records its *unit*, the part of the document a reader asks about: an article
("Điều N" up to the next one), or, in a document without articles, a numbered item ("1.") or a
section heading; what comes before the first is the preamble. And its *context*: the document's
title and, after a unit's first passage, the unit's heading line. The context is put in front of the
passage in what is embedded and what BM25 indexes (``with_context``), never in what is quoted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from vn.text import ARTICLE, LOWER
from vn.words import segment_words, split_sentences

from .model import CleanText, Passage, SourceText

__all__ = ["chunk", "MAX_CHARS", "document_title", "with_context"]

# ~1,000 characters of Vietnamese is about 250-300 e5 tokens: well inside the 512-token window
# and small enough that a passage is about one thing.
MAX_CHARS = 1000
MIN_CHARS = 200
TITLE_CHARS = 300   # a document title in the context is cut here (some trích yếu run on)
HEAD_CHARS = 200    # a unit's heading line likewise

_ITEM = re.compile(r"(\d{1,2})(?:\.(\d{1,2}))?[.)]\s+(?=\S)")
_SUB = re.compile(rf"([{LOWER}])\)\s+")
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
        elif m := ARTICLE.match(line):
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


def document_title(doc_type: str | None, title: str | None) -> str | None:
    """The title a passage's context carries: the trích yếu with its type ("Nghị định Quy định ...")."""
    if not title:
        return None
    t = " ".join(title.split())
    return (f"{doc_type} {t}" if doc_type and not t.lower().startswith(doc_type.lower()) else t)[:TITLE_CHARS]


def with_context(context: str, text: str) -> str:
    """What is embedded (``clean``) or indexed (``tokens``) for a passage: its context, then its text."""
    return f"{context}\n{text}" if context else text


def chunk(source: SourceText, ct: CleanText, max_chars: int = MAX_CHARS,
          segment: bool = True, title: str | None = None) -> list[Passage]:
    """Split a cleaned document into passages that follow its structure, each with its unit and context.

    ``title``: the document's title (``document_title``); without one, a short first line before the
    first unit stands for it (a file that starts "Luật Đất đai" then "Điều 5. ...")."""
    passages: list[Passage] = []
    starts: list[bool] = []   # the passage opens a unit
    groups = _groups(ct.clean)
    articles = any(g.kind == "item" and g.label and g.label.startswith("Điều") for g in groups)
    for g in groups:
        opens = (g.kind == "item" and bool(g.label) and g.label.startswith("Điều")) if articles else (
            g.kind == "head" or (g.kind == "item" and bool(g.label) and re.fullmatch(r"mục \d+", g.label or "")))
        for j, (s, e) in enumerate(_split(ct.clean, g, max_chars)):
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
            starts.append(opens and j == 0)
    _units(passages, starts, title, segment)
    return passages


def _first_line(text: str, n: int) -> str:
    return text.strip().split("\n")[0].strip()[:n]


def _units(passages: list[Passage], starts: list[bool], title: str | None, segment: bool) -> None:
    """Fill each passage's unit, unit label and context (see the module's docstring)."""
    if not passages:
        return
    first = next((i for i, s in enumerate(starts) if s), None)
    if title is None and not starts[0]:
        line = _first_line(passages[0].clean, TITLE_CHARS + 1)
        title = line if line and len(line) <= TITLE_CHARS else None
    seg = segment_words if segment else (lambda x: x)
    title_tok = seg(title) if title else ""
    # a preamble that is only the title line: its text is in every passage's context; it joins no unit
    only_title = first is not None and first > 0 and bool(title) and all(
        p.clean.strip() == title for p in passages[:first])
    unit, label, head, head_tok = -1, None, None, ""
    for i, p in enumerate(passages):
        if i == 0 or starts[i]:
            unit += 1
            label = _unit_label(p) if starts[i] else None
            head, head_tok = None, ""
            if starts[i]:
                head = _first_line(p.clean, HEAD_CHARS)
                head_tok = seg(head)
            context, tokens = title or "", title_tok
        else:
            context = "\n".join(x for x in (title, head) if x)
            tokens = "\n".join(x for x in (title_tok, head_tok) if x)
        if only_title and i < first:
            p.unit, p.unit_label, p.context, p.context_tokens = None, None, "", ""
            unit = -1  # the first article is unit 0
            continue
        p.unit, p.unit_label, p.context, p.context_tokens = unit, label, context, tokens
        p.unit_heading_tokens = head_tok


def _unit_label(p: Passage) -> str | None:
    """"Điều 5" for an article, "mục 3" for a numbered item, the heading for a section."""
    return p.label or _first_line(p.clean, 60)
