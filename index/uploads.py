"""Uploaded files saved safely into the upload folder: one helper for the app and the API.

Names are sanitised (no directories, no "..", no control characters; Vietnamese letters kept), each
file is written under a hidden temporary name and renamed, so a running ingest never reads half a
file. ``check_uploads`` applies the count and size limits from the settings before anything is written.
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
import uuid
from pathlib import Path
from typing import Iterable

from vn.text import nfc

from .errors import InvalidInput, TooLarge

__all__ = ["UPLOAD_TYPES", "safe_filename", "save_uploads", "check_uploads"]

UPLOAD_TYPES = ("pdf", "docx", "doc", "txt", "md")

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


def _parts(f) -> tuple[str, object]:
    """(name, data): ``data`` is bytes or a readable binary file."""
    if isinstance(f, tuple):
        return f
    if hasattr(f, "getvalue"):          # Streamlit's UploadedFile
        return f.name, f.getvalue()
    return f.name, f.file                # Starlette's UploadFile and the like


def _size(data) -> int:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data)
    pos = data.tell()
    data.seek(0, os.SEEK_END)
    size = data.tell()
    data.seek(pos)
    return size


def check_uploads(files: list, max_files: int, max_mb: int) -> None:
    """TooLarge when there are more than ``max_files`` files or one is over ``max_mb`` MB."""
    if not files:
        raise InvalidInput("Chưa chọn tệp nào để tải lên.", field="files")
    if len(files) > max_files:
        raise TooLarge(f"Chọn {len(files)} tệp, vượt giới hạn {max_files} tệp mỗi lần; hãy chia thành nhiều lần.",
                       field="files")
    for f in files:
        name, data = _parts(f)
        size = _size(data)
        if size > max_mb * 1024 * 1024:
            raise TooLarge(f"Tệp “{safe_filename(name)}” nặng {size / 1024 / 1024:.1f} MB, vượt giới hạn {max_mb} MB.",
                           field=safe_filename(name))


def save_uploads(files: Iterable, dest_dir: str | Path) -> list[Path]:
    """Write uploaded files into ``dest_dir`` under sanitised names; return their paths.

    ``files``: (name, bytes or binary file) pairs, or objects with ``.name`` and ``.getvalue()``
    (Streamlit's UploadedFile) or ``.file`` (Starlette's UploadFile). A name already on disk is replaced
    (uploading a new version updates the document); the same name twice in one batch gets " (2)".
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    used: set[str] = set()
    out: list[Path] = []
    for f in files:
        name, data = _parts(f)
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
            raise InvalidInput(f"Tên tệp không hợp lệ: {name!r}", field="files")
        tmp = root / f".upload-{uuid.uuid4().hex}"
        with open(tmp, "wb") as fh:
            if isinstance(data, (bytes, bytearray, memoryview)):
                fh.write(bytes(data))
            else:
                data.seek(0)
                shutil.copyfileobj(data, fh)
        os.replace(tmp, target)
        out.append(target)
    return out
