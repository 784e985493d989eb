"""A document named the way administrative writing names it, and dates written the Vietnamese way."""
from __future__ import annotations

__all__ = ["format_citation", "format_date"]


def format_date(iso: str | None) -> str:
    """ "2017-07-14" -> "14/7/2017"; "" when unknown."""
    if not iso:
        return ""
    try:
        y, m, d = iso.split("-")
        return f"{int(d)}/{int(m)}/{y}"
    except ValueError:
        return iso


def format_citation(doc: dict) -> str:
    """"Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk"."""
    parts = [doc.get("type") or "Văn bản"]
    if doc.get("number"):
        parts.append(f"số {doc['number']}")
    if doc.get("date"):
        parts.append(f"ngày {format_date(doc['date'])}")
    if doc.get("issuer"):
        parts.append(f"của {doc['issuer']}")
    return " ".join(parts)
