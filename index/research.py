"""Research views over the index: the reference network, provinces side by side, tasks and
deadlines, and similar directives from other provinces.

Everything here reads the store (documents, passages, refs, vectors) and the embedder; the CLI
(``python -m index graph|compare|tasks|similar``) and the app only format what these return.
"""
from __future__ import annotations

import io
import json
import re
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from vn.cite import format_citation
from vn.numbers import key_matches, parse_reference_query
from vn.places import find_province
from vn.text import UPPER, fold
from vn.words import split_sentences

from .documents import own_key
from .errors import InvalidInput
from .export import csv_text
from .search import Filters, Reader, document_json

__all__ = [
    "reference_graph", "graph_json", "graph_graphml", "graph_csv",
    "compare", "load_themes", "assign_themes", "theme_vectors", "THEMES_FILE", "THEME_MARGIN", "THEME_MIN_SIM",
    "tasks", "tasks_csv", "tasks_ics", "similar_documents", "passages_detail", "resolve_province",
]

THEMES_FILE = Path(__file__).with_name("themes.json")
# A passage belongs to a theme when one of the theme's cue words occurs in it (diacritics folded),
# or when the embedder finds the theme standing out for it: cosine(passage, "name: description")
# at least THEME_MIN_SIM and at least THEME_MARGIN above the passage's mean similarity to all
# themes. multilingual-e5 cosines crowd into 0.82-0.94, so an absolute cut alone tags every
# passage; on the sample corpus a margin of 0.03 already adds false hits ("Tập huấn cán bộ" for
# plain "tuyên truyền" items), 0.035 adds none.
THEME_MARGIN = 0.035
THEME_MIN_SIM = 0.85
SIMILAR_CANDIDATES = 50


# --- shared helpers ------------------------------------------------------------------------------

def resolve_province(name: str) -> str:
    """Canonical province name for any spelling ("dak lak" -> "Đắk Lắk"); InvalidInput if unknown."""
    p = find_province(name)
    if p is None:
        raise InvalidInput(f"Không nhận ra tỉnh/thành “{name}”.", field="province")
    return p


def _year(d: dict) -> int | None:
    return int(d["date"][:4]) if d.get("date") else None


def _doc_label(d: dict) -> str:
    return d.get("number") or Path(d["path"]).name


_HEADER_LINE = re.compile(
    r"^(?:số\s*:|v/v|kính gửi|nơi nhận|cộng hòa|cộng hoà|độc lập|[^\n]{0,40},\s*ngày\s+\d{1,2}\s+tháng)", re.I)


def _is_boilerplate(clean: str) -> bool:
    """Header, addressee list, "Nơi nhận" block: passages with under 20 words of body text."""
    if fold(clean.lstrip()).startswith("noi nhan"):
        return True
    words = 0
    for line in clean.splitlines():
        s = line.strip()
        if not s or _HEADER_LINE.match(s) or (s.startswith(("-", "+")) and len(s) < 80) or s.upper() == s:
            continue
        words += len(s.split())
    return words < 20


def passages_detail(reader: Reader, passage_ids: list[int]) -> list[dict]:
    """Text, label, page and document of passages (what a cell or a node opens), in the given order."""
    rows = reader.catalog.passages(list(passage_ids))
    docs: dict[int, dict] = {}
    out = []
    for pid in passage_ids:
        p = rows.get(pid)
        if p is None:
            continue
        d = docs.get(p["doc_id"]) or docs.setdefault(p["doc_id"], document_json(reader.catalog.document(p["doc_id"])))
        out.append({"passage_id": pid, "doc_id": p["doc_id"], "number": d["number"], "text": p["text"],
                    "label": p["label"], "page": p["page"], "document": d})
    return out


# --- reference network ---------------------------------------------------------------------------

def _ref_level(key: str, scope: str) -> str:
    if scope == "global":
        return "trung ương"
    parts = key.split("|")
    return "huyện" if len(parts) > 3 and "/" in parts[3] else "tỉnh"


def _ref_province(key: str, scope: str) -> str | None:
    parts = key.split("|")
    if scope == "global" or len(parts) < 4:
        return None
    p = parts[3].split("/")[0]
    return None if p == "?" else p


def reference_graph(reader: Reader, province: str | None = None, year_from: int | None = None,
                    year_to: int | None = None, reference: str | None = None):
    """Documents and the documents they cite, as a networkx.DiGraph.

    Nodes are ``doc:<id>`` for indexed documents and the reference key ("KL|114|TW") for cited
    documents not in the index; a reference to an indexed document points at its ``doc:`` node.
    Node attributes: label, kind ("indexed" | "cited"), level (trung ương | tỉnh | huyện), province,
    year, cited_by (distinct citing documents in the graph), and doc_id / file (its name) / title for indexed
    documents, key / canonical / scope for cited ones. Edge attributes: count and ``passages``
    (passage_id, quote, sentence of each citation). Filters: the citing document's province and
    year; ``reference`` (any form: "114-KL/TW", "Kết luận 114") keeps only citations of it.
    """
    import networkx as nx

    reader.engine.refresh()
    if province:
        province = resolve_province(province)
    partials = parse_reference_query(reference) if reference else None
    if reference and not partials:
        raise InvalidInput(f"Không hiểu tham chiếu “{reference}”; ví dụ: “114-KL/TW”, “Kết luận 114”.", field="reference")

    docs = reader.catalog.documents()
    by_key = {k: d for d in docs if (k := own_key(d))}
    chosen = [d for d in docs if (not province or d["province"] == province)
              and (year_from is None or (_year(d) or 0) >= year_from)
              and (year_to is None or (_year(d) or 9999) <= year_to)]
    g = nx.DiGraph()

    def add_doc(d: dict) -> str:
        n = f"doc:{d['id']}"
        if n not in g:
            attrs = {"label": _doc_label(d), "kind": "indexed", "doc_id": d["id"], "file": Path(d["path"]).name,
                     "type": d["doc_type"], "title": d["title"], "issuer": d["issuer"], "date": d["date"],
                     "year": _year(d), "province": d["province"], "level": d["level"]}
            g.add_node(n, **{k: v for k, v in attrs.items() if v is not None})
        return n

    for d in chosen:
        refs = reader.catalog.references(doc_id=d["id"])
        if partials is not None:
            refs = [r for r in refs if any(key_matches(p, r["key"]) for p in partials)]
            if not refs:
                continue
        src = add_doc(d)
        for r in refs:
            target = by_key.get(r["key"])
            if target is not None and target["id"] == d["id"]:
                continue  # a document quoting its own number
            if target is not None:
                dst = add_doc(target)
            else:
                dst = r["key"]
                if dst not in g:
                    attrs = {"label": r["canonical"], "kind": "cited", "key": r["key"], "canonical": r["canonical"],
                             "scope": r["scope"], "type": r["doc_type"], "name": r["name"],
                             "year": r["year"] or (int(r["date"][:4]) if r["date"] else None),
                             "province": _ref_province(r["key"], r["scope"]),
                             "level": _ref_level(r["key"], r["scope"])}
                    g.add_node(dst, **{k: v for k, v in attrs.items() if v is not None})
            if not g.has_edge(src, dst):
                g.add_edge(src, dst, count=0, passages=[])
            e = g.edges[src, dst]
            e["count"] += 1
            e["passages"].append({"passage_id": r["passage_id"], "quote": r["quote"], "sentence": r["sentence"]})
    for n in g.nodes:
        g.nodes[n]["cited_by"] = g.in_degree(n)
    return g


def graph_json(g) -> dict:
    """{nodes: [{id, ...attributes}], edges: [{source, target, count, passages}]} (JSON-ready)."""
    nodes = sorted(({"id": n, **a} for n, a in g.nodes(data=True)),
                   key=lambda x: (-x["cited_by"], x["label"]))
    edges = [{"source": u, "target": v, "source_label": g.nodes[u]["label"], "target_label": g.nodes[v]["label"], **a}
             for u, v, a in g.edges(data=True)]
    return {"nodes": nodes, "edges": edges}


def _flat_edge(a: dict) -> dict:
    return {"count": a["count"],
            "passage_ids": ";".join(str(p["passage_id"]) for p in a["passages"] if p["passage_id"] is not None),
            "quotes": " | ".join(dict.fromkeys(p["quote"].replace("\n", " ") for p in a["passages"]))}


def graph_graphml(g) -> str:
    """GraphML text (networkx.read_graphml reads it back); list attributes flattened to strings."""
    import networkx as nx
    h = nx.DiGraph()
    h.add_nodes_from(g.nodes(data=True))
    h.add_edges_from((u, v, _flat_edge(a)) for u, v, a in g.edges(data=True))
    buf = io.BytesIO()
    nx.write_graphml(h, buf, encoding="utf-8", prettyprint=True)
    return buf.getvalue().decode("utf-8")


GRAPH_CSV_FIELDS = ["source", "source_label", "source_province", "target", "target_label", "target_level",
                    "target_province", "count", "passage_ids", "quotes"]


def graph_csv(g) -> str:
    """One row per edge (citing document -> cited document)."""
    rows = []
    for u, v, a in sorted(g.edges(data=True), key=lambda e: (g.nodes[e[0]]["label"], g.nodes[e[1]]["label"])):
        nu, nv = g.nodes[u], g.nodes[v]
        row = {"source": u, "source_label": nu["label"], "source_province": nu.get("province", ""),
               "target": v, "target_label": nv["label"], "target_level": nv.get("level", ""),
               "target_province": nv.get("province", ""), **_flat_edge(a)}
        rows.append([row[f] for f in GRAPH_CSV_FIELDS])
    return csv_text(GRAPH_CSV_FIELDS, rows)


# --- themes --------------------------------------------------------------------------------------

def load_themes(path: str | Path | None = None) -> list[dict]:
    """Named themes from a JSON file ({"themes": [{name, description, cues}]}); default index/themes.json."""
    path = Path(path) if path else THEMES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InvalidInput(f"Không đọc được tệp chủ đề {path}: {e}") from e
    themes = data.get("themes") if isinstance(data, dict) else data
    if not isinstance(themes, list) or not themes:
        raise InvalidInput(f"{path}: cần danh sách “themes”, mỗi mục có name, description, cues")
    out = []
    for i, t in enumerate(themes):
        if not isinstance(t, dict) or not t.get("name") or not t.get("description"):
            raise InvalidInput(f"{path}: chủ đề thứ {i + 1} thiếu name hoặc description")
        out.append({"name": t["name"], "description": t["description"], "cues": list(t.get("cues") or [])})
    return out


def _cue_pattern(cues: list[str]) -> re.Pattern | None:
    folded = sorted({fold(c).strip() for c in cues if c.strip()}, key=len, reverse=True)
    if not folded:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in folded) + r")(?!\w)")


_THEME_VECTORS: dict[tuple, np.ndarray] = {}
_THEME_LOCK = threading.Lock()


def theme_vectors(embedder, themes: list[dict]) -> np.ndarray:
    """The themes' "name: description" embedded as queries: in one batch, once per embedder and theme
    text in a process (embedding them one by one on every comparison made the first open of the
    comparison page take 28.7 s, and every new choice of provinces as long again)."""
    texts = [f"{t['name']}: {t['description']}" for t in themes]
    key = (embedder.name, embedder.dimension, tuple(texts))
    with _THEME_LOCK:  # a second caller waits for the first one's vectors instead of embedding again
        vecs = _THEME_VECTORS.get(key)
        if vecs is None:
            vecs = _THEME_VECTORS[key] = embedder.embed_queries(texts)
    return vecs


def assign_themes(reader: Reader, themes: list[dict], passage_ids: list[int] | None = None) -> list[dict]:
    """Passages assigned to themes: [{passage_id, doc_id, theme, similarity, margin, cues}].

    Rule (see THEME_MARGIN): a cue word in the folded passage text, or an embedder similarity that
    stands out for the passage. Boilerplate passages (header, addressees, "Nơi nhận") are skipped.
    """
    if passage_ids is None:
        passage_ids = reader.catalog.live_passage_ids()
    rows = reader.catalog.passages(list(passage_ids))
    pids = [pid for pid in passage_ids if pid in rows and not _is_boilerplate(rows[pid]["clean"])]
    if not pids or not themes:
        return []
    tvec = theme_vectors(reader.embedder, themes)
    vecs = reader.catalog.vectors(pids)
    pats = [_cue_pattern(t["cues"]) for t in themes]
    out = []
    for pid in pids:
        folded = fold(rows[pid]["clean"])
        v = vecs.get(pid)
        sims = tvec @ v if v is not None else np.zeros(len(themes), dtype=np.float32)
        mean = float(sims.mean())
        for j, t in enumerate(themes):
            cues = sorted({m.group(1) for m in pats[j].finditer(folded)}) if pats[j] else []
            sim, margin = float(sims[j]), float(sims[j]) - mean
            by_embedder = v is not None and sim >= THEME_MIN_SIM and margin >= THEME_MARGIN
            if cues or by_embedder:
                out.append({"passage_id": pid, "doc_id": rows[pid]["doc_id"], "theme": t["name"],
                            "similarity": round(sim, 4), "margin": round(margin, 4), "cues": cues,
                            "via": "both" if cues and by_embedder else ("cues" if cues else "embedder")})
    return out


# --- compare -------------------------------------------------------------------------------------

def compare(reader: Reader, provinces: list[str] | None = None, doc_ids: list[int] | None = None,
            themes: list[dict] | None = None) -> dict:
    """Provinces (or single documents) side by side.

    Columns: one per province, then one per document. Returns
    ``columns`` [{id, kind, label, doc_ids}],
    ``central_matrix`` [{key, canonical, n_columns, cells: {column id: [{doc_id, number, passage_id,
    quote, sentence}]}}] (central documents cited, most shared first),
    ``timeline`` [{column, doc_id, number, type, date, title}] by date,
    ``theme_matrix`` [{theme, description, cells: {column id: {count, passage_ids, doc_ids, passages}}}].
    With neither provinces nor documents, every province in the index is a column.
    """
    reader.engine.refresh()
    docs = reader.catalog.documents()
    by_id = {d["id"]: d for d in docs}
    columns: list[dict] = []
    if not provinces and not doc_ids:
        provinces = sorted({d["province"] for d in docs if d["province"]})
    for p in provinces or []:
        name = resolve_province(p)
        if any(c["id"] == name for c in columns):
            continue
        columns.append({"id": name, "kind": "province", "label": name,
                        "doc_ids": [d["id"] for d in docs if d["province"] == name]})
    for i in doc_ids or []:
        d = by_id.get(int(i))
        if d is None:
            raise InvalidInput(f"Không có văn bản mã {i} trong chỉ mục.", field="doc")
        label = _doc_label(d)
        columns.append({"id": label, "kind": "document", "label": format_citation(document_json(d)),
                        "doc_ids": [d["id"]]})

    central: dict[str, dict] = {}
    timeline = []
    for c in columns:
        for doc_id in c["doc_ids"]:
            d = by_id[doc_id]
            timeline.append({"column": c["id"], "doc_id": doc_id, "number": d["number"], "type": d["doc_type"],
                             "date": d["date"], "title": d["title"]})
            for r in reader.catalog.references(doc_id=doc_id):
                if r["scope"] != "global":
                    continue
                row = central.setdefault(r["key"], {"key": r["key"], "canonical": r["canonical"], "cells": {}})
                row["cells"].setdefault(c["id"], []).append(
                    {"doc_id": doc_id, "number": d["number"], "passage_id": r["passage_id"], "quote": r["quote"],
                     "sentence": r["sentence"]})
    for row in central.values():
        row["n_columns"] = len(row["cells"])
    rows = sorted(central.values(), key=lambda r: (-r["n_columns"], r["canonical"]))
    timeline.sort(key=lambda t: (t["date"] or "9999", t["number"] or ""))

    themes = themes if themes is not None else load_themes()
    all_pids = [p["id"] for c in columns for i in c["doc_ids"] for p in reader.catalog.document_passages(i)]
    assigned = assign_themes(reader, themes, list(dict.fromkeys(all_pids)))
    col_of_doc: dict[int, list[str]] = {}
    for c in columns:
        for i in c["doc_ids"]:
            col_of_doc.setdefault(i, []).append(c["id"])
    theme_rows = []
    for t in themes:
        cells = {c["id"]: {"count": 0, "passage_ids": [], "doc_ids": [], "passages": []} for c in columns}
        for a in assigned:
            if a["theme"] != t["name"]:
                continue
            for cid in col_of_doc.get(a["doc_id"], []):
                cell = cells[cid]
                cell["count"] += 1
                cell["passage_ids"].append(a["passage_id"])
                if a["doc_id"] not in cell["doc_ids"]:
                    cell["doc_ids"].append(a["doc_id"])
                cell["passages"].append({"passage_id": a["passage_id"], "doc_id": a["doc_id"],
                                         "number": by_id[a["doc_id"]]["number"], "cues": a["cues"],
                                         "similarity": a["similarity"], "via": a["via"]})
        theme_rows.append({"theme": t["name"], "description": t["description"], "cells": cells})
    return {"columns": columns, "central_matrix": rows, "timeline": timeline, "theme_matrix": theme_rows}


# --- tasks and deadlines -------------------------------------------------------------------------

_DEADLINE_WORD = r"(?:trước|chậm nhất(?:\s+là)?|muộn nhất(?:\s+là)?|hạn chót(?:\s+là)?|hạn cuối(?:\s+là)?|không quá|không muộn hơn)"
_DEADLINE = re.compile(
    _DEADLINE_WORD + r"\s+(?:ngày\s+)?(?:"
    r"(?P<d1>\d{1,2})\s*[/.-]\s*(?P<m1>\d{1,2})(?:\s*[/.-]\s*(?P<y1>\d{4}))?"
    r"|(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})(?:\s+năm\s+(?P<y2>\d{4}))?"
    r"|(?P<d3>\d{1,2})\s+(?:hằng|hàng)\s+(?P<per>tháng|quý|năm))", re.I)
_VERBS = ("chủ trì", "phối hợp", "theo dõi", "tổng hợp", "tham mưu", "hướng dẫn", "thực hiện", "triển khai",
          "xây dựng", "kiểm tra", "đôn đốc", "báo cáo", "tổ chức", "có trách nhiệm", "làm đầu mối", "nghiên cứu",
          "đề xuất", "rà soát", "cập nhật", "giúp", "dự thảo", "chuẩn bị", "quản lý", "phụ trách", "trình",
          "soạn thảo", "đánh giá", "chỉ đạo", "tiếp nhận", "thẩm định", "là cơ quan", "làm")
_VERB_ALT = "|".join(re.escape(v) for v in sorted(_VERBS, key=len, reverse=True))
# "Giao Sở Nội vụ theo dõi, ..." -- verbs are lower case, agency names capitalised ("Ban Tổ chức")
_GIAO = re.compile(r"(?:^|[(;:,]\s*)[Gg]iao\s+(?:cho\s+)?(?P<agency>[" + UPPER + r"][^\n;:]{1,120}?)\s*,?\s+(?=(?:" + _VERB_ALT + r")(?!\w))")
_ORG = (r"(?:Sở|Ban|Ủy ban|Uỷ ban|UBND|Phòng|Văn phòng|Công an|Bộ|Cục|Chi cục|Thanh tra|Trung tâm|Đài|Báo|Hội|"
        r"Liên đoàn|Mặt trận|Huyện ủy|Tỉnh ủy|Thành ủy|Đảng ủy|Kho bạc|Bảo hiểm|Ngân hàng|Viện|Trường|Đoàn)")
_LEADS = re.compile(r"(?:^|(?<=[.;:]\s))(?P<agency>" + _ORG + r"[^\n;:,.]{0,80}?)\s+(?=(?:chủ trì|có trách nhiệm|làm đầu mối|là cơ quan thường trực)(?!\w))")
_ADDRESSEES = re.compile(
    r"(?:yêu cầu|đề nghị)\s+(?P<who>[^:]{3,250}?)\s+(?:(?:tiếp tục|tập trung|nghiêm túc|khẩn trương|chủ động)[,\s]+)*"
    r"(?:triển khai|thực hiện)\b")
_ITEM = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ]\)|[-+•])\s*")


def _iso_deadline(m: re.Match, doc_year: int | None) -> tuple[str | None, bool]:
    """(ISO date or None, recurring)."""
    if m.group("per"):
        return None, True
    d, mth, y = (m.group("d1"), m.group("m1"), m.group("y1")) if m.group("d1") else (m.group("d2"), m.group("m2"), m.group("y2"))
    year = int(y) if y else doc_year
    if year is None:
        return None, False
    try:
        return date(year, int(mth), int(d)).isoformat(), False
    except ValueError:
        return None, False


def _addressees(d: dict, passages: list[dict]) -> str | None:
    """Whom the document tells to act: "yêu cầu <X> thực hiện ...", else its recipients."""
    for p in passages:
        m = _ADDRESSEES.search(p["clean"])
        if m:
            return " ".join(m.group("who").split()).strip(" ,;")
    who = [r for r in d["recipients"] if not fold(r).startswith(("nhu tren", "luu"))]
    return "; ".join(who) or None


def _sentences(clean: str) -> list[str]:
    """Sentences of a passage; a lone item number ("5.") joins the sentence after it."""
    out: list[str] = []
    carry = ""
    for a, b in split_sentences(clean):
        t = clean[a:b].strip()
        if re.fullmatch(r"\d{1,2}(?:\.\d{1,2})*[.)]?|[a-zđ]\)", t):
            carry = t + " "
            continue
        out.append(carry + t)
        carry = ""
    return out


def _capital(t: str) -> str:
    return t[:1].upper() + t[1:] if t else t


def tasks(reader: Reader, province: str | None = None, doc_ids: list[int] | None = None, agency: str | None = None,
          deadline_from: str | None = None, deadline_to: str | None = None, with_deadline: bool = False) -> list[dict]:
    """Assignments and deadlines in the text, one per sentence.

    A sentence is a task when it assigns an agency ("Giao Sở Nội vụ theo dõi...", "Sở X chủ trì...")
    or sets a deadline ("... trước ngày 30/10/2017"); a deadline without a named agency falls to the
    document's addressees ("yêu cầu các Sở, ban, ngành ... thực hiện"). A deadline without a year
    takes the document's year; a recurring one ("trước ngày 15 hằng tháng") has deadline None.
    Each: agency, agency_source (giao | chủ trì | người nhận), task, deadline (ISO or None),
    deadline_text, recurring, doc_id, number, province, citation, passage_id, label, quote.
    Filters: province, doc_ids, agency (folded substring), deadline_from/deadline_to (ISO),
    with_deadline.
    """
    reader.engine.refresh()
    if province:
        province = resolve_province(province)
    out = []
    for d in reader.catalog.documents():
        if province and d["province"] != province:
            continue
        if doc_ids is not None and d["id"] not in doc_ids:
            continue
        passages = [p for p in reader.catalog.document_passages(d["id"]) if not fold(p["clean"].lstrip()).startswith("noi nhan")]
        addressees = None
        for p in passages:
            for sent in _sentences(p["clean"]):
                body = _ITEM.sub("", sent, count=1)
                dl = _DEADLINE.search(body)
                giao = _GIAO.search(body)
                lead = None if giao else _LEADS.search(body)
                if not (dl or giao or lead):
                    continue
                if giao or lead:
                    m = giao or lead
                    who, source = m.group("agency").strip(" ,"), "giao" if giao else "chủ trì"
                    task = body[m.end("agency"):].strip(" ,") if giao else body[m.end("agency"):].strip()
                else:
                    if addressees is None:
                        addressees = _addressees(d, passages) or ""
                    who, source, task = addressees or None, "người nhận", body
                deadline, recurring = _iso_deadline(dl, _year(d)) if dl else (None, False)
                out.append({"agency": who, "agency_source": source, "task": _capital(task.rstrip("./ ")),
                            "deadline": deadline, "deadline_text": dl.group(0) if dl else None,
                            "recurring": recurring, "doc_id": d["id"], "number": d["number"],
                            "province": d["province"], "citation": format_citation(document_json(d)),
                            "passage_id": p["id"], "label": p["label"], "quote": sent})
    af = fold(agency) if agency else None
    return [t for t in out
            if (af is None or af in fold(t["agency"] or ""))
            and (not with_deadline or t["deadline"] or t["recurring"])
            and (deadline_from is None or (t["deadline"] and t["deadline"] >= deadline_from))
            and (deadline_to is None or (t["deadline"] and t["deadline"] <= deadline_to))]


TASK_CSV_FIELDS = ["agency", "task", "deadline", "deadline_text", "number", "province", "citation", "label",
                   "passage_id", "quote"]


def tasks_csv(items: list[dict]) -> str:
    return csv_text(TASK_CSV_FIELDS, ([t.get(k) for k in TASK_CSV_FIELDS] for t in items))


def _ics_text(t: str) -> str:
    """RFC 5545 TEXT escaping."""
    return (t.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _ics_fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continuations starting with a space; never splits a character."""
    out, cur, size, limit = [], "", 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(cur)
            cur, size, limit = " ", 1, 75
        cur += ch
        size += n
    out.append(cur)
    return out


def tasks_ics(items: list[dict], now: datetime | None = None) -> str:
    """An iCalendar file (RFC 5545) with one all-day VEVENT per dated deadline; CRLF line ends."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tra-cuu-van-ban//han-nhiem-vu//VI", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:Hạn nhiệm vụ"]
    for t in items:
        if not t.get("deadline"):
            continue
        day = date.fromisoformat(t["deadline"])
        summary = f"Hạn: {t['agency'] or 'không rõ cơ quan'} — {t['number'] or ''}".rstrip(" —")
        desc = f"{t['task']}\n\nNguồn: {t['citation']}" + (f", {t['label']}" if t.get("label") else "") + f"\n“{t['quote']}”"
        lines += ["BEGIN:VEVENT",
                  f"UID:task-{t['doc_id']}-{t['passage_id']}-{day:%Y%m%d}@tra-cuu-van-ban",
                  f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                  f"SUMMARY:{_ics_text(summary)}",
                  f"DESCRIPTION:{_ics_text(desc)}",
                  "TRANSP:TRANSPARENT",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(f + "\r\n" for line in lines for f in _ics_fold(line))


# --- similar documents ---------------------------------------------------------------------------

def similar_documents(reader: Reader, doc_id: int, k: int = 5, pairs: int = 3) -> dict:
    """The documents of other provinces closest to ``doc_id``, with the passage pairs that match best.

    Score: mean over the document's body passages of the best cosine with any passage of the
    other document. Candidates come from FAISS (nearest passages of other-province documents),
    then are scored exactly from stored vectors. "Other province": a different province; with no
    province known for the document, every other document with a province.
    """
    reader.engine.refresh()
    d = reader.catalog.document(doc_id)
    if d is None:
        raise InvalidInput(f"Không có văn bản mã {doc_id} trong chỉ mục.", field="id")
    own = [p for p in reader.catalog.document_passages(doc_id) if not _is_boilerplate(p["clean"])]
    others = [o for o in reader.catalog.documents() if o["id"] != doc_id and o["province"]
              and o["province"] != d["province"]]
    base = {"document": document_json(d), "results": []}
    if not own or not others:
        return base
    other_pass = {o["id"]: [p for p in reader.catalog.document_passages(o["id"]) if not _is_boilerplate(p["clean"])]
                  for o in others}
    allowed = Filters(doc_ids=tuple(other_pass))
    vec = reader.catalog.vectors([p["id"] for p in own])
    pid_doc = {p["id"]: oid for oid, ps in other_pass.items() for p in ps}
    candidates: dict[int, float] = {}
    for p in own:
        if p["id"] not in vec:
            continue
        for pid, score in reader.dense_search(vec[p["id"]], SIMILAR_CANDIDATES, allowed):
            if pid in pid_doc:
                candidates[pid_doc[pid]] = max(candidates.get(pid_doc[pid], 0.0), score)
    top = sorted(candidates, key=lambda i: -candidates[i])[:max(k * 3, k)]
    own_ids = [p["id"] for p in own if p["id"] in vec]
    A = np.stack([vec[i] for i in own_ids])
    texts = {p["id"]: p["text"] for p in own}
    results = []
    for oid in top:
        ov = reader.catalog.vectors([p["id"] for p in other_pass[oid]])
        ops = [p for p in other_pass[oid] if p["id"] in ov]
        if not ops:
            continue
        S = A @ np.stack([ov[p["id"]] for p in ops]).T
        best = S.max(axis=1)
        order = np.argsort(-best)[:pairs]
        results.append({"document": document_json(reader.catalog.document(oid)), "score": round(float(best.mean()), 4),
                        "pairs": [{"passage_id": own_ids[i], "text": texts[own_ids[i]],
                                   "other_passage_id": ops[int(S[i].argmax())]["id"],
                                   "other_text": ops[int(S[i].argmax())]["text"],
                                   "other_label": ops[int(S[i].argmax())]["label"],
                                   "similarity": round(float(best[i]), 4)} for i in order]})
    results.sort(key=lambda r: -r["score"])
    return {**base, "results": results[:k]}
