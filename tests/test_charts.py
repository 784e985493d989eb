"""ui/charts.py: tables, chart specs and opened passages of the researcher pages, on the real
sample corpus index (no Streamlit)."""
import pandas as pd
import pytest

from index import research as R
from ui import charts as V


@pytest.fixture(scope="module")
def graph(searcher):
    return R.reference_graph(searcher)


@pytest.fixture(scope="module")
def comparison(searcher):
    return R.compare(searcher, ["Đắk Lắk", "Quảng Trị"])


# --- reference network ---------------------------------------------------------------------------

def test_graph_frames_place_every_node_and_edge_the_same_way_on_every_run(graph):
    nodes, edges = V.graph_frames(graph)
    assert len(nodes) == graph.number_of_nodes() and len(edges) == graph.number_of_edges()
    kl = nodes.set_index("id").loc["KL|114|TW"]
    assert kl["cited_by"] == 3 and kl["level"] == "trung ương" and kl["kind_label"] == "chưa có trong chỉ mục"
    again, _ = V.graph_frames(graph)
    assert nodes[["x", "y"]].equals(again[["x", "y"]])   # fixed seed
    edge = edges.set_index(["source", "target"]).loc[("doc:4", "KL|114|TW")]
    assert edge["count"] == 2 and (edge["x2"], edge["y2"]) == (kl["x"], kl["y"])
    assert str(nodes["doc_id"].dtype) == "Int64"


def test_graph_chart_is_an_altair_layer_with_a_click_selection_on_the_node_id(graph):
    nodes, edges = V.graph_frames(graph)
    spec = V.graph_chart(nodes, edges, "province").to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["rule", "point", "text"]
    params = spec["params"]   # Altair lifts a layer's selection to the top with the view it belongs to
    assert params[0]["name"] == V.NODE_SELECTION and params[0]["select"]["fields"] == ["id"]
    assert spec["layer"][1]["encoding"]["color"]["field"] == "province"
    assert spec["layer"][1]["encoding"]["size"]["field"] == "cited_by"
    level = V.graph_chart(nodes, edges, "level").to_dict()["layer"][1]["encoding"]["color"]
    assert level["scale"]["domain"][0] == "trung ương"
    with pytest.raises(ValueError, match="level, province"):
        V.graph_chart(nodes, edges, "colour")


def test_a_selected_node_comes_back_from_the_chart_state():
    state = {"selection": {V.NODE_SELECTION: [{"id": "KL|114|TW"}]}}
    assert V.selection_values(state, V.NODE_SELECTION) == [{"id": "KL|114|TW"}]
    assert V.selection_values({"selection": {}}, V.NODE_SELECTION) == []
    assert V.selection_values(None, V.NODE_SELECTION) == []
    assert V.selected_cell({"selection": {"rows": [], "columns": [], "cells": [(0, "Đắk Lắk")]}}) == (0, "Đắk Lắk")
    assert V.selected_cell({"selection": {"cells": []}}) is None


def test_node_detail_of_ket_luan_114_lists_the_three_citing_documents_with_their_passages(graph):
    assert V.node_options(graph)[0] == "KL|114|TW"   # most cited first
    d = V.node_detail(graph, "KL|114|TW")
    assert d["label"] == "Kết luận 114-KL/TW" and d["link"] is None and d["cited_by"] == 3
    assert [c["label"] for c in d["citing"]] == ["1321/UBND-KGVX", "2071/UBND-NC", "307-CV/HU"]
    first = d["citing"][0]["passages"][0]
    assert '<mark class="quote">Kết luận số 114-KL/TW</mark>' in first["html"]
    assert first["link"].startswith("van-ban?doc=") and "&p=" in first["link"]
    doc = V.node_detail(graph, "doc:1")
    assert doc["link"] == "van-ban?doc=1" and "Kết luận 114-KL/TW" in [c["label"] for c in doc["cites"]]
    assert V.node_detail(graph, "nowhere") is None


def _boxes(nodes):
    shown = nodes[nodes["label_shown"]]
    return [(r.label_x - len(r.label) * V.LABEL_CHAR_WIDTH / 2, r.label_y - V.LABEL_HEIGHT / 2,
             r.label_x + len(r.label) * V.LABEL_CHAR_WIDTH / 2, r.label_y + V.LABEL_HEIGHT / 2, r.id)
            for r in shown.itertuples()]


def test_network_labels_touch_no_other_label_and_no_node(graph):
    """Issue 16: labels overlapped in the network. Every shown label's box (its width from the character
    count, over the measured width of the chart's font) is clear of every other label and every node."""
    nodes, _ = V.graph_frames(graph)
    boxes = _boxes(nodes)
    assert len(boxes) >= 8 and "KL|114|TW" in {b[4] for b in boxes}        # the most cited node keeps its label
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
        for n in nodes.itertuples():
            nx_, ny_ = min(max(n.x, a[0]), a[2]), min(max(n.y, a[1]), a[3])
            assert (nx_ - n.x) ** 2 + (ny_ - n.y) ** 2 >= n.r ** 2, (a, n.id)
        assert 0 <= a[0] and a[2] <= V.GRAPH_WIDTH and 0 <= a[1] and a[3] <= V.GRAPH_HEIGHT
    spec = V.graph_chart(*V.graph_frames(graph)).to_dict()
    assert spec["autosize"] == {"type": "pad"} and spec["width"] == V.GRAPH_WIDTH    # px as placed


def test_quote_html_escapes_the_sentence_and_marks_the_quote():
    out = V.quote_html("Theo <b>Chỉ thị số 16-CT/TTg</b> & khác", "Chỉ thị số 16-CT/TTg")
    assert out == 'Theo &lt;b&gt;<mark class="quote">Chỉ thị số 16-CT/TTg</mark>&lt;/b&gt; &amp; khác'


# --- compare -------------------------------------------------------------------------------------

def test_central_matrix_puts_quyet_dinh_290_first_with_both_provinces_citing_it(comparison):
    m = V.central_matrix_frame(comparison)
    assert list(m.columns) == ["Văn bản trung ương", "Đắk Lắk", "Quảng Trị"]
    assert m.iloc[0].tolist() == ["Quyết định 290-QĐ/TW", "1321/UBND-KGVX", "1225/UBND-NC"]
    ct16 = m.set_index("Văn bản trung ương").loc["Chỉ thị 16/CT-TTg"]
    assert ct16["Quảng Trị"] == "—" and set(ct16["Đắk Lắk"].split("; ")) == {"5500/UBND-KGVX", "1321/UBND-KGVX"}


def test_a_matrix_cell_opens_the_citing_passages(comparison):
    cells = V.central_cell(comparison, "Quyết định 290-QĐ/TW")
    assert [x["number"] for x in cells["Quảng Trị"]] == ["1225/UBND-NC"]
    assert '<mark class="quote">Quyết định số 290-QĐ/TW</mark>' in cells["Đắk Lắk"][0]["html"]
    one = V.central_cell(comparison, "QĐ|290|TW", "Quảng Trị")
    assert list(one) == ["Quảng Trị"] and one["Quảng Trị"][0]["link"].startswith("van-ban?doc=")
    with pytest.raises(ValueError, match="các cột"):
        V.central_cell(comparison, "QĐ|290|TW", "Hà Nội")
    with pytest.raises(ValueError):
        V.central_cell(comparison, "Nghị quyết 999")


def test_timeline_and_theme_charts_are_built_from_the_comparison(comparison):
    t = V.timeline_frame(comparison)
    assert t["number"].tolist() == ["5500/UBND-KGVX", "1321/UBND-KGVX", "1225/UBND-NC"]
    assert t["date_text"].tolist()[0] == "14/7/2017" and pd.api.types.is_datetime64_any_dtype(t["date"])
    assert V.timeline_chart(t).to_dict()["layer"][0]["encoding"]["x"]["field"] == "date"
    th = V.theme_frame(comparison)
    assert len(th) == 9 * 2 and set(th["column"]) == {"Đắk Lắk", "Quảng Trị"}
    spec = V.theme_chart(th).to_dict()
    assert spec["layer"][0]["mark"]["type"] == "rect"
    # issue 16: whole theme names ("Cải cách hành chính", not "Cải cách hành chí…")
    assert spec["layer"][0]["encoding"]["y"]["axis"]["labelLimit"] == 0
    assert spec["params"][0]["name"] == V.THEME_SELECTION
    assert spec["params"][0]["select"]["fields"] == ["theme", "column"]
    theme, column = V.default_theme_cell(comparison)
    assert V.theme_cell(comparison, theme, column)["count"] == th["count"].max()
    cell = V.theme_cell(comparison, "Dân vận khéo", "Quảng Trị")
    assert cell["count"] >= 1 and cell["passage_ids"]
    with pytest.raises(ValueError, match="chủ đề"):
        V.theme_cell(comparison, "Không có", "Quảng Trị")


# --- tasks ---------------------------------------------------------------------------------------

def test_task_table_lists_the_two_deadlines_of_5500_first_with_their_agencies(searcher):
    items = R.tasks(searcher)
    top = pd.DataFrame(V.task_rows(items)).head(2)
    assert top["Hạn"].tolist() == ["30/10/2017", "10/11/2017"]
    assert top["Văn bản"].tolist() == ["5500/UBND-KGVX", "5500/UBND-KGVX"]
    assert top["Cơ quan"].iloc[0].startswith("Thủ trưởng các Sở, ban, ngành") and top["Cơ quan"].iloc[1] == "Sở Nội vụ"
    assert top["Mở"].iloc[0].startswith("van-ban?doc=") and "30/10/2017" in top["Đoạn nguồn"].iloc[0]
    dl = V.deadline_list(items)
    assert [(d["date_text"], d["agency"]) for d in dl][1] == ("10/11/2017", "Sở Nội vụ") and len(dl) == 2


def test_recurring_and_undated_tasks_show_what_the_text_says():
    base = {"task": "Báo cáo", "agency": None, "number": "1/X", "province": None, "label": None, "quote": "q",
            "doc_id": 1, "passage_id": 2}
    df = pd.DataFrame(V.task_rows([{**base, "deadline": None, "recurring": True, "deadline_text": "trước ngày 15 hằng tháng"},
                                   {**base, "deadline": None, "recurring": False, "deadline_text": None}]))
    assert df["Hạn"].tolist() == ["trước ngày 15 hằng tháng", ""] and df["Cơ quan"].tolist() == ["không rõ"] * 2
    assert V.deadline_list([{**base, "deadline": None}]) == []


def test_the_task_table_fits_the_page_with_its_source_and_open_columns(searcher):
    """Issue 16: no horizontal scrolling for "Đoạn nguồn" and "Mở": fixed column shares that add up to the
    page's width, text that wraps (the browser test measures it), escaped text, one app link per row."""
    items = R.tasks(searcher)
    out = V.task_table_html(items)
    widths = [int(w) for w in __import__("re").findall(r'<col style="width:(\d+)%">', out)]
    assert sum(widths) == 100 and [n for n, _ in V.TASK_COLUMNS][-2:] == ["Đoạn nguồn", "Mở"]
    assert out.count("<tr>") == len(items) + 1 and out.count('target="_self">Mở</a>') == len(items)
    hostile = [{"task": "![x](http://h/t.png)", "agency": "<b>Sở</b>", "number": "1/X", "province": None, "label": None,
                "quote": "[a](http://h/p)", "doc_id": 1, "passage_id": 2, "deadline": None}]
    assert "<b>" not in V.task_table_html(hostile) and "&lt;b&gt;Sở" in V.task_table_html(hostile)


# --- similar -------------------------------------------------------------------------------------

def test_similar_cards_link_documents_of_other_provinces_and_their_matching_passages(searcher):
    docs = searcher.docs()["documents"]
    options = V.document_options(docs)
    own = next(i for i, label in options.items() if "5500/UBND-KGVX" in label)
    assert list(options.values())[0] == "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk"
    cards = V.similar_cards(R.similar_documents(searcher, own, k=3))
    assert cards and all(c["province"] in ("Quảng Trị", "Đắk Nông") for c in cards)
    assert all(0 < c["score"] <= 100 for c in cards)
    pair = cards[0]["pairs"][0]
    assert pair["text"] and pair["other_text"] and pair["link"].startswith(f"van-ban?doc={cards[0]['doc_id']}&p=")
