"""What the app shows, as plain data: document views, result cards, highlighting, CSV, uploads.

Everything here is a pure function of a ``Searcher`` (or of plain dicts) so ``app.py`` stays a thin
layer of widgets, and every view is tested without Streamlit (tests/test_views.py). The one stateful
piece is ``IngestRunner``: an ingest in a background thread whose progress the app polls, so search
goes on using the previous index generation while a rebuild runs.
"""
from __future__ import annotations

import csv
import html
import io
import os
import re
import threading
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Iterable
from urllib.parse import urlencode

from ingest.normalize import fold, nfc

from .qa import format_citation
from .search import Filters, Searcher, document_json

__all__ = [
    "own_key", "document_view", "document_html", "md_escape", "metadata_rows", "passage_cards", "doc_link",
    "format_date",
    "query_terms", "highlight", "results_csv", "CSV_COLUMNS", "safe_filename", "save_uploads",
    "UPLOAD_TYPES", "report_rows", "report_summary", "status_rows", "no_result_hints",
    "filters_summary", "IngestJob", "IngestRunner", "BusyError",
]

UPLOAD_TYPES = ("pdf", "docx", "doc", "txt", "md")


# --- small formatting helpers -------------------------------------------------------------------

def format_date(iso: str | None) -> str:
    """ "2017-07-14" -> "14/7/2017" (the form format_citation uses); "" when unknown."""
    if not iso:
        return ""
    try:
        y, m, d = iso.split("-")
        return f"{int(d)}/{int(m)}/{y}"
    except ValueError:
        return iso


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>$~|])")


def md_escape(text: str) -> str:
    """Document text safe to show in a Streamlit markdown element: no links, images, HTML, LaTeX or
    emphasis made from characters the document happens to contain."""
    text = _MD_SPECIAL.sub(r"\\\1", text or "")
    return re.sub(r"(?m)^(\s*)([#+-]|\d+\.)(?=\s)",
                  lambda m: m.group(1) + (m.group(2)[:-1] + "\\." if m.group(2).endswith(".") else "\\" + m.group(2)),
                  text)


def doc_link(doc_id: int, passage_id: int | None = None, query: str | None = None) -> str:
    """Relative link that opens a document in the app: "?doc=3&p=16&q=...". """
    params: dict[str, str] = {"doc": str(int(doc_id))}
    if passage_id is not None:
        params["p"] = str(int(passage_id))
    if query:
        params["q"] = query
    return "?" + urlencode(params)


def metadata_rows(doc: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of a document's metadata, in Vietnamese, unknown fields left out."""
    rows = [("Số hiệu", doc.get("number")), ("Loại văn bản", doc.get("type")),
            ("Cơ quan ban hành", doc.get("issuer")), ("Cấp", doc.get("level")),
            ("Tỉnh/thành", doc.get("province")), ("Ngày ban hành", format_date(doc.get("date"))),
            ("Trích yếu", doc.get("title")), ("Người ký", doc.get("signer")),
            ("Chức vụ người ký", doc.get("signer_title")),
            ("Nơi nhận", "; ".join(doc.get("recipients") or [])),
            ("Tệp", "; ".join(doc.get("paths") or [doc.get("path") or ""]))]
    return [(k, str(v)) for k, v in rows if v]


# --- reference resolution ----------------------------------------------------------------------

def own_key(doc: dict) -> str | None:
    """The key other documents cite this one by ("CV|5500|UBND|Đắk Lắk"); None without a number."""
    from ingest.citations import document_key
    return document_key(doc.get("number"), doc.get("province"))


def document_view(s: Searcher, doc_id: int) -> dict | None:
    """A document with its full text, passages, the documents it cites and those citing it.

    ``outgoing``: one entry per cited reference (grouped by key), ``target`` the indexed document it
    resolves to (or None when the cited document is not in the index). ``incoming``: documents whose
    references resolve to this one, each with the citing passages and the quote's offsets in them.
    """
    d = s.store.document(int(doc_id))
    if d is None:
        return None
    doc = document_json(d)
    passages = [{"passage_id": p["id"], "ord": p["ord"], "start": p["start"], "end": p["end"],
                 "page": p["page"], "label": p["label"], "text": p["text"]}
                for p in s.store.document_passages(d["id"])]
    keys = s.document_keys()

    outgoing: dict[str, dict] = {}
    for r in s.store.references(doc_id=d["id"]):
        o = outgoing.get(r["key"])
        if o is None:
            targets = [i for i in keys.get(r["key"], []) if i != d["id"]]
            target = None
            if targets:
                t = document_json(s.store.document(targets[0]))
                target = {"id": t["id"], "citation": format_citation(t), "title": t["title"],
                          "link": doc_link(t["id"])}
            o = outgoing[r["key"]] = {"key": r["key"], "canonical": r["canonical"], "quotes": [],
                                      "sentence": r["sentence"], "notes": [], "passage_ids": [],
                                      "spans": [], "count": 0, "target": target}
        o["count"] += 1
        if r["quote"] not in o["quotes"]:
            o["quotes"].append(r["quote"])
        o["notes"] += [n for n in r["notes"] if n not in o["notes"]]
        if r["passage_id"] is not None and r["passage_id"] not in o["passage_ids"]:
            o["passage_ids"].append(r["passage_id"])
        o["spans"].append((r["start"], r["end"]))

    incoming: dict[int, dict] = {}
    key = own_key(doc)
    if key:
        for r in s.store.references(key=key):
            if r["doc_id"] == d["id"]:
                continue
            entry = incoming.get(r["doc_id"])
            if entry is None:
                c = document_json(s.store.document(r["doc_id"]))
                entry = incoming[r["doc_id"]] = {"document": c, "citation": format_citation(c),
                                                 "link": doc_link(c["id"]), "passages": []}
            p = s.store.passages([r["passage_id"]]).get(r["passage_id"]) if r["passage_id"] else None
            text = p["text"] if p else r["sentence"]
            qs = r["start"] - p["start"] if p else max(text.find(r["quote"]), 0)
            entry["passages"].append({"passage_id": r["passage_id"], "text": text, "label": p["label"] if p else None,
                                      "page": p["page"] if p else None, "quote": r["quote"], "quote_start": qs,
                                      "quote_end": qs + len(r["quote"]), "sentence": r["sentence"],
                                      "link": doc_link(r["doc_id"], r["passage_id"])})
    return {"document": doc, "citation": format_citation(doc), "metadata": metadata_rows(doc),
            "text": d["text"], "passages": passages,
            "outgoing": list(outgoing.values()),
            "incoming": sorted(incoming.values(), key=lambda e: (e["document"]["date"] or "9999",
                                                                 e["document"]["number"] or ""))}


# --- highlighting ------------------------------------------------------------------------------

_STOP = set("văn bản nào của các là có được cho với trong về theo tại để những một này đã từ thì ra bị "
            "do gì như thế sao ai không số và hay hoặc ở".split())
# folded forms that would collide with content words ("thì"/"thị", "văn"/"vận") stay out
_STOP_FOLDED = {fold(w) for w in _STOP} - {"van", "ban", "thi", "do", "the"}
_PUNCT = "?!.,;:“”\"'()[]{}«»…"
_NUMBERISH = re.compile(r"\d.*[/\-]|[/\-].*\d")


def _has_diacritics(text: str) -> bool:
    return any(c.isalpha() and fold(c) != c.lower() for c in text)


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
    folded = not _has_diacritics(query)
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
    from .query import parse_query
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

def _result_passages(result: dict) -> list[dict]:
    """Passages of an ask, search or cites result, each with its ``document``."""
    if "results" in result:                     # Searcher.search
        return list(result["results"])
    if "passages" in result:                    # qa.ask
        return list(result["passages"])
    out = []                                    # qa.cites
    for d in result.get("documents", []):
        doc = {k: v for k, v in d.items() if k != "passages"}
        out += [{**p, "doc_id": doc["id"], "number": doc["number"], "document": doc} for p in d.get("passages", [])]
    return out


def _sentence_span(p: dict) -> tuple[int, int] | None:
    if p.get("sentence_start") is not None and p.get("sentence_end") is not None:
        return int(p["sentence_start"]), int(p["sentence_end"])
    sent = (p.get("sentence") or "").strip()
    if sent:
        i = p["text"].find(sent)
        if i >= 0:
            return i, i + len(sent)
    return None


def passage_cards(result: dict, query: str | None = None) -> list[dict]:
    """One card per supporting passage: document fields, location, link and highlighted HTML.

    In a "who cites X" answer the quote as written is marked instead of the query's words.
    """
    query = result.get("question") or result.get("query") if query is None else query
    if not isinstance(query, str):
        query = ""
    terms = "" if result.get("intent") == "cites" or "reference" in result else query
    cards = []
    for p in _result_passages(result):
        d = p["document"]
        spans = []
        ss = _sentence_span(p)
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


CSV_COLUMNS = ["STT", "Trích dẫn", "Số hiệu", "Loại văn bản", "Cơ quan ban hành", "Tỉnh/thành", "Ngày ban hành",
               "Trích yếu", "Mục", "Trang", "Câu trả lời", "Đoạn văn", "Tệp"]
_FORMULA = re.compile(r"^(?:[=+@\t\r]|-\s*[^\w\s])")


def _cell(v) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading apostrophe."""
    s = "" if v is None else str(v)
    return "'" + s if _FORMULA.match(s) else s


def results_csv(result: dict) -> str:
    """CSV (RFC 4180, CRLF) of the passages of an ask, search or cites result, one row each."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for i, p in enumerate(_result_passages(result), 1):
        d = p["document"]
        ss = _sentence_span(p)
        w.writerow([_cell(x) for x in [
            i, format_citation(d), d.get("number"), d.get("type"), d.get("issuer"), d.get("province"),
            format_date(d.get("date")), d.get("title"), p.get("label"), p.get("page"),
            p["text"][ss[0]:ss[1]].strip() if ss else "", p.get("text"), d.get("path")]])
    return buf.getvalue()


# --- uploads ------------------------------------------------------------------------------------

_RESERVED = re.compile(r'[<>:"|?*]')
_MAX_NAME_BYTES = 200


def safe_filename(name: str) -> str:
    """A file name safe to create in one folder: no directories, no "..", no control characters.

    Vietnamese letters are kept (NFC). Leading dots go (no hidden files, no ".."); reserved
    characters become "_"; the name is cut to 200 UTF-8 bytes, keeping the extension.
    """
    name = nfc(str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ")
    name = _RESERVED.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name or set(name) <= {"."}:
        name = "tep-tai-len"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:16]
    while len((stem + (f".{ext}" if ext else "")).encode("utf-8")) > _MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    stem = stem.rstrip(" .") or "tep-tai-len"
    return stem + (f".{ext}" if ext else "")


def save_uploads(files: Iterable, dest_dir: str | Path) -> list[Path]:
    """Write uploaded files into ``dest_dir`` under sanitised names; return their paths.

    ``files``: objects with ``.name`` and ``.getvalue()`` (Streamlit's UploadedFile) or (name, bytes).
    A name already on disk is replaced (uploading a new version updates the document); the same name
    twice in one batch gets " (2)". Each file is written to a hidden temporary name and renamed, so a
    running ingest never reads half a file.
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    used: set[str] = set()
    out: list[Path] = []
    for f in files:
        if isinstance(f, tuple):
            name, data = f
        else:
            name, data = f.name, f.getvalue()
        base = safe_filename(name)
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        candidate, n = base, 1
        while candidate.casefold() in used:
            n += 1
            candidate = f"{stem} ({n})" + (f".{ext}" if ext else "")
        used.add(candidate.casefold())
        target = (root / candidate).resolve()
        if target.parent != root:  # defence in depth: safe_filename already removed separators
            raise ValueError(f"tên tệp không hợp lệ: {name!r}")
        tmp = root / f".upload-{uuid.uuid4().hex}"
        with open(tmp, "wb") as fh:
            fh.write(bytes(data))
        os.replace(tmp, target)
        out.append(target)
    return out


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


def no_result_hints(query: str, filters: Filters | None = None) -> list[str]:
    """Suggestions shown when nothing is found."""
    hints = []
    active = filters_summary(filters)
    if active:
        hints.append(f"Bỏ bớt bộ lọc ở thanh bên (đang lọc theo {active}).")
    if _has_diacritics(query or ""):
        hints.append(f"Thử gõ không dấu: “{fold(query)}”.")
    else:
        hints.append("Thử gõ có dấu, hoặc dùng từ khác gần nghĩa.")
    if _NUMBERISH.search(query or ""):
        hints.append("Kiểm tra lại số hiệu, ví dụ “1321/UBND-KGVX” hoặc “25-NQ/TW”.")
    hints.append("Hỏi theo dạng “Văn bản nào trích dẫn Chỉ thị 16?” để tìm văn bản viện dẫn.")
    return hints


# --- background ingest --------------------------------------------------------------------------

class BusyError(Exception):
    """An ingest is already running in this process."""


_STAGES = {"files": (0.0, 0.85), "embed": (0.85, 0.95), "index": (0.95, 1.0)}


class IngestJob:
    """One ``run_ingest`` in a daemon thread; progress fields are read by the app while it runs."""

    def __init__(self, paths: list[str | Path], index_dir: str | Path, prune: bool = False, embedder=None,
                 label: str = ""):
        self.paths = [str(p) for p in paths]
        self.index_dir = str(index_dir)
        self.prune = prune
        self.embedder = embedder
        self.label = label
        self.state = "pending"          # pending | running | done | failed
        self.stage, self.done, self.total, self.path = "files", 0, 0, ""
        self.report: dict | None = None
        self.error: str | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="vanban-ingest", daemon=True)

    def start(self) -> "IngestJob":
        self.state, self.started_at = "running", time.time()
        self._thread.start()
        return self

    def _progress(self, stage: str, done: int, total: int, path: str) -> None:
        self.stage, self.done, self.total, self.path = stage, done, total, path

    def _run(self) -> None:
        from ingest.pipeline import run_ingest
        from .generation import LockedError
        try:
            report = run_ingest(self.paths, self.index_dir, prune=self.prune, embedder=self.embedder,
                                progress=self._progress)
            self.report = report.as_dict()
            self.state = "done"
        except LockedError as e:
            self.error, self.state = str(e), "failed"
        except Exception as e:  # shown to the administrator, never as a traceback
            self.error, self.state = f"{type(e).__name__}: {e}", "failed"
        finally:
            self.finished_at = time.time()

    @property
    def running(self) -> bool:
        return self.state in ("pending", "running")

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self.running

    @property
    def fraction(self) -> float:
        if not self.running:
            return 1.0
        lo, hi = _STAGES.get(self.stage, (0.0, 1.0))
        part = self.done / self.total if self.total else 0.0
        return max(0.0, min(1.0, lo + (hi - lo) * part))

    @property
    def message(self) -> str:
        if self.state == "done":
            return "Đã nạp xong."
        if self.state == "failed":
            return f"Nạp dữ liệu thất bại: {self.error}"
        if self.stage == "files":
            if self.total and self.done < self.total:
                return f"Đang nạp tệp {self.done + 1}/{self.total}: {Path(self.path).name}"
            return "Đang đọc danh sách tệp…" if not self.total else "Đã đọc xong các tệp."
        if self.stage == "embed":
            return f"Đang tính vectơ cho đoạn văn bản ({self.done}/{self.total})…"
        return "Đang dựng chỉ mục tìm kiếm…"


class IngestRunner:
    """The one background ingest of an index directory in this process, and the last one's result."""

    def __init__(self, index_dir: str | Path):
        self.index_dir = str(index_dir)
        self.job: IngestJob | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(self, paths: list[str | Path], prune: bool = False, embedder=None, label: str = "") -> IngestJob:
        with self._lock:
            if self.running:
                raise BusyError("Đang có một lượt nạp dữ liệu chạy; hãy chờ nó xong.")
            self.job = IngestJob(paths, self.index_dir, prune=prune, embedder=embedder, label=label).start()
            return self.job
