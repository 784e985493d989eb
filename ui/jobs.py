"""The app's background work: one ingest at a time in a thread whose
progress the page polls (search goes on using the previous index generation meanwhile)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from index.errors import VanbanError

__all__ = ["IngestJob", "IngestRunner", "BusyError"]


# --- background ingest --------------------------------------------------------------------------

class BusyError(Exception):
    """An ingest is already running in this process."""


_STAGES = {"files": (0.0, 0.85), "embed": (0.85, 0.95), "index": (0.95, 1.0)}


class IngestJob:
    """One ``run_ingest`` in a daemon thread; progress fields are read by the app while it runs."""

    def __init__(self, library, who, paths: list[str | Path], prune: bool = False, group: str | None = None,
                 label: str = "", discard_refused: bool = False):
        self.library = library
        self.discard_refused = discard_refused   # uploads: a refused file leaves the upload folder
        self.who = who
        self.paths = [str(p) for p in paths]
        self.prune = prune
        self.group = group
        self.label = label
        self.state = "pending"          # pending | running | done | failed
        self.stage, self.done, self.total, self.path = "files", 0, 0, ""
        self.report: dict | None = None
        self.error: str | None = None
        self.discarded: list[str] = []
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
            if self.discard_refused:
                self._discard()
            self.finished_at = time.time()

    def _discard(self) -> None:
        """Remove the uploaded files the ingest refused (or all of them when the run failed), so that a
        refused file is not read again by every later update from the folders."""
        if self.state == "failed":
            refused = set(self.paths)
        else:
            report = self.report or {}
            refused = {str(item.get("path") if isinstance(item, dict) else item)
                       for k in ("failed", "skipped") for item in report.get(k) or []}
        for p in self.paths:
            if p in refused or str(Path(p).resolve()) in refused:
                try:
                    Path(p).unlink()
                    self.discarded.append(p)
                except FileNotFoundError:
                    pass

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
              label: str = "", discard_refused: bool = False) -> IngestJob:
        with self._lock:
            if self.running:
                raise BusyError("Đang có một lượt nạp dữ liệu chạy; hãy chờ nó xong.")
            self.job = IngestJob(self.library, who, paths, prune=prune, group=group, label=label,
                                 discard_refused=discard_refused).start()
            return self.job
