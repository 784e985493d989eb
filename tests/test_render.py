"""ui/render.py: escaping, highlighting, result cards, document HTML, reports and hints (no Streamlit)."""
from __future__ import annotations

from pathlib import Path

from index.access import SYSTEM
from index.documents import document_view
from index.qa import ask
from index.search import Filters
from ui import render as views

REPO = Path(__file__).resolve().parents[1]


def _doc_id(searcher, number):
    return next(d["id"] for d in searcher.docs()["documents"] if d["number"] == number)


def test_document_html_marks_the_passage_and_words_only_inside_it(searcher):
    v = document_view(searcher, _doc_id(searcher, "5500/UBND-KGVX"))
    p = next(p for p in v["passages"] if "Chỉ thị số 16-CT/TTg" in p["text"])
    out = views.document_html(v, "dân vận khéo", p["passage_id"])
    assert f'id="passage-{p["passage_id"]}"' in out and 'class="psg' in out
    before = out.split(f'id="passage-{p["passage_id"]}"')[0]
    assert 'class="hl' not in before and 'class="hl' in out
    cites_q = views.document_html(v, "Văn bản nào trích dẫn Chỉ thị 16?", p["passage_id"])
    assert 'class="hl' not in cites_q


# --- highlighting -----------------------------------------------------------------------------------

def test_highlight_escapes_document_html_and_scripts():
    out = views.highlight('<script>alert("x")</script><img src=x onerror=alert(1)> Dân vận', "dân vận")
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert '<mark class="hl">Dân</mark> <mark class="hl">vận</mark>' in out


def test_highlight_without_diacritics_matches_words_with_diacritics():
    out = views.highlight("Phong trào “Dân vận khéo” năm 2017", "dan van kheo")
    assert out.count('<mark class="hl">') == 3


def test_highlight_with_diacritics_does_not_confuse_van_and_van():
    out = views.highlight("Văn bản về công tác dân vận", "công tác dân vận")
    assert out.startswith("Văn bản về ") and '<mark class="hl">Văn' not in out
    assert '<mark class="hl">vận</mark>' in out


def test_highlight_keeps_a_document_number_whole_and_marks_spans():
    text = "Thực hiện Công văn số 1321/UBND-KGVX ngày 19/02/2019. Câu sau."
    out = views.highlight(text, "1321/UBND-KGVX", [(0, 53, "ans")])
    assert '<mark class="ans hl">1321/UBND-KGVX</mark>' in out
    assert out.endswith(" Câu sau.")


def test_highlight_class_names_cannot_inject_markup():
    out = views.highlight("abc", "", [(0, 3, '"><script>')])
    assert "<script>" not in out and out == '<span class="script">abc</span>'


def test_highlight_keeps_newlines_out_of_markdown_reach():
    out = views.highlight("1. Mục một\n\n- gạch đầu dòng", "")
    assert "\n" not in out and out.count("&#10;") == 2


def test_query_terms_drop_function_words_and_van_ban():
    words, phrases, folded = views.query_terms("Văn bản nào trích dẫn Chỉ thị 16?")
    assert words == ["trích", "dẫn", "chỉ", "thị", "16"] and phrases == [] and not folded
    assert views.query_terms("dan van kheo")[0] == ["dan", "van", "kheo"]


# --- cards and CSV -----------------------------------------------------------------------------------

def test_passage_cards_of_a_cites_answer_mark_the_quote_and_the_sentence(searcher):
    r = ask(searcher, "Văn bản nào trích dẫn Chỉ thị 16?")
    cards = views.passage_cards(r)
    assert {c["number"] for c in cards} == {"5500/UBND-KGVX", "1321/UBND-KGVX"}
    for c in cards:
        assert '<mark class="ans quote">Chỉ thị số 16' in c["html"]
        assert 'class="hl' not in c["html"]                  # the question's words are not marked
        assert c["link"].startswith(f"van-ban?doc={c['doc_id']}&p={c['passage_id']}&q=")
        assert c["sentence"]


def test_passage_cards_of_a_free_question_mark_the_words(searcher):
    cards = views.passage_cards(ask(searcher, "dan van kheo"))
    assert cards and any('<mark class="' in c["html"] and "hl" in c["html"] for c in cards)
    assert all("**" not in c["html"] for c in cards)          # markdown emphasis hidden


# --- reports, status, hints --------------------------------------------------------------------------------

def test_report_rows_give_each_file_its_outcome_and_reason():
    report = {"added": ["/x/a.txt"], "updated": [], "unchanged": ["/x/b.txt"], "removed": [],
              "failed": [{"path": "/x/c.pdf", "error": "tệp PDF không có lớp chữ"}],
              "skipped": [{"path": "/x/d.exe", "error": "bỏ qua: định dạng .exe không được hỗ trợ"}],
              "duplicates": [], "generation": "g000002"}
    rows = views.report_rows(report)
    assert rows[0] == {"Tệp": "c.pdf", "Kết quả": "Lỗi", "Lý do": "tệp PDF không có lớp chữ"}
    assert {"Tệp": "a.txt", "Kết quả": "Đã thêm", "Lý do": ""} in rows
    assert views.report_summary(report) == "Đã thêm 1, cập nhật 0, không đổi 1, xoá 0, lỗi 1, bỏ qua 1."


def test_status_rows_label_the_stats_in_vietnamese(library):
    rows = dict(views.status_rows(library.stats(SYSTEM)))
    assert rows["Văn bản"] == "5" and rows["Thế hệ chỉ mục"].startswith("g")
    assert "384 chiều" in rows["Bộ nhúng"] and rows["Dựng lúc"]


def test_no_result_hints_suggest_removing_filters_and_diacritics():
    hints = views.no_result_hints("dân vận khéo", Filters(province="Quảng Trị", year_from=2017, year_to=2018))
    assert hints[0].startswith("Bỏ bớt bộ lọc") and "Quảng Trị" in hints[0] and "2017–2018" in hints[0]
    assert "“dan van kheo”" in hints[1]
    assert "có dấu" in views.no_result_hints("dan van kheo")[0]


def test_format_date_and_links_to_the_apps_pages():
    assert views.format_date("2017-07-14") == "14/7/2017" and views.format_date(None) == ""
    assert views.doc_link(3, 16, "Chỉ thị 16") == "van-ban?doc=3&p=16&q=Ch%E1%BB%89+th%E1%BB%8B+16"
    assert views.search_link("dân vận") == "./?q=d%C3%A2n+v%E1%BA%ADn" and views.search_link() == "./"


def test_an_unknown_document_number_gets_no_suggestion_to_drop_diacritics():
    """Issue 16: "Tìm không dấu" cannot find a number or a reference that is not in the index."""
    numbered = {"query": {"numbers": ["9999/UBND-KGVX"], "references": []}, "passages": []}
    hints = views.no_result_hints("Ai ký công văn 9999/UBND-KGVX?", None, numbered)
    assert not any("không dấu" in h for h in hints) and any("Kiểm tra lại số hiệu" in h for h in hints)
    cites = {"query": {"numbers": [], "references": [{"number": "999"}]}, "candidates": [], "passages": []}
    assert not any("không dấu" in h for h in views.no_result_hints("Văn bản nào trích dẫn Chỉ thị 999?", None, cites))
    free = {"query": {"numbers": [], "references": []}, "passages": []}
    assert views.names_a_document(numbered) and not views.names_a_document(free)
    assert any("không dấu" in h for h in views.no_result_hints("dân vận khéo", None, free))


def test_server_paths_are_in_the_metadata_only_when_asked_for():
    doc = {"number": "1/UBND", "type": "Công văn", "paths": ["/srv/vanban/a.txt"], "path": "/srv/vanban/a.txt"}
    assert "Tệp" not in dict(views.metadata_rows(doc))
    assert dict(views.metadata_rows(doc, paths=True))["Tệp"] == "/srv/vanban/a.txt"


def test_a_document_without_a_number_is_named_by_its_file():
    assert views.document_label({"type": None, "number": None, "path": "/srv/x/bao-cao.pdf"}) == "Văn bản (bao-cao.pdf)"
    assert views.document_label({"type": "Công văn", "number": "1/UBND", "path": "/srv/a.txt"}) == "Công văn số 1/UBND"


def test_cards_escape_document_text_and_link_only_the_apps_pages():
    card = {"label": "mục 1", "page": None, "number": "1/UBND", "issuer": "UBND <b>", "date": "", "title": "![x](http://h/t.png)",
            "citation": "Công văn [a](http://h/p)", "link": "van-ban?doc=1&p=2", "html": "thân"}
    out = views.result_card_html(1, card)
    assert out.count("<a ") == 1 and 'href="van-ban?doc=1&amp;p=2"' in out
    assert "&lt;b&gt;" in out and "<img" not in out
