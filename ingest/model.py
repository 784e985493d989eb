"""Plain dataclasses passed from one ingest step to the next.

file -> loaders.SourceText -> normalize.CleanText -> metadata.Metadata
     -> citations.Reference[] -> chunking.Passage[] -> index.store
Offsets are always character offsets into ``SourceText.text`` (the original,
NFC-normalised text) unless a field says otherwise.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

__all__ = ["IngestError", "SourceText", "CleanText", "Metadata", "Reference", "Passage", "Document"]


class IngestError(Exception):
    """A file could not be ingested; carries the file and the reason (Vietnamese, user-facing)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class SourceText:
    """What a loader read: the original text and where each page starts."""
    path: str
    text: str
    page_starts: list[int] = field(default_factory=list)  # offset where page i+1 starts; empty = no pages
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, offset) or 1


@dataclass
class CleanText:
    """Analysis view of a text: markdown and line-break artefacts removed.

    ``offsets[i]`` is the original offset of clean character i; ``offsets[len(clean)]``
    is the end of the original text, so any clean span maps back exactly.
    """
    original: str
    clean: str
    offsets: list[int]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a clean span [start, end) to the original span that covers it."""
        if end <= start:
            o = self.offsets[start]
            return o, o
        return self.offsets[start], self.offsets[end - 1] + 1

    def to_clean(self, orig_offset: int) -> int:
        """First clean index whose original offset is >= orig_offset."""
        return bisect.bisect_left(self.offsets, orig_offset, 0, len(self.clean))


@dataclass
class Metadata:
    number: str | None = None          # số hiệu as written, cleaned: "1321/UBND-KGVX"
    doc_type: str | None = None        # loại văn bản: "Công văn", "Chỉ thị", ...
    type_code: str | None = None       # "CV", "CT", "QĐ", ...
    issuer: str | None = None          # cơ quan ban hành: "UBND tỉnh Đắk Lắk"
    issuer_code: str | None = None     # "UBND", "HU", "TTg", ...
    level: str | None = None           # "trung ương" | "tỉnh" | "huyện"
    province: str | None = None        # "Đắk Lắk"
    date: str | None = None            # ISO "2019-02-19"
    title: str | None = None           # trích yếu (the V/v line), without "V/v"
    recipients: list[str] = field(default_factory=list)  # Kính gửi + Nơi nhận
    signer: str | None = None
    signer_title: str | None = None    # "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"


@dataclass
class Reference:
    """One reference in a document to another document."""
    quote: str                 # exactly as the source writes it ("Chỉ thị số 16/TC-TTg")
    start: int                 # original offsets of the quote
    end: int
    sentence: str              # the sentence around it (original text)
    doc_type: str | None       # resolved type word: "Chỉ thị"
    type_code: str | None      # resolved code: "CT"
    number: str | None         # "16", "04/2015", "25"
    year: int | None           # from the number or the date
    issuer_code: str | None    # "TTg", "TW", "NĐ-CP" -> "CP", "TU"
    date: str | None           # ISO date written next to it
    issuer_body: str | None    # "Thủ tướng Chính phủ", "Ban Bí thư"
    scope: str                 # "global" | "local"
    key: str                   # canonical identity, e.g. "CT|16|TTg" or "CT|14|TU|Đắk Nông"
    canonical: str             # display form, e.g. "Chỉ thị 16/CT-TTg"
    name: str | None = None    # named law without number: "Luật Tiếp công dân"
    notes: list[str] = field(default_factory=list)  # slips corrected: "letters swapped: TC -> CT"


@dataclass
class Passage:
    ord: int
    start: int                 # original offsets
    end: int
    text: str                  # original[start:end], quoted exactly
    clean: str                 # analysis form (embedding input)
    tokens: str                # underthesea word-segmented clean form, space separated
    page: int | None = None
    label: str | None = None   # "mục 3", "mục 3.b"
    heading: str | None = None # heading it sits under
    unit: int | None = 0       # ordinal of its unit in the document (an article "Điều N", else a numbered
                               # item or section; the preamble before the first is unit 0); None: a line
                               # that is only the document's title, which every passage's context carries
    unit_label: str | None = None   # "Điều 5", "mục 3"; None for the preamble
    context: str = ""          # document title + the unit's heading line: what is embedded and indexed
                               # in front of ``clean``, never quoted
    context_tokens: str = ""   # ``context`` word-segmented (as ``tokens``)
    unit_heading_tokens: str = ""   # the unit's heading line ("Điều 5. Nguyên tắc ..."), word-segmented


@dataclass
class Document:
    path: str
    sha256: str
    size: int
    source: SourceText
    metadata: Metadata
    references: list[Reference]
    passages: list[Passage]
