"""index/export.py: one CSV writer for every export, with the spreadsheet-formula guard."""
from __future__ import annotations

import csv
import io

from index.export import RESULT_COLUMNS, results_csv
from index.qa import ask, cites


def test_results_csv_has_one_row_per_passage_with_the_citation(searcher):
    r = ask(searcher, "Văn bản nào trích dẫn Chỉ thị 16?")
    rows = list(csv.reader(io.StringIO(results_csv(r))))
    assert rows[0] == RESULT_COLUMNS
    assert len(rows) == 1 + len(r["passages"])
    citations = {row[1] for row in rows[1:]}
    assert "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk" in citations
    assert all("16" in row[10] for row in rows[1:])            # the answering sentence


def test_results_csv_reads_search_and_cites_results_too(searcher):
    s = list(csv.reader(io.StringIO(results_csv(searcher.search("dân vận khéo", k=3)))))
    assert len(s) == 4
    c = list(csv.reader(io.StringIO(results_csv(cites(searcher, "Chỉ thị 16")))))
    assert len(c) == 3 and {r[2] for r in c[1:]} == {"5500/UBND-KGVX", "1321/UBND-KGVX"}


def test_results_csv_defuses_spreadsheet_formulas():
    doc = {"id": 1, "number": "=HYPERLINK(\"x\")", "type": "Công văn", "issuer": "+cmd", "province": None,
           "date": None, "title": "@SUM(A1)", "path": "a.txt"}
    text = results_csv({"results": [{"text": "- Như trên;", "document": doc, "doc_id": 1}]})
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[2].startswith("'=") and row[4] == "'+cmd" and row[7] == "'@SUM(A1)"
    assert row[11] == "'- Như trên;"                           # a leading dash could start a formula too
