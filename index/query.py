"""Query parsing: document numbers, references, province, years, document type and intent.

"Văn bản nào trích dẫn Chỉ thị 16?"  -> intent "cites", reference Chỉ thị 16
"Ai ký Công văn 5500/UBND-KGVX?"     -> intent "signer", number 5500/UBND-KGVX
"dan van kheo o Dak Lak nam 2017"    -> intent "free", province Đắk Lắk, years 2017-2017
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from vn.text import fold

__all__ = ["Query", "parse_query", "INTENTS", "DOC_TYPES"]

INTENTS = ("cites", "signer", "content", "lookup", "free")

DOC_TYPES = ["Công văn", "Chỉ thị", "Nghị quyết", "Kết luận", "Quyết định", "Kế hoạch", "Chương trình",
             "Quy chế", "Nghị định", "Thông tư", "Pháp lệnh", "Luật", "Thông báo", "Hướng dẫn", "Báo cáo"]

_CITES = re.compile(r"\b(trich dan|dan chieu|vien dan|can cu|nhac (den|toi)|de cap|thuc hien theo|trien khai|cites?)\b")
_SIGNER = re.compile(r"\b(ai ky|nguoi ky|ky boi|ky ten|who signed|signer)\b")
_CONTENT = re.compile(r"\b(noi dung|noi gi|quy dinh gi|yeu cau gi|giao (ai|cho ai)|nhu the nao|ve viec gi)\b")
# "1321/UBND-KGVX", "25-NQ/TW", "04/2015/NĐ-CP"
_NUMBER = re.compile(r"\b\d{1,5}(?:/\d{4})?[/-][A-Za-zĐđÐ][\wĐđÐ.]*(?:[/-][A-Za-zĐđÐ][\wĐđÐ.]*)*")
_YEAR_RANGE = re.compile(r"\b(?:tu nam |nam |tu |from )?((?:19|20)\d{2})\s*(?:-|–|den|toi|to)\s*(?:nam )?((?:19|20)\d{2})\b")
_YEAR = re.compile(r"\b(?:nam |year )((?:19|20)\d{2})\b|\b((?:19|20)\d{2})\b")


@dataclass
class Query:
    text: str
    intent: str = "free"
    numbers: list[str] = field(default_factory=list)     # full document numbers written in the query
    references: list[dict] = field(default_factory=list)  # partial references (see citations.parse_reference_query)
    province: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_type: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def parse_query(text: str) -> Query:
    from vn.numbers import parse_reference_query
    from vn.places import find_province

    text = " ".join(text.split())
    q = Query(text=text)
    folded = fold(text)
    q.numbers = [m.group(0).rstrip(".,;?") for m in _NUMBER.finditer(text)]
    q.references = parse_reference_query(text)
    q.province = find_province(text)
    if m := _YEAR_RANGE.search(folded):
        q.year_from, q.year_to = sorted((int(m.group(1)), int(m.group(2))))
    else:
        years = [int(a or b) for a, b in _YEAR.findall(_NUMBER.sub(" ", folded))]
        if len(years) == 1:
            q.year_from = q.year_to = years[0]
    if _CITES.search(folded) and (q.references or q.numbers):
        q.intent = "cites"
    elif _SIGNER.search(folded):
        q.intent = "signer"
    elif _CONTENT.search(folded) and (q.references or q.numbers):
        q.intent = "content"
    elif (q.numbers or q.references) and _is_bare_reference(text, q):
        q.intent = "lookup"
    for t in DOC_TYPES:  # "các kế hoạch về ..." filters by type only when no reference names it
        if not q.references and re.search(rf"\b{fold(t)}\b", folded) and q.intent == "free":
            q.doc_type = t
            break
    return q


def _is_bare_reference(text: str, q: Query) -> bool:
    """The query is only a number or a reference ("1321/UBND-KGVX", "Chỉ thị 16")."""
    rest = _NUMBER.sub(" ", text)
    rest = re.sub(r"\d+", " ", rest)
    words = [w for w in fold(rest).split() if w not in {"so", "ve", "cua"}]
    type_words = {w for t in DOC_TYPES for w in fold(t).split()} | {"ct", "nq", "kl", "qd", "kh", "cv"}
    return all(w in type_words for w in words)
