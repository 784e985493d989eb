"""HTML and text the app shows: highlighting, links, result cards, document views, reports and hints.

Pure functions of plain dicts (the library's results), tested without Streamlit (tests/test_render.py).
Every character of document text is escaped for the renderer it reaches (``ui.safe``: ``esc`` for HTML
blocks, ``md`` for markdown elements); the only links on a page are the ones built here.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Iterable
from urllib.parse import urlencode

from index.export import result_passages, sentence_span
from index.search import Filters
from vn.cite import format_citation, format_date
from vn.stopwords import QUERY_WORDS
from vn.text import fold, has_diacritics, nfc

from .safe import esc, link

__all__ = [
    "DOCUMENT_PAGE", "document_html", "metadata_rows", "passage_cards", "doc_link", "search_link", "format_date",
    "query_terms", "highlight", "report_rows", "report_summary", "status_rows", "no_result_hints",
    "filters_summary", "names_a_document", "card_html", "result_card_html", "document_label", "document_options",
    "similar_cards",
]

DOCUMENT_PAGE = "van-ban"   # url path of the document view (ui/pages/document.py)


# --- small formatting helpers -------------------------------------------------------------------

def doc_link(doc_id: int, passage_id: int | None = None, query: str | None = None) -> str:
    """Relative link that opens a document in the app: "van-ban?doc=3&p=16&q=...". """
    params: dict[str, str] = {"doc": str(int(doc_id))}
    if passage_id is not None:
        params["p"] = str(int(passage_id))
    if query:
        params["q"] = query
    return f"{DOCUMENT_PAGE}?" + urlencode(params)


def search_link(query: str | None = None) -> str:
    """Relative link to the search page, with the question when there is one: "./?q=...". """
    return "./?" + urlencode({"q": query}) if query else "./"


def document_label(doc: dict) -> str:
    """How a document is named in a list: its citation, and its file name when it has no number
    (two documents without metadata would otherwise both read "Văn bản")."""
    cit = format_citation(doc)
    if not doc.get("number") and doc.get("path"):
        return f"{cit} ({Path(doc['path']).name})"
    return cit


def metadata_rows(doc: dict, paths: bool = False) -> list[tuple[str, str]]:
    """(label, value) pairs of a document's metadata, in Vietnamese, unknown fields left out.
    ``paths``: the "Tệp" row with the server paths (administrators only)."""
    rows = [("Số hiệu", doc.get("number")), ("Loại văn bản", doc.get("type")),
            ("Cơ quan ban hành", doc.get("issuer")), ("Cấp", doc.get("level")),
            ("Tỉnh/thành", doc.get("province")), ("Ngày ban hành", format_date(doc.get("date"))),
            ("Trích yếu", doc.get("title")), ("Người ký", doc.get("signer")),
            ("Chức vụ người ký", doc.get("signer_title")),
            ("Nơi nhận", "; ".join(doc.get("recipients") or []))]
    if paths:
        rows.append(("Tệp", "; ".join(doc.get("paths") or [doc.get("path") or ""])))
    return [(k, str(v)) for k, v in rows if v]


# --- highlighting ------------------------------------------------------------------------------

_STOP = QUERY_WORDS
# folded forms that would collide with content words ("thì"/"thị", "văn"/"vận") stay out
_STOP_FOLDED = {fold(w) for w in _STOP} - {"van", "ban", "thi", "do", "the"}
_PUNCT = "?!.,;:“”\"'()[]{}«»…"
_NUMBERISH = re.compile(r"\d.*[/\-]|[/\-].*\d")


def _fold_char(c: str) -> str:
    f = fold(c)
    return f if len(f) == 1 else c.lower()[:1] or c


def _comparable(text: str, folded: bool) -> str:
    """Same length as ``text`` (offsets stay valid): lower-cased, and diacritics stripped if ``folded``."""
    if folded:
        return "".join(_fold_char(c) for c in text)
    return "".join((c.lower() if len(c.lower()) == 1 else c) for c in text)


def query_terms(query: str) -> tuple[list[str], list[str], bool]:
    """(words, phrases, folded): what ``highlight`` marks for a query.

    A query typed without diacritics matches without diacritics ("dan van kheo" marks "Dân vận khéo");
    with diacritics it matches exactly, so "vận" does not mark "văn". Document numbers
    ("1321/UBND-KGVX") are phrases; "văn bản" and function words are dropped.
    """
    query = nfc(query or "")
    folded = not has_diacritics(query)
    words: list[str] = []
    phrases: list[str] = []
    tokens = [t.strip(_PUNCT) for t in query.split()]
    tokens = [t for t in tokens if t]
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if i + 1 < len(tokens) and fold(t) == "van" and fold(tokens[i + 1]) == "ban":
            i += 2
            continue
        i += 1
        if _NUMBERISH.search(t):
            phrases.append(_comparable(t, folded))
            continue
        for w in re.findall(r"\w+", _comparable(t, folded)):
            if w in (_STOP_FOLDED if folded else _STOP):
                continue
            if len(w) < 2 and not w.isdigit():
                continue
            if w not in words:
                words.append(w)
    return words, phrases, folded


def highlight(text: str, query: str = "", spans: Iterable[tuple[int, int, str]] = (),
              strip_markup: bool = False) -> str:
    """HTML of ``text`` with the query's words in ``<mark>`` and ``spans`` wrapped in ``<span class=..>``.

    Every character of ``text`` is HTML-escaped (documents may contain markup or scripts); spans are
    (start, end, css_class) over ``text`` and may overlap; classes are restricted to [a-z0-9-].
    ``strip_markup`` hides markdown emphasis asterisks left in the original text.
    """
    text = text or ""
    n = len(text)
    classes: list[set[str]] = [set() for _ in range(n)]
    for start, end, cls in spans:
        cls = re.sub(r"[^a-z0-9\- ]", "", str(cls).lower()).strip()
        if not cls:
            continue
        for i in range(max(0, int(start)), min(n, int(end))):
            classes[i].add(cls)
    words, phrases, folded = query_terms(query)
    if words or phrases:
        comp = _comparable(text, folded)
        for m in re.finditer(r"\w+", comp):
            if m.group(0) in words:
                for i in range(m.start(), m.end()):
                    classes[i].add("hl")
        for ph in phrases:
            for m in re.finditer(r"(?<!\w)" + re.escape(ph) + r"(?!\w)", comp):
                for i in range(m.start(), m.end()):
                    classes[i].add("hl")
    out: list[str] = []
    i = 0
    while i < n:
        j = i
        while j < n and classes[j] == classes[i]:
            j += 1
        chunk = text[i:j]
        if strip_markup:
            chunk = chunk.replace("*", "")
        if chunk:
            # newlines as character references: the HTML stays one block even inside st.markdown,
            # whose markdown parser would otherwise turn "1." or "- " lines into lists
            esc = html.escape(chunk, quote=True).replace("\r", "").replace("\n", "&#10;")
            cls = classes[i]
            if not cls:
                out.append(esc)
            else:
                tag = "mark" if "hl" in cls or "quote" in cls else "span"
                out.append(f'<{tag} class="{" ".join(sorted(cls))}">{esc}</{tag}>')
        i = j
    return "".join(out)


def document_html(view: dict, query: str = "", passage_id: int | None = None) -> str:
    """Full text of a ``document_view`` as HTML: references underlined, the chosen passage marked, and
    the query's words marked inside that passage (not for a "who cites X" question, whose words
    are about the cited document)."""
    from index.query import parse_query
    spans = [(s, e, "ref") for o in view["outgoing"] for s, e in o["spans"]]
    chosen = next((p for p in view["passages"] if p["passage_id"] == passage_id), None)
    if chosen is None:
        return highlight(view["text"], "", spans, strip_markup=True)
    spans.append((chosen["start"], chosen["end"], "psg"))
    text = view["text"]
    terms = "" if not query or parse_query(query).intent == "cites" else query
    before = highlight(text[:chosen["start"]], "", _shift(spans, 0, chosen["start"]), strip_markup=True)
    inside = highlight(text[chosen["start"]:chosen["end"]], terms, _shift(spans, chosen["start"], chosen["end"]),
                       strip_markup=True)
    after = highlight(text[chosen["end"]:], "", _shift(spans, chosen["end"], len(text)), strip_markup=True)
    return before + f'<span id="passage-{int(chosen["passage_id"])}"></span>' + inside + after


def _shift(spans, lo: int, hi: int) -> list[tuple[int, int, str]]:
    return [(max(s, lo) - lo, min(e, hi) - lo, c) for s, e, c in spans if s < hi and e > lo]


# --- result cards and CSV ------------------------------------------------------------------------

def passage_cards(result: dict, query: str | None = None) -> list[dict]:
    """One card per supporting passage: document fields, location, link and highlighted HTML.

    In a "who cites X" answer the quote as written is marked instead of the query's words.
    """
    query = result.get("question") or result.get("query") if query is None else query
    if not isinstance(query, str):
        query = ""
    terms = "" if result.get("intent") == "cites" or "reference" in result else query
    cards = []
    for p in result_passages(result):
        d = p["document"]
        spans = []
        ss = sentence_span(p)
        if ss and ss[1] > ss[0]:
            spans.append((ss[0], ss[1], "ans"))
        if p.get("quote_start") is not None and p.get("quote_end") is not None:
            spans.append((p["quote_start"], p["quote_end"], "quote"))
        doc_id = p.get("doc_id") or d["id"]
        cards.append({
            "doc_id": doc_id, "passage_id": p.get("passage_id"), "citation": format_citation(d),
            "number": d.get("number") or "", "type": d.get("type") or "", "issuer": d.get("issuer") or "",
            "province": d.get("province") or "", "date": format_date(d.get("date")), "title": d.get("title") or "",
            "label": p.get("label") or "", "page": p.get("page"),
            "sentence": (p["text"][ss[0]:ss[1]].strip() if ss else ""),
            "html": highlight(p["text"], terms, spans, strip_markup=True),
            "link": doc_link(doc_id, p.get("passage_id"), query or None),
        })
    return cards


def card_html(head_html: str, body_html: str, head_class: str = "vb-meta") -> str:
    """A bordered card: a head line and a body (both already HTML built from ``esc``/``link``)."""
    return (f'<div class="vb-card"><div class="{esc(head_class)}">{head_html}</div>'
            f'<div class="vb-text">{body_html}</div></div>')


def result_card_html(i: int, c: dict) -> str:
    """One search result card from ``passage_cards``: [i] linked citation, metadata line, passage."""
    where = " · ".join(x for x in [c["label"], f"trang {c['page']}" if c["page"] else ""] if x)
    meta = " · ".join(x for x in [c["number"] and f"Số {c['number']}", c["issuer"],
                                  c["date"] and f"ngày {c['date']}", where] if x)
    return (f'<div class="vb-card"><div class="vb-head">[{int(i)}] {link(c["citation"], c["link"])}</div>'
            f'<div class="vb-meta">{esc(meta)}{" — " + esc(c["title"]) if c["title"] else ""}</div>'
            f'<div class="vb-text">{c["html"]}</div></div>')


# --- ingest reports, status, hints ------------------------------------------------------------------

_OUTCOME = {"added": "Đã thêm", "updated": "Đã cập nhật", "unchanged": "Không đổi", "removed": "Đã xoá",
            "failed": "Lỗi", "skipped": "Bỏ qua", "duplicates": "Trùng nội dung"}


def report_summary(report: dict) -> str:
    """ "Đã thêm 1, cập nhật 0, không đổi 5, xoá 0, lỗi 1." """
    n = lambda k: len(report.get(k) or [])  # noqa: E731
    text = (f"Đã thêm {n('added')}, cập nhật {n('updated')}, không đổi {n('unchanged')}, "
            f"xoá {n('removed')}, lỗi {n('failed')}")
    if n("skipped"):
        text += f", bỏ qua {n('skipped')}"
    return text + "."


def report_rows(report: dict) -> list[dict]:
    """One row per file: {Tệp, Kết quả, Lý do}; failures and skipped files first."""
    rows = []
    for k in ("failed", "skipped", "added", "updated", "duplicates", "removed", "unchanged"):
        for item in report.get(k) or []:
            if isinstance(item, dict):
                path = item.get("path", "")
                reason = item.get("error") or ""
                if k == "duplicates":
                    reason = "cùng nội dung với " + ", ".join(Path(p).name for p in item.get("same_as", []))
            else:
                path, reason = item, ""
            rows.append({"Tệp": Path(path).name, "Kết quả": _OUTCOME[k], "Lý do": reason})
    return rows


def _built_at(value: str | None) -> str:
    if not value:
        return ""
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)", value)
    return f"{int(m.group(3))}/{int(m.group(2))}/{m.group(1)} {m.group(4)}" if m else value


def status_rows(stats: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of Searcher.stats() for the status panel."""
    rows = [("Văn bản", stats.get("documents")), ("Đoạn văn bản", stats.get("passages")),
            ("Trích dẫn", stats.get("references")), ("Tệp", stats.get("files")),
            ("Tệp lỗi", stats.get("failed")),
            ("Bộ nhúng", f"{stats.get('embedder')} ({stats.get('dimension')} chiều)"),
            ("Loại chỉ mục vectơ", stats.get("index_kind")), ("Thế hệ chỉ mục", stats.get("generation")),
            ("Dựng lúc", _built_at(stats.get("built_at"))), ("Thư mục chỉ mục", stats.get("index_dir"))]
    return [(k, "" if v is None else str(v)) for k, v in rows]


def filters_summary(f: Filters | None) -> str:
    """ "tỉnh Đắk Lắk, năm 2017–2019" for the active filters; "" when none."""
    if f is None or f.empty():
        return ""
    parts = []
    if f.province:
        parts.append(f"tỉnh/thành {f.province}")
    if f.year_from or f.year_to:
        parts.append(f"năm {f.year_from or '…'}–{f.year_to or '…'}")
    if f.doc_type:
        parts.append(f"loại {f.doc_type}")
    if f.issuer:
        parts.append(f"cơ quan {f.issuer}")
    return ", ".join(parts)


def names_a_document(result: dict) -> bool:
    """The question names a document by number or reference ("9999/UBND-KGVX", "Chỉ thị 999"):
    typing it without diacritics cannot find what is not in the index."""
    q = result.get("query") or {}
    return bool(q.get("numbers") or q.get("references") or result.get("reference") or result.get("candidates"))


def no_result_hints(query: str, filters: Filters | None = None, result: dict | None = None) -> list[str]:
    """Suggestions shown when nothing is found (plain text: escape for the renderer it reaches)."""
    hints = []
    active = filters_summary(filters)
    if active:
        hints.append(f"Bỏ bớt bộ lọc ở thanh bên (đang lọc theo {active}).")
    if result is not None and names_a_document(result):
        pass  # a number or a reference is matched as written; diacritics play no part
    elif has_diacritics(query or ""):
        hints.append(f"Thử gõ không dấu: “{fold(query)}”.")
    else:
        hints.append("Thử gõ có dấu, hoặc dùng từ khác gần nghĩa.")
    if _NUMBERISH.search(query or ""):
        hints.append("Kiểm tra lại số hiệu, ví dụ “1321/UBND-KGVX” hoặc “25-NQ/TW”.")
    hints.append("Hỏi theo dạng “Văn bản nào trích dẫn Chỉ thị 16?” để tìm văn bản viện dẫn.")
    return hints


# --- similar documents and document pickers ------------------------------------------------------

def document_options(docs: list[dict]) -> dict[int, str]:
    """doc id -> citation ("Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk") for a
    picker, in date order; ``docs`` as ``Searcher.docs()["documents"]`` returns them."""
    ordered = sorted(docs, key=lambda d: (d.get("date") or "9999", d.get("number") or ""))
    return {d["id"]: document_label(d) for d in ordered}


def similar_cards(r: dict) -> list[dict]:
    """``similar_documents`` as cards: citation, link, score (percent), province and matching
    passage pairs (own text, other text, other label, similarity percent, link to the other passage)."""
    out = []
    for x in r["results"]:
        d = x["document"]
        out.append({"doc_id": d["id"], "citation": format_citation(d), "title": d.get("title") or "",
                    "province": d.get("province") or "", "link": doc_link(d["id"]),
                    "score": round(100 * x["score"]),
                    "pairs": [{"text": p["text"], "other_text": p["other_text"], "other_label": p.get("other_label") or "",
                               "similarity": round(100 * p["similarity"]),
                               "link": doc_link(d["id"], p["other_passage_id"])} for p in x["pairs"]]})
    return out
