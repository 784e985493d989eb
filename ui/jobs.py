"""The app's background work: uploaded files saved safely, and one ingest at a time in a thread whose
progress the page polls (search goes on using the previous index generation meanwhile)."""
from __future__ import annotations

import os
import re
import threading
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Iterable

from index.errors import VanbanError
from vn.text import nfc

__all__ = ["UPLOAD_TYPES", "safe_filename", "save_uploads", "IngestJob", "IngestRunner", "BusyError"]

UPLOAD_TYPES = ("pdf", "docx", "doc", "txt", "md")


# --- uploads ------------------------------------------------------------------------------------

_RESERVED = re.compile(r'[<>:"|?*]')
_MAX_NAME_BYTES = 200


def safe_filename(name: str) -> str:
    """A file name safe to create in one folder: no directories, no "..", no control characters.

    Vietnamese letters are kept (NFC). Leading dots go (no hidden files, no ".."); reserved
    characters become "_"; the name is cut to 200 UTF-8 bytes, keeping the extension.
    """
    name = nfc(str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ")
    name = _RESERVED.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name or set(name) <= {"."}:
        name = "tep-tai-len"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:16]
    while len((stem + (f".{ext}" if ext else "")).encode("utf-8")) > _MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    stem = stem.rstrip(" .") or "tep-tai-len"
    return stem + (f".{ext}" if ext else "")


def save_uploads(files: Iterable, dest_dir: str | Path) -> list[Path]:
    """Write uploaded files into ``dest_dir`` under sanitised names; return their paths.

    ``files``: objects with ``.name`` and ``.getvalue()`` (Streamlit's UploadedFile) or (name, bytes).
    A name already on disk is replaced (uploading a new version updates the document); the same name
    twice in one batch gets " (2)". Each file is written to a hidden temporary name and renamed, so a
    running ingest never reads half a file.
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    used: set[str] = set()
    out: list[Path] = []
    for f in files:
        if isinstance(f, tuple):
            name, data = f
        else:
            name, data = f.name, f.getvalue()
        base = safe_filename(name)
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        candidate, n = base, 1
        while candidate.casefold() in used:
            n += 1
            candidate = f"{stem} ({n})" + (f".{ext}" if ext else "")
        used.add(candidate.casefold())
        target = (root / candidate).resolve()
        if target.parent != root:  # defence in depth: safe_filename already removed separators
            raise ValueError(f"tên tệp không hợp lệ: {name!r}")
        tmp = root / f".upload-{uuid.uuid4().hex}"
        with open(tmp, "wb") as fh:
            fh.write(bytes(data))
        os.replace(tmp, target)
        out.append(target)
    return out



# --- background ingest --------------------------------------------------------------------------

class BusyError(Exception):
    """An ingest is already running in this process."""


_STAGES = {"files": (0.0, 0.85), "embed": (0.85, 0.95), "index": (0.95, 1.0)}


class IngestJob:
    """One ``run_ingest`` in a daemon thread; progress fields are read by the app while it runs."""

    def __init__(self, library, who, paths: list[str | Path], prune: bool = False, group: str | None = None,
                 label: str = ""):
        self.library = library
        self.who = who
        self.paths = [str(p) for p in paths]
        self.prune = prune
        self.group = group
        self.label = label
        self.state = "pending"          # pending | running | done | failed
        self.stage, self.done, self.total, self.path = "files", 0, 0, ""
        self.report: dict | None = None
        self.error: str | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="vanban-ingest", daemon=True)

    def start(self) -> "IngestJob":
        self.state, self.started_at = "running", time.time()
        self._thread.start()
        return self

    def _progress(self, stage: str, done: int, total: int, path: str) -> None:
        self.stage, self.done, self.total, self.path = stage, done, total, path

    def _run(self) -> None:
        try:
            report = self.library.ingest(self.who, self.paths, prune=self.prune, group=self.group,
                                         progress=self._progress)
            self.report = report.as_dict()
            self.state = "done"
        except VanbanError as e:
            self.error, self.state = str(e), "failed"
        except Exception as e:  # shown to the administrator, never as a traceback
            self.error, self.state = f"{type(e).__name__}: {e}", "failed"
        finally:
            self.finished_at = time.time()

    @property
    def running(self) -> bool:
        return self.state in ("pending", "running")

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self.running

    @property
    def fraction(self) -> float:
        if not self.running:
            return 1.0
        lo, hi = _STAGES.get(self.stage, (0.0, 1.0))
        part = self.done / self.total if self.total else 0.0
        return max(0.0, min(1.0, lo + (hi - lo) * part))

    @property
    def message(self) -> str:
        if self.state == "done":
            return "Đã nạp xong."
        if self.state == "failed":
            return f"Nạp dữ liệu thất bại: {self.error}"
        if self.stage == "files":
            if self.total and self.done < self.total:
                return f"Đang nạp tệp {self.done + 1}/{self.total}: {Path(self.path).name}"
            return "Đang đọc danh sách tệp…" if not self.total else "Đã đọc xong các tệp."
        if self.stage == "embed":
            return f"Đang tính vectơ cho đoạn văn bản ({self.done}/{self.total})…"
        return "Đang dựng chỉ mục tìm kiếm…"


class IngestRunner:
    """The one background ingest of a library in this process, and the last one's result."""

    def __init__(self, library):
        self.library = library
        self.job: IngestJob | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(self, who, paths: list[str | Path], prune: bool = False, group: str | None = None,
              label: str = "") -> IngestJob:
        with self._lock:
            if self.running:
                raise BusyError("Đang có một lượt nạp dữ liệu chạy; hãy chờ nó xong.")
            self.job = IngestJob(self.library, who, paths, prune=prune, group=group, label=label).start()
            return self.job
