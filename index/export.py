"""Every CSV the system writes goes through ``csv_text``: RFC 4180 with CRLF, and no cell a spreadsheet
would run as a formula (a cell starting with = + - @, a tab or a carriage return gets a leading
apostrophe: https://owasp.org/www-community/attacks/CSV_Injection)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Iterable

from vn.cite import format_citation, format_date

__all__ = ["csv_text", "guard_cell", "results_csv", "result_passages", "sentence_span", "RESULT_COLUMNS"]

_FORMULA = re.compile(r"^[=+\-@\t\r]")


def guard_cell(value) -> str:
    s = "" if value is None else str(value)
    return "'" + s if _FORMULA.match(s) else s


def csv_text(header: list[str], rows: Iterable[Iterable]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([guard_cell(h) for h in header])
    for row in rows:
        w.writerow([guard_cell(x) for x in row])
    return buf.getvalue()


def result_passages(result: dict) -> list[dict]:
    """Passages of an ask, search or cites result, each with its ``document``."""
    if "results" in result:                     # search
        return list(result["results"])
    if "passages" in result:                    # ask
        return list(result["passages"])
    out = []                                    # cites
    for d in result.get("documents", []):
        doc = {k: v for k, v in d.items() if k != "passages"}
        out += [{**p, "doc_id": doc["id"], "number": doc["number"], "document": doc} for p in d.get("passages", [])]
    return out


def sentence_span(p: dict) -> tuple[int, int] | None:
    """Where a passage's answering sentence lies in its text, if the result names one."""
    if p.get("sentence_start") is not None and p.get("sentence_end") is not None:
        return int(p["sentence_start"]), int(p["sentence_end"])
    sent = (p.get("sentence") or "").strip()
    if sent:
        i = p["text"].find(sent)
        if i >= 0:
            return i, i + len(sent)
    return None


RESULT_COLUMNS = ["STT", "Trích dẫn", "Số hiệu", "Loại văn bản", "Cơ quan ban hành", "Tỉnh/thành", "Ngày ban hành",
                  "Trích yếu", "Mục", "Trang", "Câu trả lời", "Đoạn văn", "Tệp"]


def results_csv(result: dict) -> str:
    """The passages of an ask, search or cites result, one row each (the file's name, never its server path)."""
    rows = []
    for i, p in enumerate(result_passages(result), 1):
        d = p["document"]
        ss = sentence_span(p)
        rows.append([i, format_citation(d), d.get("number"), d.get("type"), d.get("issuer"), d.get("province"),
                     format_date(d.get("date")), d.get("title"), p.get("label"), p.get("page"),
                     p["text"][ss[0]:ss[1]].strip() if ss else "", p.get("text"),
                     Path(d["path"]).name if d.get("path") else ""])
    return csv_text(RESULT_COLUMNS, rows)
