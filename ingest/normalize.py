"""Analysis view of a text: markdown emphasis, table pipes and broken lines removed.

The original text is never changed; ``clean()`` returns a ``CleanText`` whose offsets map
every clean character back to the original, so passages and quotes stay exact.
"""
from __future__ import annotations

import re

from vn.text import LOWER, UPPER

from .model import CleanText

__all__ = ["clean"]

# Each rule: (pattern, replacement). Applied in order; replacements map to the match start.
_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\r\n?"), "\n"),
    (re.compile(r"[\u00a0\t\u200b\ufeff]"), " "),
    # markdown table separator rows and dash rules ("|---|---|", "-------")
    (re.compile(r"^[ |:\-]*-{3,}[ |:\-]*$", re.M), ""),
    (re.compile(r" ?-{3,} ?"), " "),
    # table pipes: each cell on its own line
    (re.compile(r"^[ ]*\|[ ]*", re.M), ""),
    (re.compile(r"[ ]*\|[ ]*$", re.M), ""),
    (re.compile(r"[ ]*\|[ ]*"), "\n"),
    # headings and emphasis
    (re.compile(r"^#{1,6}[ ]+", re.M), ""),
    (re.compile(r"\*+"), ""),
    (re.compile(r"(?<![\w/])_{1,3}(?=\w)|(?<=\w)_{1,3}(?![\w/])"), ""),
    # trailing spaces (markdown hard breaks) and runs of spaces
    (re.compile(r"[ ]+$", re.M), ""),
    (re.compile(r"^[ ]+", re.M), ""),
    (re.compile(r"[ ]{2,}"), " "),
    # a line broken mid-sentence: previous line ends in a lower-case word or a comma, next
    # line goes on in lower case, with a number ("18-QC/TU") or an opening quote, and is not
    # an item marker or bullet -> join with one space
    (re.compile(rf"(?<=[{LOWER},])[ ]*\n+[ ]*(?=[{LOWER}“\"]|\d+[-/]\d*[{UPPER}])"), " "),
    (re.compile(r"\n{3,}"), "\n\n"),
]


def _apply(pattern: re.Pattern, repl: str, text: str, offsets: list[int]) -> tuple[str, list[int]]:
    out: list[str] = []
    out_off: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        s, e = m.span()
        out.append(text[pos:s])
        out_off.extend(offsets[pos:s])
        if repl:
            out.append(repl)
            out_off.extend([offsets[s]] * len(repl))
        pos = e
    if pos == 0 and not out:
        return text, offsets
    out.append(text[pos:])
    out_off.extend(offsets[pos:len(text)])
    out_off.append(offsets[len(text)])
    return "".join(out), out_off


def clean(original: str) -> CleanText:
    """Return the analysis view of ``original`` (already NFC) with an exact offset map."""
    text = original
    offsets = list(range(len(original) + 1))
    for pattern, repl in _RULES:
        text, offsets = _apply(pattern, repl, text, offsets)
    # strip leading/trailing blank space
    lead = len(text) - len(text.lstrip())
    trail = len(text.rstrip())
    text, offsets = text[lead:trail], offsets[lead:trail] + [offsets[trail] if trail < len(offsets) else len(original)]
    return CleanText(original=original, clean=text, offsets=offsets)
