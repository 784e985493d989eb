"""One file in, one ``Document`` out: load, normalise, metadata, references, passages (no store, no
side effects); and the list of files a set of paths names. ``index.build`` stores the result."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

from .chunking import chunk
from .citations import extract_references
from .loaders import SUPPORTED, load
from .metadata import extract_metadata
from .model import Document, IngestError
from .normalize import clean

__all__ = ["process_file", "collect_files", "sha256_file"]


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
    """Expand folders; return (supported files, skipped {path, error})."""
    files: list[Path] = []
    skipped: list[dict] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            candidates = sorted(x for x in p.rglob("*") if x.is_file() and not x.name.startswith("."))
        elif p.exists():
            candidates = [p]
        else:
            skipped.append({"path": str(p), "error": "không tìm thấy tệp hoặc thư mục"})
            continue
        for c in candidates:
            if c.suffix.lower() in SUPPORTED:
                files.append(c.resolve())
            else:
                skipped.append({"path": str(c), "error": f"bỏ qua: định dạng {c.suffix or '(không đuôi)'} "
                                                         "không được hỗ trợ (chỉ nhận PDF, DOCX, TXT, MD)"})
    return list(dict.fromkeys(files)), skipped
