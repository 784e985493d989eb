"""The ingest run: files in, documents + passages + references + vectors in the store, then a
new index generation. Incremental by content hash; one transaction per file."""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .chunking import chunk
from .citations import extract_references
from .loaders import MACHINE_REASONS, SUPPORTED, load, os_reason
from .metadata import extract_metadata
from .model import Document, IngestError
from .normalize import clean

__all__ = ["process_file", "collect_files", "run_ingest", "IngestReport", "Progress"]

log = logging.getLogger(__name__)

R_FAILED_BEFORE = "lỗi lần trước, tệp không đổi nên không xử lý lại"
R_UNEXPECTED = "lỗi không mong đợi khi xử lý tệp (lỗi của chương trình, chi tiết ghi trong nhật ký)"

# progress(stage, done, total, path): stage is "files" or "index"
Progress = Callable[[str, int, int, str], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)      # {path, error}
    skipped: list[dict] = field(default_factory=list)     # {path, error}: not a supported file type
    duplicates: list[dict] = field(default_factory=list)  # {path, same_as}
    generation: str | None = None

    def as_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "failed": self.failed, "skipped": self.skipped,
                "duplicates": self.duplicates, "generation": self.generation}


def sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def process_file(path: str | Path, sha256: str = "", size: int = 0, segment: bool = True) -> Document:
    """Load, normalise, extract metadata and references, and chunk one file (no store involved)."""
    source = load(path)
    ct = clean(source.text)
    if not ct.clean.strip():
        raise IngestError(str(path), "tệp không có nội dung văn bản")
    metadata = extract_metadata(ct, str(path))
    refs = extract_references(ct, {"province": metadata.province, "district": None, "number": metadata.number,
                                   "level": metadata.level})
    passages = chunk(source, ct, segment=segment)
    return Document(path=str(path), sha256=sha256, size=size, source=source, metadata=metadata,
                    references=refs, passages=passages)


def collect_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[dict]]:
    """Expand folders; return (supported files, skipped {path, error}).

    Every entry left out is in ``skipped`` with its reason: an unsupported format, a hidden file or
    folder (name starting with "."; a hidden folder is listed once and not entered), a broken link,
    a link to a folder (not followed, so a link cannot loop), a folder that cannot be read, and
    anything that is not a regular file. A path given explicitly is taken even if hidden.
    """
    files: list[Path] = []
    skipped: list[dict] = []

    def skip(path: Path, why: str) -> None:
        skipped.append({"path": str(path), "error": f"bỏ qua: {why}"})

    def take(path: Path) -> None:
        if path.suffix.lower() in SUPPORTED:
            files.append(path.resolve())
        else:
            skip(path, f"định dạng {path.suffix or '(không đuôi)'} không được hỗ trợ (chỉ nhận PDF, DOCX, TXT, MD)")

    def listing(folder: Path):
        try:
            return iter(sorted(os.scandir(folder), key=lambda e: e.name))
        except OSError as e:
            skip(folder, f"không đọc được thư mục ({os_reason(e)})")
            return iter(())

    def walk(folder: Path) -> None:  # depth first, in name order, without recursion
        stack = [listing(folder)]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
                is_link = entry.is_symlink()
            except OSError as e:
                skip(path, f"không đọc được ({os_reason(e)})")
                continue
            if entry.name.startswith("."):
                skip(path, "thư mục ẩn (tên bắt đầu bằng dấu chấm)" if is_dir else "tệp ẩn (tên bắt đầu bằng dấu chấm)")
            elif is_link and not (is_dir or is_file):
                skip(path, "liên kết hỏng, không trỏ tới tệp nào")
            elif is_link and is_dir:
                skip(path, "liên kết tới thư mục, không đi theo")
            elif is_dir:
                stack.append(listing(path))
            elif is_file:
                take(path)
            else:
                skip(path, "không phải tệp thường (thiết bị, FIFO hay socket)")

    for p in paths:
        p = Path(p)
        if p.is_dir():
            walk(p)
        elif p.is_file():
            take(p)
        elif p.is_symlink():
            skip(p, "liên kết hỏng, không trỏ tới tệp nào")
        elif p.exists():
            skip(p, "không phải tệp thường (thiết bị, FIFO hay socket)")
        else:
            skipped.append({"path": str(p), "error": "không tìm thấy tệp hoặc thư mục"})
    return list(dict.fromkeys(files)), skipped


def run_ingest(paths: Iterable[str | Path], index_dir: str | Path, prune: bool = False,
               embedder_config: dict | None = None, embedder=None, rebuild: bool = False,
               index_kind: str = "auto", progress: Progress | None = None) -> IngestReport:
    """Bring the index at ``index_dir`` up to date with ``paths``.

    Unchanged files (same sha256) are skipped, changed files replaced, files gone from ``paths``
    removed only with ``prune``. New passages are embedded; the rest reuse stored vectors.
    """
    from index.embed import create_embedder
    from index.generation import build_generation, built_version, current_generation, ingest_lock
    from index.store import Store

    index_dir = Path(index_dir)
    report = IngestReport()
    files, report.skipped = collect_files(paths)
    with ingest_lock(index_dir):
        store = Store(index_dir)
        try:
            embedder = embedder or create_embedder(embedder_config)
            if rebuild:
                store.clear_vectors()
            store.check_embedder(embedder.name, embedder.dimension)
            for i, path in enumerate(files):
                if progress:
                    progress("files", i, len(files), str(path))
                _ingest_one(store, embedder, path, report)
            if prune:
                kept = {str(p) for p in files}
                for row in store.files():
                    if row["path"] not in kept:
                        store.remove_file(row["path"])
                        report.removed.append(row["path"])
            if progress:
                progress("files", len(files), len(files), "")
            _embed_missing(store, embedder, progress)
            current = current_generation(index_dir)
            stale = current is None or rebuild or built_version(index_dir, current) != store.data_version
            if stale:
                if progress:
                    progress("index", 0, 1, "")
                info = {"name": embedder.name, "dimension": embedder.dimension, "config": embedder.config()}
                report.generation = build_generation(store, info, kind=index_kind)
                if progress:
                    progress("index", 1, 1, "")
            else:
                report.generation = current
        finally:
            store.close()
    return report


def _ingest_one(store, embedder, path: Path, report: IngestReport) -> None:
    key = str(path)
    try:
        sha, size = sha256_file(path)
    except OSError as e:
        report.failed.append({"path": key, "error": f"không đọc được tệp ({os_reason(e)})"})
        return
    old = store.file(key)
    if old is not None and old["sha256"] == sha:
        if old["status"] == "ok":
            report.unchanged.append(key)
            return
        if not _worth_retrying(old["error"] or ""):  # a bomb is not inflated again on every run
            report.failed.append({"path": key, "error": f"{old['error']} ({R_FAILED_BEFORE})"})
            return
    same = store.doc_id_by_sha(sha)
    if same is not None:
        store.link_duplicate(key, sha, size, same)
        other = store.document(same)
        report.duplicates.append({"path": key, "same_as": [p for p in other["paths"] if p != key]})
        (report.updated if old is not None else report.added).append(key)
        return
    try:
        doc = process_file(path, sha, size)
        vectors = embedder.embed_passages([p.clean for p in doc.passages])
    except IngestError as e:
        store.put_failure(key, sha, size, e.reason)
        report.failed.append({"path": key, "error": e.reason})
        return
    except Exception:  # a bug or an unexpected file: report it, keep the run going
        log.exception("unexpected error while ingesting %s", key)
        reason = R_UNEXPECTED
        store.put_failure(key, sha, size, reason)
        report.failed.append({"path": key, "error": reason})
        return
    store.put_document(doc, vectors)
    (report.updated if old is not None else report.added).append(key)


def _worth_retrying(error: str) -> bool:
    """An unchanged file that failed is tried again only when the failure came from this machine's
    set-up (a missing tool, OCR, a bug) rather than from the file itself."""
    return error.startswith(R_UNEXPECTED) or any(r in error for r in MACHINE_REASONS)


def _embed_missing(store, embedder, progress: Progress | None) -> None:
    """Vectors for passages that have none (after --rebuild, or an interrupted run)."""
    rows = store.passages_without_vectors()
    batch = 256
    for i in range(0, len(rows), batch):
        part = rows[i:i + batch]
        if progress:
            progress("embed", i, len(rows), "")
        store.put_vectors([r["id"] for r in part], embedder.embed_passages([r["clean"] for r in part]))
    if rows and progress:
        progress("embed", len(rows), len(rows), "")


def default_index_dir() -> Path:
    return Path(os.environ.get("VANBAN_INDEX_DIR", ".index"))
