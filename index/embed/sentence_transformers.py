"""Any local sentence-transformers model (directory or HF cache), loaded offline.

sentence_transformers (and torch) are imported only when this embedder is created.
"""
from __future__ import annotations

import os
import re

import numpy as np

from .base import Embedder, EmbedderError

__all__ = ["SentenceTransformerEmbedder"]

_INSTALL = "pip install sentence-transformers"
# Directory names that say nothing about the model; the parent is added to the name.
_GENERIC_DIRS = {"model", "models", "default", "latest", "final", "checkpoint"}


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local directory or the local HF cache (no download).

    query_prefix/passage_prefix are prepended as given (e5-style models: "query: "/"passage: ").
    segment=True word-segments inputs with underthesea first (PhoBERT-based Vietnamese models).
    """

    backend = "sentence-transformers"

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        batch_size: int = 32,
        query_prefix: str = "",
        passage_prefix: str = "",
        segment: bool = False,
        normalize: bool = True,
    ):
        if not isinstance(model, (str, os.PathLike)) or not str(model).strip():
            raise EmbedderError("Cần chỉ định model: đường dẫn thư mục mô hình hoặc tên mô hình đã có trong bộ nhớ đệm.")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise EmbedderError(f"batch_size phải là số nguyên dương, nhận được {batch_size!r}.")
        for key, value in (("query_prefix", query_prefix), ("passage_prefix", passage_prefix), ("device", device)):
            if not isinstance(value, str):
                raise EmbedderError(f"{key} phải là chuỗi, nhận được {value!r}.")
        self.model = _resolve_model(str(model))
        self.device = device
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.segment = bool(segment)
        self.normalize = bool(normalize)

        self._st = _load(self.model, device)
        self.dimension = int(self._st.get_embedding_dimension())
        max_len = self._st.get_max_seq_length()
        self.max_tokens = int(max_len) if max_len else 512
        self.name = "st:" + _short_name(self.model)
        self._word_tokenize = _segmenter() if self.segment else None

    def _prepare(self, texts: list[str], query: bool) -> list[str]:
        if self._word_tokenize is not None:
            texts = [self._word_tokenize(t) for t in texts]
        prefix = self.query_prefix if query else self.passage_prefix
        return [prefix + t for t in texts] if prefix else texts

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        out = self._st.encode(
            self._prepare(texts, query),
            batch_size=len(texts),
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=self.normalize,
        )
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dimension)

    def count_tokens(self, text: str) -> int:
        (prepared,) = self._prepare([text], query=False)
        ids = self._st.tokenizer(prepared, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        return len(ids)

    def config(self) -> dict:
        return {
            "backend": self.backend,
            "model": self.model,
            "device": self.device,
            "batch_size": self.batch_size,
            "query_prefix": self.query_prefix,
            "passage_prefix": self.passage_prefix,
            "segment": self.segment,
            "normalize": self.normalize,
        }


def _looks_like_path(model: str) -> bool:
    # "org/name" is a hub id; absolute, relative-dot, home and Windows paths are paths.
    return (
        os.path.isabs(model)
        or model.startswith((".", "~"))
        or "\\" in model
        or model.count("/") > 1
        or os.path.exists(model)
    )


def _resolve_model(model: str) -> str:
    path = os.path.expanduser(model)
    if os.path.isdir(path):
        return os.path.abspath(path)
    if _looks_like_path(model):
        raise EmbedderError(
            f"Không tìm thấy thư mục mô hình '{model}'. Mô hình phải là một thư mục trên máy "
            "hoặc tên mô hình đã có sẵn trong bộ nhớ đệm Hugging Face (không có kết nối internet để tải về)."
        )
    return model


def _load(model: str, device: str):
    # Offline before huggingface_hub is imported: it reads HF_HUB_OFFLINE once, at import.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise EmbedderError(
            f"Thiếu gói sentence-transformers (cần cho backend 'sentence-transformers'). Cài đặt bằng: {_INSTALL}"
        ) from e
    try:
        return SentenceTransformer(model, device=device, local_files_only=True)
    except OSError as e:
        raise EmbedderError(
            f"Không tải được mô hình '{model}': mô hình phải là một thư mục trên máy hoặc đã có sẵn "
            f"trong bộ nhớ đệm Hugging Face, vì không có kết nối internet để tải về. Chi tiết: {e}"
        ) from e
    except (RuntimeError, ValueError, AssertionError) as e:  # e.g. cuda asked, torch built without it
        raise EmbedderError(f"Không tải được mô hình '{model}' trên thiết bị '{device}': {e}") from e


def _segmenter():
    try:
        from vn.words import segment_words
        segment_words("")
    except ImportError as e:
        raise EmbedderError("segment=True cần gói underthesea. Cài đặt bằng: pip install underthesea") from e
    return segment_words


def _short_name(model: str) -> str:
    """A readable, stable id: hub id as is, a directory by its (informative) name."""
    if not os.path.isabs(model):
        return model
    parts = [p for p in model.replace("\\", "/").split("/") if p]
    for i, part in enumerate(parts):  # HF cache: .../models--org--name/snapshots/<hash>
        m = re.fullmatch(r"models--(.+)", part)
        if m and i + 1 < len(parts) and parts[i + 1] == "snapshots":
            return m.group(1).replace("--", "/")
    if len(parts) >= 2 and parts[-1].lower() in _GENERIC_DIRS:
        return f"{parts[-2]}/{parts[-1]}"
    return parts[-1] if parts else model
