"""The ingest run: files in, documents + passages + references + vectors in the catalogue, then a new
passage-search generation. Incremental by content hash; one transaction per file; one writer at a time.

ingest/ understands each file (``ingest.pipeline.process_file``); this module stores what it returns,
embeds new passages and builds the generation that searches see, switched in atomically.
"""
from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ingest.chunking import with_context
from ingest.loaders import os_reason
from ingest.pipeline import R_FAILED_BEFORE, collect_files, sha256_file, worth_retrying

from .catalog.base import Catalog
from .catalog.sql import SCHEMA_VERSION
from .errors import Busy
from .executors import Executor, FileResult, FileTask, create_executor, process_one
from .lexical import unit_weights
from .passage_search.base import GENERATION_FORMAT, Batches, PassageEngine

__all__ = ["run_ingest", "build_generation", "ingest_lock", "IngestReport", "Progress"]

log = logging.getLogger(__name__)

# progress(stage, done, total, path): stage is "files", "embed" or "index"
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
            raise Busy(f"Một tiến trình nạp dữ liệu khác đang ghi vào {index_dir}; "
                       "hãy chờ nó xong rồi chạy lại.") from None
        fh.seek(0), fh.truncate(), fh.write(str(os.getpid())), fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def build_generation(catalog: Catalog, engine: PassageEngine, embedder_info: dict) -> str:
    """Write the live passages into a new generation, switch to it, then drop what no one needs."""
    previous = engine.current()
    version = catalog.data_version
    counts = catalog.counts(None)
    info = {"schema_version": SCHEMA_VERSION, "data_version": version, "embedder": embedder_info,
            "unit_weights": unit_weights(),
            "documents": counts["documents"], "passages": counts["passages"]}
    name = engine.write_generation(Batches(lambda: catalog.generation_rows(embedder_info["dimension"])), info)
    engine.switch(name)
    # documents retired before the replaced generation was built are needed by no kept generation
    catalog.purge(engine.manifest(previous).get("data_version", -1) if previous else version)
    # keep the new generation and the one it replaced (a reader may still hold it); a generation
    # left by a killed run that never became current goes too
    for old in engine.generations():
        if old not in (name, previous):
            engine.drop(old)
    engine.clean_stale()
    return name


def run_ingest(paths: Iterable[str | Path], index_dir: str | Path, prune: bool = False,
               embedder_config: dict | None = None, embedder=None, rebuild: bool = False,
               index_kind: str = "auto", progress: Progress | None = None, group: str | None = None,
               deployment=None, actor: str = "system", executor: str | Executor | None = None) -> IngestReport:
    """Bring the index at ``index_dir`` up to date with ``paths``.

    Unchanged files (same sha256) are skipped, changed files replaced, files gone from ``paths``
    removed only with ``prune``. New passages are embedded; the rest reuse stored vectors.
    ``group`` makes every document of this run visible only to that group (and administrators).
    ``executor`` does the per-file work: "local" (default, this process) or "ray" (Ray Data batches);
    either way this process alone writes, one transaction per file, in file order.
    """
    from .catalog.factory import open_catalog
    from .deployment import Deployment
    from .embed import create_embedder
    from .passage_search.factory import open_engine

    index_dir = Path(index_dir)
    owned = not isinstance(executor, Executor)
    executor = create_executor(executor)
    report = IngestReport()
    paths = list(paths)
    files, report.skipped = collect_files(paths)
    deployment = deployment or Deployment.recorded(index_dir) or Deployment()
    with ingest_lock(index_dir):
        deployment.check_change(index_dir, rebuild)
        catalog = open_catalog(index_dir, deployment)
        engine = open_engine(index_dir, deployment, kind=index_kind)
        try:
            embedder = embedder or create_embedder(embedder_config)
            if rebuild:
                catalog.clear_vectors()
            catalog.check_embedder(embedder.name, embedder.dimension)
            _ingest_files(catalog, embedder, executor, files, report, group, progress)
            if prune:
                kept = {str(p) for p in files}
                for row in catalog.files():
                    if row["path"] not in kept:
                        catalog.remove_file(row["path"])
                        report.removed.append(row["path"])
            if progress:
                progress("files", len(files), len(files), "")
            _embed_missing(catalog, embedder, executor, progress)
            current = engine.current()
            built = engine.manifest(current) if current is not None else {}
            stale = current is None or rebuild or built.get("data_version") != catalog.data_version or \
                built.get("format", 1) != GENERATION_FORMAT or built.get("unit_weights") != unit_weights()
            if stale:
                if progress:
                    progress("index", 0, 1, "")
                info = {"name": embedder.name, "dimension": embedder.dimension, "config": embedder.config()}
                report.generation = build_generation(catalog, engine, info)
                if progress:
                    progress("index", 1, 1, "")
            else:
                report.generation = current
            if deployment != Deployment.load(index_dir):
                deployment.save(index_dir)  # only now that its engines hold a complete generation
            catalog.audit(actor, "ingest", {"paths": [str(p) for p in paths], "group": group, "prune": prune,
                                            "rebuild": rebuild, "added": len(report.added),
                                            "updated": len(report.updated), "removed": report.removed,
                                            "failed": len(report.failed), "generation": report.generation})
        finally:
            if owned:
                executor.close()
            engine.close()
            catalog.close()
    return report


@dataclass
class _Planned:
    """One file before the commit loop: why nothing needs doing, or whether the executor was given it."""
    key: str
    sha256: str = ""
    size: int = 0
    old: dict | None = None
    error: str | None = None
    unchanged: bool = False
    sent: bool = False


def _plan(catalog: Catalog, files: list[Path], group: str | None) -> list[_Planned]:
    """Hash every file and decide what to hand to the executor: not unchanged files, not content the
    catalogue already holds, and each new content once (a later copy is linked when its turn comes)."""
    plan, seen = [], set()
    for path in files:
        item = _Planned(str(path))
        plan.append(item)
        try:
            item.sha256, item.size = sha256_file(path)
        except OSError as e:
            item.error = f"không đọc được tệp ({os_reason(e)})"
            continue
        item.old = catalog.file(item.key)
        if item.old is not None and item.old["sha256"] == item.sha256 and item.old["status"] == "ok":
            item.unchanged = True
        elif item.old is not None and item.old["sha256"] == item.sha256 and not worth_retrying(item.old["error"] or ""):
            item.error = f"{item.old['error']} ({R_FAILED_BEFORE})"  # a bomb is not inflated again on every run
        elif item.sha256 not in seen and catalog.doc_id_by_sha(item.sha256, group) is None:
            item.sent = True
            seen.add(item.sha256)
    return plan


def _ingest_files(catalog: Catalog, embedder, executor: Executor, files: list[Path], report: IngestReport,
                  group: str | None, progress: Progress | None) -> None:
    """The single writer: files in order, each committed in its own transaction as its result comes."""
    plan = _plan(catalog, files, group)
    results = executor.process([FileTask(p.key, p.sha256, p.size) for p in plan if p.sent], embedder)
    for i, item in enumerate(plan):
        if progress:
            progress("files", i, len(plan), item.key)
        if item.error is not None:
            report.failed.append({"path": item.key, "error": item.error})
            continue
        if item.unchanged:
            report.unchanged.append(item.key)
            continue
        result = next(results) if item.sent else None
        same = catalog.doc_id_by_sha(item.sha256, group)
        if same is not None:
            catalog.link_duplicate(item.key, item.sha256, item.size, same)
            other = catalog.document(None, same)
            report.duplicates.append({"path": item.key, "same_as": [p for p in other["paths"] if p != item.key]})
            (report.updated if item.old is not None else report.added).append(item.key)
            continue
        if result is None:  # a copy of content whose first file failed: the writer tries it itself
            result = process_one(FileTask(item.key, item.sha256, item.size), embedder)
        _commit(catalog, item, result, report, group)
    next(results, None)  # let a generator run its clean-up


def _commit(catalog: Catalog, item: _Planned, result: FileResult, report: IngestReport, group: str | None) -> None:
    if result.error is not None:
        catalog.put_failure(item.key, item.sha256, item.size, result.error)
        report.failed.append({"path": item.key, "error": result.error})
        return
    catalog.put_document(result.doc, result.vectors, group)
    (report.updated if item.old is not None else report.added).append(item.key)


def _embed_missing(catalog: Catalog, embedder, executor: Executor, progress: Progress | None) -> None:
    """Vectors for passages that have none (after --rebuild, or an interrupted run), committed per slice."""
    rows = catalog.passages_without_vectors()
    batch = 256
    vectors = executor.embed([with_context(r["context"], r["clean"]) for r in rows], embedder, batch)
    for i in range(0, len(rows), batch):
        part = rows[i:i + batch]
        if progress:
            progress("embed", i, len(rows), "")
        catalog.put_vectors([r["id"] for r in part], next(vectors))
    if rows and progress:
        progress("embed", len(rows), len(rows), "")
