"""One file in, one ``Document`` out: load, normalise, metadata, references, passages (no store, no
side effects); and the list of files a set of paths names. ``index.build`` stores the result."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

from .chunking import chunk, document_title
from .citations import extract_references
from .loaders import MACHINE_REASONS, SUPPORTED, load, os_reason
from .metadata import extract_metadata
from .model import Document, IngestError
from .normalize import clean

__all__ = ["process_file", "collect_files", "sha256_file", "worth_retrying", "R_FAILED_BEFORE", "R_UNEXPECTED"]

R_FAILED_BEFORE = "lỗi lần trước, tệp không đổi nên không xử lý lại"
R_UNEXPECTED = "lỗi không mong đợi khi xử lý tệp (lỗi của chương trình, chi tiết ghi trong nhật ký)"


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
    passages = chunk(source, ct, segment=segment, title=document_title(metadata.doc_type, metadata.title))
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


def worth_retrying(error: str) -> bool:
    """An unchanged file that failed is tried again only when the failure came from this machine's
    set-up (a missing tool, OCR, a bug) rather than from the file itself."""
    return error.startswith(R_UNEXPECTED) or any(r in error for r in MACHINE_REASONS)
