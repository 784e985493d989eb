"""What the researcher pages of the app show, as plain data and chart specs.

Pure functions over what ``index.research`` returns (a networkx graph, the ``compare`` dict, task
lists, ``similar_documents``): the tables (pandas), the Altair charts (Streamlit renders them
natively) and the passages a click opens. The pages (ui/pages/) only lay out widgets around these;
they are tested without Streamlit in tests/test_charts.py.
"""
from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from .render import doc_link, document_options, format_date, highlight, similar_cards
from .safe import esc, link

__all__ = [
    "NODE_SELECTION", "THEME_SELECTION", "LEVEL_COLORS", "COLOR_BY", "selection_values", "selected_cell",
    "graph_frames", "graph_chart", "node_options", "node_detail", "quote_html",
    "central_matrix_frame", "central_cell", "timeline_frame", "timeline_chart", "theme_frame", "theme_chart",
    "theme_cell", "default_theme_cell", "task_rows", "task_table_html", "deadline_list", "document_options",
    "similar_cards", "place_labels", "GRAPH_WIDTH", "GRAPH_HEIGHT",
]

NODE_SELECTION = "nut"           # Altair point selection on the network (field: id)
THEME_SELECTION = "o_chu_de"     # point selection on the theme matrix (fields: theme, column)
LEVEL_COLORS = {"trung ương": "#c0392b", "tỉnh": "#2471a3", "huyện": "#27ae60", "không rõ": "#95a5a6"}
COLOR_BY = {"level": "Cấp ban hành", "province": "Tỉnh/thành"}
UNKNOWN = "không rõ"
EMPTY_CELL = "—"


def selection_values(state: Any, name: str) -> list[dict]:
    """The selected points of a chart's selection parameter, from what ``st.altair_chart(...,
    on_select=...)`` returns or keeps in session state ({"selection": {name: [{field: value}]}})."""
    if not state:
        return []
    sel = state.get("selection") if isinstance(state, dict) else getattr(state, "selection", None)
    if not sel:
        return []
    points = sel.get(name) if isinstance(sel, dict) else getattr(sel, name, None)
    return [dict(p) for p in points or [] if isinstance(p, dict)]


def selected_cell(state: Any) -> tuple[int, str] | None:
    """(row position, column name) of the cell selected in ``st.dataframe(..., selection_mode=
    "single-cell")``, from its returned or session state; None when nothing is selected."""
    if not state:
        return None
    sel = state.get("selection") if isinstance(state, dict) else getattr(state, "selection", None)
    cells = (sel.get("cells") if isinstance(sel, dict) else getattr(sel, "cells", None)) if sel else None
    if not cells:
        return None
    row, col = cells[0]
    return int(row), str(col)


def quote_html(sentence: str, quote: str) -> str:
    """The citing sentence, HTML-escaped, with the quoted reference marked as the app marks quotes."""
    sentence = sentence or quote or ""
    at = sentence.find(quote) if quote else -1
    spans = [(at, at + len(quote), "quote")] if at >= 0 else []
    return highlight(sentence, "", spans, strip_markup=True)


# --- reference network -------------------------------------------------------------------------

def _spread(pos: dict, min_dist: float = 0.1, rounds: int = 60) -> dict:
    """Push apart nodes the spring layout puts (almost) on top of each other: documents cited by the
    same documents are pulled to the same spot ("Kết luận 114" and "Nghị quyết 25" on the sample).
    ``min_dist`` is a fraction of the drawing's extent."""
    import numpy as np
    keys = list(pos)
    if len(keys) < 2:
        return pos
    p = np.array([pos[k] for k in keys], dtype=float)
    gap = min_dist * max(float(np.ptp(p, axis=0).max()), 1e-9)
    for _ in range(rounds):
        diff = p[:, None, :] - p[None, :, :]
        dist = np.linalg.norm(diff, axis=-1)
        np.fill_diagonal(dist, np.inf)
        close = dist < gap
        if not close.any():
            break
        # coincident points get a fixed direction from their order, so the result stays deterministic
        same = dist < 1e-12
        diff[same] = np.array([1.0, 0.0])
        dist = np.where(same, 1.0, dist)
        push = np.where(close, (gap - dist) / 2, 0.0)[..., None] * diff / dist[..., None]
        p += push.sum(axis=1)
    return {k: p[i] for i, k in enumerate(keys)}


GRAPH_WIDTH, GRAPH_HEIGHT = 900, 560   # px of the drawing (legends beside it)
GRAPH_MARGIN = 30                     # px kept free around the nodes
LABEL_SIZE = 11                       # px font of the node labels
LABEL_CHAR_WIDTH = 6.4                # px per character: above the widest measured average (see place_labels)
LABEL_HEIGHT = 14
SIZE_RANGE = (80, 1400)               # px² area of a node, by how often it is cited


def _node_radius(cited_by: int, max_cited: int) -> float:
    """Half the diagonal of a node's symbol (squares are the widest), with its stroke, in px."""
    lo, hi = SIZE_RANGE
    area = lo + (hi - lo) * (cited_by / max_cited if max_cited else 0.0)
    return 0.71 * area ** 0.5 + 1.5


def _box_hits_circle(box, cx: float, cy: float, r: float) -> bool:
    x0, y0, x1, y1 = box
    nx, ny = min(max(cx, x0), x1), min(max(cy, y0), y1)
    return (nx - cx) ** 2 + (ny - cy) ** 2 < r * r


def place_labels(nodes: list[dict], width: int = GRAPH_WIDTH, height: int = GRAPH_HEIGHT, gap: float = 2.0) -> list[dict]:
    """Where each label goes so that no two labels and no label and node overlap.

    ``nodes``: {x, y (px, y down), r (px), label, want (bool)}, most important first. Each wanted label
    tries above, below, right, left and the four diagonals of its node (then the same a line or two
    farther out), and takes the first spot inside
    the drawing that touches no label placed before it and no node; a label with no free spot is left
    out (the node keeps its tooltip and stays in the picker). Widths are estimated from the character
    count (LABEL_CHAR_WIDTH, a little wider than the measured average of the chart's 11 px font), so a
    fit here is a fit on screen. Returns {label_x, label_y (centre, px), label_shown} per node.
    """
    placed: list[tuple[float, float, float, float]] = []
    out = [{"label_x": n["x"], "label_y": n["y"], "label_shown": False} for n in nodes]
    for i, n in enumerate(nodes):
        if not n.get("want") or not n.get("label"):
            continue
        w, h = len(n["label"]) * LABEL_CHAR_WIDTH, LABEL_HEIGHT
        x, y, r = n["x"], n["y"], n["r"]
        spots = []
        for d in (0, h, 2 * h):   # next to the node first, then a little farther out
            spots += [(x, y - r - gap - d - h / 2), (x, y + r + gap + d + h / 2), (x + r + gap + d + w / 2, y),
                      (x - r - gap - d - w / 2, y), (x + r + d + w / 2, y - r - d - h / 2),
                      (x - r - d - w / 2, y - r - d - h / 2), (x + r + d + w / 2, y + r + d + h / 2),
                      (x - r - d - w / 2, y + r + d + h / 2)]
        for cx, cy in spots:
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
                continue
            if any(box[0] < b[2] + gap and b[0] < box[2] + gap and box[1] < b[3] + gap and b[1] < box[3] + gap
                   for b in placed):
                continue
            if any(_box_hits_circle(box, m["x"], m["y"], m["r"] + gap) for m in nodes):
                continue
            placed.append(box)
            out[i] = {"label_x": cx, "label_y": cy, "label_shown": True}
            break
    return out


def graph_frames(g, seed: int = 7, width: int = GRAPH_WIDTH, height: int = GRAPH_HEIGHT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(nodes, edges) in px of a ``width`` x ``height`` drawing (y down), laid out by
    ``networkx.spring_layout`` (fixed seed: the same picture on every run), with label spots from
    ``place_labels``. Nodes: id, label, kind, kind_label, level, province, cited_by, cites, year, doc_id,
    title, x, y, r, label_x, label_y, label_shown. Edges: source, target, source_label, target_label,
    count, x, y, x2, y2."""
    import networkx as nx
    node_cols = ["id", "label", "kind", "kind_label", "level", "province", "cited_by", "cites", "year",
                 "doc_id", "title", "x", "y", "r", "label_x", "label_y", "label_shown"]
    edge_cols = ["source", "target", "source_label", "target_label", "count", "x", "y", "x2", "y2"]
    if g.number_of_nodes() == 0:
        return pd.DataFrame(columns=node_cols), pd.DataFrame(columns=edge_cols)
    pos = _spread(nx.spring_layout(g.to_undirected(), seed=seed, k=2.5 / max(g.number_of_nodes(), 1) ** 0.5),
                  min_dist=0.12)
    xs = [float(p[0]) for p in pos.values()]
    ys = [float(p[1]) for p in pos.values()]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    px = {n: (GRAPH_MARGIN + (float(p[0]) - min(xs)) / span_x * (width - 2 * GRAPH_MARGIN),
              GRAPH_MARGIN + (max(ys) - float(p[1])) / span_y * (height - 2 * GRAPH_MARGIN)) for n, p in pos.items()}
    max_cited = max(int(a.get("cited_by", 0)) for _, a in g.nodes(data=True))
    # labels by importance: the most cited first, documents of the index before others
    order = sorted(g.nodes(data=True), key=lambda x: (-int(x[1].get("cited_by", 0)), x[1]["kind"] != "indexed",
                                                       x[1]["label"]))
    nodes = [{"id": n, "label": a["label"], "kind": a["kind"],
              "kind_label": "có trong chỉ mục" if a["kind"] == "indexed" else "chưa có trong chỉ mục",
              "level": a.get("level") or UNKNOWN, "province": a.get("province") or UNKNOWN,
              "cited_by": int(a.get("cited_by", 0)), "cites": g.out_degree(n), "year": a.get("year"),
              "doc_id": a.get("doc_id"), "title": a.get("title") or a.get("name") or "",
              "x": px[n][0], "y": px[n][1], "r": _node_radius(int(a.get("cited_by", 0)), max_cited),
              "want": int(a.get("cited_by", 0)) >= 2 or a["kind"] == "indexed"} for n, a in order]
    for n, spot in zip(nodes, place_labels(nodes, width, height)):
        n.update(spot)
        del n["want"]
    edges = [{"source": u, "target": v, "source_label": g.nodes[u]["label"], "target_label": g.nodes[v]["label"],
              "count": int(a.get("count", 1)), "x": px[u][0], "y": px[u][1], "x2": px[v][0], "y2": px[v][1]}
             for u, v, a in g.edges(data=True)]
    nodes = pd.DataFrame(nodes, columns=node_cols).astype({"doc_id": "Int64", "year": "Int64"})
    return nodes, pd.DataFrame(edges, columns=edge_cols)


def graph_chart(nodes: pd.DataFrame, edges: pd.DataFrame, color_by: str = "level",
                selected: str | None = None, width: int = GRAPH_WIDTH, height: int = GRAPH_HEIGHT) -> alt.LayerChart:
    """The network as an Altair layer: edges as rules, documents as points (colour by issuer level
    or province, size by how often cited, filled when the document is in the index), labels where
    ``place_labels`` found them room. Positions are px of the drawing (``graph_frames``), so the scales
    map them one to one. A click selects a node (point selection ``NODE_SELECTION`` on ``id``)."""
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by “{color_by}” không hợp lệ; chọn một trong: {', '.join(COLOR_BY)}")
    axis = alt.Axis(title=None, labels=False, ticks=False, domain=False, grid=False)
    x = alt.X("x:Q", axis=axis, scale=alt.Scale(domain=[0, width], nice=False, zero=False))
    y = alt.Y("y:Q", axis=axis, scale=alt.Scale(domain=[0, height], nice=False, zero=False, reverse=True))
    pick = alt.selection_point(name=NODE_SELECTION, fields=["id"], on="click", clear="dblclick", empty=False,
                               value=[{"id": selected}] if selected else alt.Undefined)
    if color_by == "level":
        color = alt.Color("level:N", title=COLOR_BY["level"],
                          scale=alt.Scale(domain=list(LEVEL_COLORS), range=list(LEVEL_COLORS.values())))
    else:
        color = alt.Color("province:N", title=COLOR_BY["province"], scale=alt.Scale(scheme="tableau10"))
    max_cited = int(nodes["cited_by"].max()) if len(nodes) else 0
    lines = alt.Chart(edges).mark_rule(color="#9aa5b1", opacity=0.55).encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q", strokeWidth=alt.StrokeWidth("count:Q", legend=None, scale=alt.Scale(range=[1, 3])),
        tooltip=[alt.Tooltip("source_label:N", title="Văn bản trích dẫn"),
                 alt.Tooltip("target_label:N", title="Văn bản được trích dẫn"),
                 alt.Tooltip("count:Q", title="Số lần")])
    base = alt.Chart(nodes)
    points = base.mark_point(filled=True, stroke="#333").encode(
        x=x, y=y, color=color,
        size=alt.Size("cited_by:Q", title="Số văn bản trích dẫn",
                      scale=alt.Scale(domain=[0, max(max_cited, 1)], range=list(SIZE_RANGE)),
                      legend=alt.Legend(format="d", tickMinStep=1)),
        shape=alt.Shape("kind_label:N", title="Văn bản",
                        scale=alt.Scale(domain=["có trong chỉ mục", "chưa có trong chỉ mục"],
                                        range=["square", "circle"])),
        strokeWidth=alt.condition(pick, alt.value(3), alt.value(0.5)),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.85)),
        tooltip=[alt.Tooltip("label:N", title="Văn bản"), alt.Tooltip("level:N", title="Cấp"),
                 alt.Tooltip("province:N", title="Tỉnh/thành"),
                 alt.Tooltip("cited_by:Q", title="Được trích dẫn bởi"),
                 alt.Tooltip("cites:Q", title="Trích dẫn"), alt.Tooltip("title:N", title="Trích yếu")],
    ).add_params(pick)
    labels = base.transform_filter("datum.label_shown").mark_text(
        fontSize=LABEL_SIZE, color="#222", align="center", baseline="middle").encode(
        x=alt.X("label_x:Q", axis=axis, scale=alt.Scale(domain=[0, width], nice=False, zero=False)),
        y=alt.Y("label_y:Q", axis=axis, scale=alt.Scale(domain=[0, height], nice=False, zero=False, reverse=True)),
        text="label:N")
    # autosize "pad": the drawing is exactly width x height px (legends beside it), as place_labels assumed
    return alt.layer(lines, points, labels).properties(
        width=width, height=height, autosize=alt.AutoSizeParams(type="pad")).configure_view(stroke=None)


def node_options(g) -> list[str]:
    """Node ids for a picker: most cited first, then by label."""
    return [n for n, _ in sorted(g.nodes(data=True), key=lambda x: (-x[1].get("cited_by", 0), x[1]["label"]))]


def node_detail(g, node: str) -> dict | None:
    """What a click on a node opens: the document (a link when it is in the index), the documents
    citing it with each citing sentence, and the documents it cites."""
    if node not in g:
        return None
    a = g.nodes[node]
    citing = []
    for u in sorted(g.predecessors(node), key=lambda u: (g.nodes[u].get("date") or "9999", g.nodes[u]["label"])):
        e, src = g.edges[u, node], g.nodes[u]
        citing.append({"id": u, "label": src["label"], "province": src.get("province"), "count": e["count"],
                       "link": doc_link(src["doc_id"]) if src.get("doc_id") else None,
                       "passages": [{"passage_id": p["passage_id"], "quote": p["quote"],
                                     "html": quote_html(p["sentence"], p["quote"]),
                                     "link": doc_link(src["doc_id"], p["passage_id"])
                                     if src.get("doc_id") and p["passage_id"] is not None else None}
                                    for p in e["passages"]]})
    cites = [{"id": v, "label": g.nodes[v]["label"], "count": g.edges[node, v]["count"],
              "link": doc_link(g.nodes[v]["doc_id"]) if g.nodes[v].get("doc_id") else None}
             for v in sorted(g.successors(node), key=lambda v: g.nodes[v]["label"])]
    return {"id": node, "label": a["label"], "kind": a["kind"], "level": a.get("level"),
            "province": a.get("province"), "title": a.get("title") or a.get("name"), "cited_by": a.get("cited_by", 0),
            "link": doc_link(a["doc_id"]) if a.get("doc_id") else None, "citing": citing, "cites": cites}


# --- compare -------------------------------------------------------------------------------------

def central_matrix_frame(r: dict) -> pd.DataFrame:
    """One row per central document cited (most shared first), one column per compared province or
    document; a cell lists the citing documents' numbers ("—" when that column does not cite it)."""
    cols = [c["id"] for c in r["columns"]]
    rows = []
    for row in r["central_matrix"]:
        out = {"Văn bản trung ương": row["canonical"]}
        for c in cols:
            cell = row["cells"].get(c) or []
            out[c] = "; ".join(dict.fromkeys(x["number"] or "?" for x in cell)) or EMPTY_CELL
        rows.append(out)
    return pd.DataFrame(rows, columns=["Văn bản trung ương", *cols])


def central_cell(r: dict, key_or_canonical: str, column: str | None = None) -> dict:
    """The citing passages behind a row (and one column, or every column): {column id: [{number,
    doc_id, passage_id, quote, html, link}]}. Unknown rows or columns raise ValueError."""
    row = next((x for x in r["central_matrix"] if key_or_canonical in (x["key"], x["canonical"])), None)
    if row is None:
        raise ValueError(f"không có “{key_or_canonical}” trong ma trận văn bản trung ương")
    ids = [c["id"] for c in r["columns"]]
    if column is not None and column not in ids:
        raise ValueError(f"không có cột “{column}”; các cột: {', '.join(ids)}")
    out = {}
    for c in ([column] if column else ids):
        out[c] = [{"number": x["number"], "doc_id": x["doc_id"], "passage_id": x["passage_id"], "quote": x["quote"],
                   "html": quote_html(x["sentence"], x["quote"]), "link": doc_link(x["doc_id"], x["passage_id"])}
                  for x in row["cells"].get(c) or []]
    return out


def timeline_frame(r: dict) -> pd.DataFrame:
    """Dated documents of the comparison: column, number, type, date (Timestamp), date_text, title."""
    rows = [{"column": t["column"], "number": t["number"] or "", "type": t["type"] or "",
             "date": pd.Timestamp(t["date"]), "date_text": format_date(t["date"]), "title": t["title"] or ""}
            for t in r["timeline"] if t.get("date")]
    return pd.DataFrame(rows, columns=["column", "number", "type", "date", "date_text", "title"])


def timeline_chart(df: pd.DataFrame) -> alt.LayerChart:
    """Documents on a time axis, one lane per compared province or document."""
    base = alt.Chart(df).encode(
        x=alt.X("date:T", title="Ngày ban hành", axis=alt.Axis(format="%Y", tickCount="year")),
        y=alt.Y("column:N", title=None, sort=list(dict.fromkeys(df["column"])), axis=alt.Axis(labelLimit=0)))
    points = base.mark_point(filled=True, size=160).encode(
        color=alt.Color("column:N", legend=None),
        tooltip=[alt.Tooltip("number:N", title="Số hiệu"), alt.Tooltip("type:N", title="Loại"),
                 alt.Tooltip("date_text:N", title="Ngày"), alt.Tooltip("title:N", title="Trích yếu")])
    text = base.mark_text(dy=-14, fontSize=11).encode(text="number:N")
    return alt.layer(points, text).properties(height=max(110, 70 * df["column"].nunique()))


def theme_frame(r: dict) -> pd.DataFrame:
    """Long form of the theme matrix: theme, column, count (one row per cell)."""
    cols = [c["id"] for c in r["columns"]]
    rows = [{"theme": row["theme"], "column": c, "count": row["cells"][c]["count"]}
            for row in r["theme_matrix"] for c in cols]
    return pd.DataFrame(rows, columns=["theme", "column", "count"])


def theme_chart(df: pd.DataFrame, selected: tuple[str, str] | None = None) -> alt.LayerChart:
    """Heatmap of passages per theme and column; a click selects a cell (``THEME_SELECTION``)."""
    pick = alt.selection_point(name=THEME_SELECTION, fields=["theme", "column"], on="click", empty=False,
                               value=[{"theme": selected[0], "column": selected[1]}] if selected else alt.Undefined)
    themes = list(dict.fromkeys(df["theme"]))
    cols = list(dict.fromkeys(df["column"]))
    # labelLimit=0: whole theme and column names ("Cải cách hành chính", not "Cải cách hành chí…")
    base = alt.Chart(df).encode(
        x=alt.X("column:N", title=None, sort=cols, axis=alt.Axis(orient="top", labelAngle=0, labelLimit=0)),
        y=alt.Y("theme:N", title=None, sort=themes, axis=alt.Axis(labelLimit=0)))
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("count:Q", title="Số đoạn", scale=alt.Scale(scheme="blues")),
        strokeWidth=alt.condition(pick, alt.value(3), alt.value(1)),
        stroke=alt.condition(pick, alt.value("#e67e22"), alt.value("white")),
        tooltip=[alt.Tooltip("theme:N", title="Chủ đề"), alt.Tooltip("column:N", title="Cột"),
                 alt.Tooltip("count:Q", title="Số đoạn")]).add_params(pick)
    text = base.mark_text(fontSize=12).encode(
        text="count:Q", color=alt.condition("datum.count > 3", alt.value("white"), alt.value("#222")))
    return alt.layer(cells, text).properties(height=32 * len(themes) + 30)


def default_theme_cell(r: dict) -> tuple[str, str] | None:
    """The cell to open first: the one with the most passages (first theme and column on ties)."""
    best = None
    for row in r["theme_matrix"]:
        for c in r["columns"]:
            n = row["cells"][c["id"]]["count"]
            if n and (best is None or n > best[0]):
                best = (n, row["theme"], c["id"])
    return (best[1], best[2]) if best else None


def theme_cell(r: dict, theme: str, column: str) -> dict:
    """The cell of the theme matrix: {count, passage_ids, doc_ids, passages}; ValueError if unknown."""
    row = next((x for x in r["theme_matrix"] if x["theme"] == theme), None)
    if row is None:
        raise ValueError(f"không có chủ đề “{theme}”")
    if column not in row["cells"]:
        raise ValueError(f"không có cột “{column}”; các cột: {', '.join(row['cells'])}")
    return row["cells"][column]


# --- tasks ---------------------------------------------------------------------------------------

TASK_COLUMNS = [("Hạn", 8), ("Cơ quan", 16), ("Nhiệm vụ", 27), ("Văn bản", 12), ("Đoạn nguồn", 31), ("Mở", 6)]


def _deadline_text(t: dict) -> str:
    if t.get("deadline"):
        return format_date(t["deadline"])
    if t.get("recurring"):
        return t.get("deadline_text") or "định kỳ"
    return ""


def task_rows(items: list[dict]) -> list[dict]:
    """The task table's rows as shown: deadline (d/m/yyyy), agency, task, document number, province,
    item, source sentence and the link opening the passage; by deadline (undated last), then document."""
    ordered = sorted(items, key=lambda t: (t.get("deadline") or "9999", t.get("number") or "", t.get("passage_id") or 0))
    return [{"Hạn": _deadline_text(t), "Cơ quan": t.get("agency") or UNKNOWN, "Nhiệm vụ": t["task"],
             "Văn bản": t.get("number") or "", "Tỉnh/thành": t.get("province") or "", "Mục": t.get("label") or "",
             "Đoạn nguồn": t["quote"], "Mở": doc_link(t["doc_id"], t["passage_id"])} for t in ordered]


def task_table_html(items: list[dict]) -> str:
    """The task table as one HTML table that fits the page: fixed column shares, long text wraps (no
    horizontal scrolling for "Đoạn nguồn" and "Mở"); province and item under the document number."""
    cols = "".join(f'<col style="width:{w}%">' for _, w in TASK_COLUMNS)
    head = "".join(f"<th>{esc(name)}</th>" for name, _ in TASK_COLUMNS)
    body = []
    for r in task_rows(items):
        where = " · ".join(x for x in (r["Tỉnh/thành"], r["Mục"]) if x)
        body.append(
            f"<tr><td>{esc(r['Hạn'])}</td><td>{esc(r['Cơ quan'])}</td><td>{esc(r['Nhiệm vụ'])}</td>"
            f"<td>{esc(r['Văn bản'])}" + (f'<div class="vb-small">{esc(where)}</div>' if where else "") + "</td>"
            f"<td>{esc(r['Đoạn nguồn'])}</td><td>{link('Mở', r['Mở'])}</td></tr>")
    return (f'<table class="vb-tasks"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def deadline_list(items: list[dict]) -> list[dict]:
    """Dated deadlines in date order: {date, date_text, agency, number, task, link}."""
    dated = sorted((t for t in items if t.get("deadline")), key=lambda t: (t["deadline"], t.get("number") or ""))
    return [{"date": t["deadline"], "date_text": format_date(t["deadline"]), "agency": t.get("agency") or UNKNOWN,
             "number": t.get("number") or "", "task": t["task"], "link": doc_link(t["doc_id"], t["passage_id"])}
            for t in dated]


# --- similar documents: pure functions kept in ui.render (the document view needs them without altair)
