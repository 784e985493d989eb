"""Index generations: FAISS + BM25 + manifest built from the store, switched atomically.

Layout of an index directory::

    store.sqlite                 documents, passages, references, vectors
    CURRENT                      name of the live generation ("g000004")
    generations/g000004/         manifest.json, dense.faiss, bm25/
    ingest.lock                  held by the one ingest that may write

A build writes a new folder under a temporary name, renames it, then replaces CURRENT with
``os.replace``: a reader sees the old generation or the new one, never half of one.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .dense import DenseIndex
from .lexical import LexicalIndex
from .store import SCHEMA_VERSION, Store, StoreError

__all__ = ["Generation", "build_generation", "built_version", "current_generation", "open_generation", "ingest_lock",
           "LockedError", "manifest_path"]


class LockedError(Exception):
    """Another ingest holds the index directory."""


@contextmanager
def ingest_lock(index_dir: Path, wait: bool = False):
    """One writer at a time; the second refuses at once (or waits) with a clear message."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    fh = open(index_dir / "ingest.lock", "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LockedError(f"Một tiến trình nạp dữ liệu khác đang ghi vào {index_dir}; "
                              "hãy chờ nó xong rồi chạy lại.") from None
        fh.seek(0), fh.truncate(), fh.write(str(os.getpid())), fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def current_generation(index_dir: Path) -> str | None:
    try:
        name = (Path(index_dir) / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name if (Path(index_dir) / "generations" / name / "manifest.json").exists() else None


def manifest_path(index_dir: Path, name: str) -> Path:
    return Path(index_dir) / "generations" / name / "manifest.json"


@dataclass
class Generation:
    name: str
    manifest: dict
    dense: DenseIndex
    lexical: LexicalIndex


def open_generation(index_dir: Path, name: str | None = None) -> Generation:
    index_dir = Path(index_dir)
    name = name or current_generation(index_dir)
    if name is None:
        raise StoreError(f"Chưa có chỉ mục tìm kiếm tại {index_dir}: hãy chạy 'python -m ingest corpus "
                         f"--index-dir {index_dir}' trước.")
    folder = index_dir / "generations" / name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return Generation(name, manifest, DenseIndex.load(folder, manifest["dense"]["kind"]), LexicalIndex.load(folder))


def build_generation(store: Store, embedder_info: dict, kind: str = "auto") -> str:
    """Build FAISS and BM25 from the store into a new generation and make it current."""
    index_dir = store.dir
    gens = index_dir / "generations"
    gens.mkdir(exist_ok=True)
    existing = sorted(p.name for p in gens.iterdir() if p.name.startswith("g"))
    number = int(existing[-1][1:]) + 1 if existing else 1
    name = f"g{number:06d}"
    tmp = gens / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()

    previous = current_generation(index_dir)
    version = store.data_version
    ids, vectors = store.all_vectors(embedder_info["dimension"])
    dense = DenseIndex.build(ids, vectors, kind)
    dense.save(tmp)
    pids, tokens = store.all_tokens()
    LexicalIndex.build(pids, tokens).save(tmp)
    counts = store.counts()
    manifest = {
        "generation": name,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "schema_version": SCHEMA_VERSION,
        "data_version": version,
        "embedder": embedder_info,
        "dense": {"kind": dense.kind, "vectors": dense.size},
        "lexical": {"kind": "bm25s", "passages": int(len(pids))},
        "documents": counts["documents"],
        "passages": counts["passages"],
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    _fsync_dir(tmp)
    os.rename(tmp, gens / name)
    current_tmp = index_dir / f".CURRENT.{os.getpid()}"
    current_tmp.write_text(name, encoding="utf-8")
    with open(current_tmp) as fh:
        os.fsync(fh.fileno())
    os.replace(current_tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    # documents retired before the replaced generation was built are needed by no kept generation
    store.purge(built_version(index_dir, previous) if previous else version)
    # keep the new generation and the one it replaced (a reader may still hold it); a
    # generation left by a killed run that never became current goes too
    for old in gens.iterdir():
        if old.name.startswith("g") and old.name not in (name, previous):
            shutil.rmtree(old, ignore_errors=True)
    for stale in gens.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in index_dir.glob(".CURRENT.*"):
        stale.unlink(missing_ok=True)
    return name


def built_version(index_dir: Path, name: str) -> int:
    try:
        return int(json.loads(manifest_path(index_dir, name).read_text(encoding="utf-8"))["data_version"])
    except (OSError, ValueError, KeyError):
        return -1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
