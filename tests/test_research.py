"""Research views over the real sample corpus index: reference network, comparison, tasks, similar."""
import csv
import io
import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import networkx as nx
import pytest

from index import research as R

REPO = Path(__file__).resolve().parents[1]


def _cli(index_dir, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "index", *args, "--index-dir", str(index_dir)], cwd=REPO,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


# --- reference network ---------------------------------------------------------------------------

def test_reference_network_shows_ket_luan_114_cited_by_the_three_documents_that_cite_it(searcher):
    g = R.reference_graph(searcher)
    node = g.nodes["KL|114|TW"]
    assert node["cited_by"] == 3 and node["level"] == "trung ương" and node["label"] == "Kết luận 114-KL/TW"
    citing = sorted(g.nodes[u]["label"] for u in g.predecessors("KL|114|TW"))
    assert citing == ["1321/UBND-KGVX", "2071/UBND-NC", "307-CV/HU"]
    edge = g.edges["doc:4", "KL|114|TW"]  # 307-CV/HU cites it twice in one passage
    assert edge["count"] == 2 and all(p["quote"] == "Kết luận số 114-KL/TW" for p in edge["passages"])
    # indexed documents carry what a click needs: the id and file to open
    assert g.nodes["doc:1"]["doc_id"] == 1 and g.nodes["doc:1"]["file"] == "daklak_1321-UBND-KGVX_2019.txt"


def test_reference_network_filters_by_province_year_and_reference(searcher):
    g = R.reference_graph(searcher, province="dak lak")
    citing = {g.nodes[u]["label"] for u, _ in g.edges}
    assert citing == {"1321/UBND-KGVX", "5500/UBND-KGVX"}
    assert g.nodes["CT|16|TTg"]["cited_by"] == 2

    g = R.reference_graph(searcher, year_from=2019, year_to=2020)
    assert {g.nodes[u]["label"] for u, _ in g.edges} == {"1321/UBND-KGVX", "1225/UBND-NC"}

    g = R.reference_graph(searcher, reference="Kết luận 114")
    assert set(g.nodes) == {"KL|114|TW", "doc:1", "doc:3", "doc:4"}
    with pytest.raises(ValueError, match="tỉnh/thành"):
        R.reference_graph(searcher, province="Atlantis")


def test_graphml_export_reads_back_with_networkx(searcher, tmp_path):
    g = R.reference_graph(searcher)
    text = R.graph_graphml(g)
    assert text.startswith("<?xml") and "Kết luận 114-KL/TW" in text  # readable Vietnamese, not entities
    path = tmp_path / "refs.graphml"
    path.write_text(text, encoding="utf-8")
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == g.number_of_nodes() and back.number_of_edges() == g.number_of_edges()
    assert back.nodes["KL|114|TW"]["cited_by"] == 3
    assert back.edges["doc:4", "KL|114|TW"]["quotes"] == "Kết luận số 114-KL/TW"


def test_csv_edges_export_has_one_row_per_citing_pair(searcher):
    g = R.reference_graph(searcher)
    rows = list(csv.DictReader(io.StringIO(R.graph_csv(g))))
    assert len(rows) == g.number_of_edges()
    assert list(rows[0]) == R.GRAPH_CSV_FIELDS
    kl = sorted(r["source_label"] for r in rows if r["target"] == "KL|114|TW")
    assert kl == ["1321/UBND-KGVX", "2071/UBND-NC", "307-CV/HU"]


# --- compare -------------------------------------------------------------------------------------

def test_comparing_dak_lak_and_quang_tri_shows_both_citing_quyet_dinh_290_with_the_passages(searcher):
    r = R.compare(searcher, ["Đắk Lắk", "quang tri"])
    assert [c["id"] for c in r["columns"]] == ["Đắk Lắk", "Quảng Trị"]
    top = r["central_matrix"][0]
    assert top["canonical"] == "Quyết định 290-QĐ/TW" and top["n_columns"] == 2
    assert [x["number"] for x in top["cells"]["Đắk Lắk"]] == ["1321/UBND-KGVX"]
    assert [x["number"] for x in top["cells"]["Quảng Trị"]] == ["1225/UBND-NC"]
    for col in ("Đắk Lắk", "Quảng Trị"):
        cell = top["cells"][col][0]
        assert cell["quote"] == "Quyết định số 290-QĐ/TW"
        text = searcher.catalog.passages([cell["passage_id"]])[cell["passage_id"]]["text"]
        assert cell["quote"] in text
    # only central documents are rows; a provincial plan is not
    assert all(not row["key"].startswith("KH|") for row in r["central_matrix"])
    ct16 = next(row for row in r["central_matrix"] if row["key"] == "CT|16|TTg")
    assert set(ct16["cells"]) == {"Đắk Lắk"}


def test_comparison_timeline_is_dated_and_theme_cells_open_their_passages(searcher):
    r = R.compare(searcher, ["Đắk Lắk", "Quảng Trị"])
    assert [t["number"] for t in r["timeline"]] == ["5500/UBND-KGVX", "1321/UBND-KGVX", "1225/UBND-NC"]
    themes = {row["theme"]: row for row in r["theme_matrix"]}
    assert len(themes) == 9
    dvk = themes["Dân vận khéo"]["cells"]
    assert dvk["Đắk Lắk"]["count"] >= 2 and dvk["Quảng Trị"]["count"] >= 1
    opened = R.passages_detail(searcher, dvk["Quảng Trị"]["passage_ids"])
    assert any("Dân vận khéo" in p["text"] and p["number"] == "1225/UBND-NC" for p in opened)
    cchc = themes["Cải cách hành chính"]["cells"]["Quảng Trị"]
    assert cchc["count"] >= 1 and cchc["passages"][0]["cues"]


def test_compare_documents_as_columns(searcher):
    ids = [d["id"] for d in searcher.catalog.documents() if d["number"] in ("2071/UBND-NC", "307-CV/HU")]
    r = R.compare(searcher, doc_ids=ids)
    assert [c["kind"] for c in r["columns"]] == ["document", "document"]
    top = r["central_matrix"][0]
    assert top["n_columns"] == 2 and top["key"] in ("KL|114|TW", "NQ|25|TW")
    training = next(row for row in r["theme_matrix"] if row["theme"] == "Tập huấn cán bộ")
    assert training["cells"]["2071/UBND-NC"]["count"] >= 1  # "tổ chức các lớp tập huấn"


def test_theme_file_is_readable_vietnamese_and_a_broken_one_is_refused(tmp_path):
    raw = R.THEMES_FILE.read_text(encoding="utf-8")
    assert "Quy chế dân chủ ở cơ sở" in raw  # ensure_ascii=False on disk
    themes = R.load_themes()
    assert [t["name"] for t in themes][:2] == ["Tuyên truyền", "Cải cách hành chính"]
    assert all(t["description"] and t["cues"] for t in themes)
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps({"themes": [{"name": "X"}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="description"):
        R.load_themes(bad)


def test_assign_themes_uses_folded_cues_and_skips_boilerplate(searcher):
    themes = [{"name": "Khiếu nại", "description": "giải quyết khiếu nại, tố cáo", "cues": ["khieu nai"]}]
    got = R.assign_themes(searcher, themes)
    texts = searcher.catalog.passages([a["passage_id"] for a in got])
    assert got and all("khiếu nại" in texts[a["passage_id"]]["text"].lower() or a["via"] == "embedder" for a in got)
    assert not any(texts[a["passage_id"]]["text"].startswith("Nơi nhận") for a in got)


# --- tasks ---------------------------------------------------------------------------------------

def test_task_list_holds_the_two_deadlines_of_5500_with_the_agencies(searcher):
    items = [t for t in R.tasks(searcher) if t["number"] == "5500/UBND-KGVX"]
    by_date = {t["deadline"]: t for t in items if t["deadline"]}
    assert set(by_date) == {"2017-10-30", "2017-11-10"}
    assert by_date["2017-11-10"]["agency"] == "Sở Nội vụ"
    assert by_date["2017-11-10"]["task"].startswith("Tổng hợp, tham mưu")
    first = by_date["2017-10-30"]
    assert first["agency"].startswith("Thủ trưởng các Sở, ban, ngành") and first["agency_source"] == "người nhận"
    assert first["deadline_text"] == "trước ngày 30/10/2017" and "30/10/2017" in first["quote"]
    assert first["label"] == "mục 5"


def test_assignments_without_deadline_are_tasks_and_filters_apply(searcher):
    items = R.tasks(searcher)
    giao = {(t["number"], t["agency"]) for t in items if t["agency_source"] == "giao"}
    assert ("2071/UBND-NC", "Sở Nội vụ") in giao and ("307-CV/HU", "Ban Dân vận Huyện ủy") in giao
    assert {t["number"] for t in R.tasks(searcher, agency="so noi vu")} == {"5500/UBND-KGVX", "2071/UBND-NC"}
    assert [t["deadline"] for t in R.tasks(searcher, deadline_from="2017-11-01")] == ["2017-11-10"]
    assert all(t["deadline"] for t in R.tasks(searcher, with_deadline=True))
    assert {t["province"] for t in R.tasks(searcher, province="Đắk Nông")} == {"Đắk Nông"}


def test_tasks_csv_parses_with_the_source_passage(searcher):
    rows = list(csv.DictReader(io.StringIO(R.tasks_csv(R.tasks(searcher)))))
    assert list(rows[0]) == R.TASK_CSV_FIELDS
    row = next(r for r in rows if r["deadline"] == "2017-11-10")
    assert row["agency"] == "Sở Nội vụ" and row["number"] == "5500/UBND-KGVX" and "Giao Sở Nội vụ" in row["quote"]


def test_ics_export_is_valid_rfc5545_with_one_all_day_event_per_deadline(searcher):
    ics = R.tasks_ics(R.tasks(searcher), now=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    physical = ics.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    lines = ics.replace("\r\n ", "").split("\r\n")[:-1]  # unfold
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR" and "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    events = [i for i, line in enumerate(lines) if line == "BEGIN:VEVENT"]
    assert len(events) == lines.count("END:VEVENT") == 2
    starts = sorted(line for line in lines if line.startswith("DTSTART"))
    assert starts == ["DTSTART;VALUE=DATE:20171030", "DTSTART;VALUE=DATE:20171110"]
    uids = [line for line in lines if line.startswith("UID:")]
    assert len(set(uids)) == 2 and lines.count("DTSTAMP:20240102T030405Z") == 2
    summary = next(line for line in lines if line.startswith("SUMMARY:Hạn: Thủ trưởng"))
    assert "Sở\\, ban\\, ngành" in summary  # commas escaped
    for line in lines:
        if line.startswith(("SUMMARY:", "DESCRIPTION:")):
            assert not re.search(r"(?<!\\)[,;]", line.split(":", 1)[1])


def test_ics_folding_never_splits_a_character():
    folded = R._ics_fold("DESCRIPTION:" + "Đắk Lắk " * 30)
    assert all(len(f.encode("utf-8")) <= 75 for f in folded)
    assert "".join(f[1:] if i else f for i, f in enumerate(folded)) == "DESCRIPTION:" + "Đắk Lắk " * 30


# --- similar documents ---------------------------------------------------------------------------

def test_similar_documents_come_from_other_provinces_with_matching_passages(searcher):
    doc = searcher.catalog.documents_by_number("5500/UBND-KGVX")[0]
    r = R.similar_documents(searcher, doc["id"], k=5)
    provinces = [x["document"]["province"] for x in r["results"]]
    assert provinces and "Đắk Lắk" not in provinces and set(provinces) <= {"Quảng Trị", "Đắk Nông"}
    scores = [x["score"] for x in r["results"]]
    assert scores == sorted(scores, reverse=True)
    pair = r["results"][0]["pairs"][0]
    own = searcher.catalog.passages([pair["passage_id"]])[pair["passage_id"]]
    other = searcher.catalog.passages([pair["other_passage_id"]])[pair["other_passage_id"]]
    assert own["doc_id"] == doc["id"] and other["doc_id"] == r["results"][0]["document"]["id"]
    assert 0 < pair["similarity"] <= 1.0001


# --- command line --------------------------------------------------------------------------------

def test_cli_graph_prints_graphml_and_a_readable_summary(corpus_index, tmp_path):
    out = _cli(corpus_index, "graph", "--format", "graphml")
    assert out.returncode == 0, out.stderr
    path = tmp_path / "g.graphml"
    path.write_text(out.stdout, encoding="utf-8")
    assert nx.read_graphml(path).nodes["KL|114|TW"]["cited_by"] == 3
    out = _cli(corpus_index, "graph", "--reference", "114-KL/TW")
    assert out.returncode == 0, out.stderr
    assert "Kết luận 114-KL/TW (trung ương): 3 văn bản" in out.stdout


def test_cli_compare_json_and_unknown_province(corpus_index):
    out = _cli(corpus_index, "compare", "--province", "Đắk Lắk", "--province", "Quảng Trị", "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["central_matrix"][0]["canonical"] == "Quyết định 290-QĐ/TW"
    assert set(r["central_matrix"][0]["cells"]) == {"Đắk Lắk", "Quảng Trị"}
    bad = _cli(corpus_index, "compare", "--province", "Atlantis")
    assert bad.returncode == 2 and "Không nhận ra tỉnh/thành" in bad.stderr


def test_cli_tasks_text_and_ics(corpus_index):
    out = _cli(corpus_index, "tasks")
    assert out.returncode == 0, out.stderr
    assert "Sở Nội vụ — hạn 10/11/2017" in out.stdout and "hạn 30/10/2017" in out.stdout
    out = _cli(corpus_index, "tasks", "--format", "ics")
    assert out.returncode == 0, out.stderr
    assert "DTSTART;VALUE=DATE:20171030" in out.stdout and out.stdout.startswith("BEGIN:VCALENDAR")


def test_cli_similar_lists_documents_of_other_provinces(corpus_index):
    out = _cli(corpus_index, "similar", "5500/UBND-KGVX", "--k", "2", "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["document"]["number"] == "5500/UBND-KGVX"
    assert {x["document"]["province"] for x in r["results"]} <= {"Quảng Trị", "Đắk Nông"}
    unknown = _cli(corpus_index, "similar", "9999/UBND-XX")   # no such document: done, with a message
    assert unknown.returncode == 0 and "Không có văn bản số “9999/UBND-XX”" in unknown.stderr
