"""Milvus behind the passage-search seam (pymilvus; Milvus Lite from a file, a Milvus Lite server, a cluster).

Layout in Milvus, for ``prefix`` "vanban"::

    vanban_g000004      one collection per generation: id, doc_id, vector (IP), text -> BM25 sparse,
                        province (partition key), year, doc_type, issuer, grp
    vanban_live         alias naming the live generation's collection (the atomic switch)
    vanban_manifest     one row per complete generation: its manifest as JSON

A generation is written, indexed and loaded, then its manifest row is written; only then may it be
switched to. A collection without a manifest row is a generation a killed writer left behind.

Lexical search is Milvus full-text search (BM25 function) over the pre-analysed terms of
``index.lexical.analyze``. Milvus Lite only has the ``standard`` tokenizer (``\\w+``); a server gets
``whitespace`` + ``lowercase``. Each term is encoded (``encode_term``) into lower-case Latin letters and
digits only, so either analyzer keeps it as exactly one token: "dân_vận" -> "dânzuvận", "~dan" -> "ztdan".
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

import numpy as np

from .base import PassageEngine, PassageFilter, PassageRow

__all__ = ["MilvusEngine", "MilvusError", "encode_term", "compile_filter", "KINDS"]

KINDS = ("auto", "flat", "hnsw")
HNSW_MIN = 50_000            # as the local engine: exact search below, HNSW from here
HNSW_BUILD = {"M": 32, "efConstruction": 80}
HNSW_EF = 128
MAX_TOPK = 16_384            # Milvus's limit on one search's k
MAX_TEXT_BYTES = 65_535      # VARCHAR limit
MAX_FIELD = 512
ANALYZERS = {"whitespace": {"tokenizer": "whitespace", "filter": ["lowercase"]},
             "standard": {"tokenizer": "standard", "filter": ["lowercase"]}}
EMPTY_TERMS = ["∅"]         # a passage without terms, as index.lexical.LexicalIndex.build indexes it
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")


class MilvusError(Exception):
    """Milvus unreachable, or refused an operation; the message names the URI."""


def encode_term(term: str) -> str:
    """A term as one token for both the ``standard`` and the ``whitespace`` analyzer, injectively.

    ASCII letters and digits and other lower-case Latin letters (Vietnamese: "đ", "ậ") stay; "z" is the
    escape: "zz" = "z", "zu" = "_", "zt" = "~", "z<hex>z" = any other character."""
    out = []
    for ch in term:
        if ch == "z":
            out.append("zz")
        elif ch == "_":
            out.append("zu")
        elif ch == "~":
            out.append("zt")
        elif ch.isalnum() and ch == ch.lower() and (ch.isascii() or "LATIN" in unicodedata.name(ch, "")):
            out.append(ch)
        else:
            out.append(f"z{ord(ch):x}z")
    return "".join(out)


def _quote(value: str) -> str:
    """A Milvus expression string literal."""
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise ValueError(f"giá trị lọc {value!r} chứa ký tự điều khiển")
    return '"' + (value.replace("\\", "\\\\").replace('"', '\\"')
                  .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")) + '"'


def compile_filter(flt: PassageFilter | None) -> str | None:
    """A PassageFilter as a Milvus boolean expression ("" = no restriction; None = matches nothing)."""
    if flt is None or flt.unrestricted():
        return ""
    parts = []
    if flt.province is not None:
        parts.append(f"province == {_quote(flt.province)}")
    if flt.year_from is not None or flt.year_to is not None:
        # a document without a year is stored as 0 and matches no year range (as in the catalogue)
        parts.append(f"year >= {max(int(flt.year_from or 1), 1)}")
        if flt.year_to is not None:
            parts.append(f"year <= {int(flt.year_to)}")
    if flt.doc_type is not None:
        parts.append(f"doc_type == {_quote(flt.doc_type)}")
    if flt.issuer is not None:
        parts.append(f"issuer == {_quote(flt.issuer)}")
    if flt.doc_ids is not None:
        if not flt.doc_ids:
            return None
        parts.append(f"doc_id in [{', '.join(str(int(d)) for d in sorted(set(flt.doc_ids)))}]")
    if flt.groups is not None:
        groups = sorted(flt.groups)
        parts.append(f'(grp == "" or grp in [{", ".join(_quote(g) for g in groups)}])' if groups else 'grp == ""')
    return " and ".join(parts)


# Milvus Lite embedded: one in-process server per data folder, shared by the engines of this process.
_LITE_LOCK = threading.Lock()
_LITE_USERS: dict[str, int] = {}


def _is_file_uri(uri: str) -> bool:
    return not re.match(r"^([a-z][a-z0-9+.-]*://|unix:)", uri)


class MilvusEngine(PassageEngine):
    """Passage generations in Milvus at ``uri``: a file ("index/milvus.db": Milvus Lite in this process),
    or a server ("http://127.0.0.1:19530": milvus-lite server, Milvus standalone or a cluster)."""

    def __init__(self, uri: str, *, prefix: str = "vanban", token: str = "", db_name: str = "",
                 kind: str = "auto", timeout: float = 30.0, bm25_k1: float = 1.5, bm25_b: float = 0.75):
        try:
            from pymilvus import MilvusClient, MilvusException
        except ImportError:
            raise MilvusError("Thiếu thư viện pymilvus để dùng Milvus: pip install -r requirements-distributed.txt") from None
        if kind not in KINDS:
            raise ValueError(f"loại chỉ mục '{kind}' không hợp lệ; chọn một trong {', '.join(KINDS)}")
        if not _NAME.fullmatch(prefix):
            raise ValueError(f"tiền tố '{prefix}' không hợp lệ: chỉ chữ cái Latin, chữ số, '_', tối đa 41 ký tự")
        self.uri, self.prefix, self.kind, self.timeout = str(uri), prefix, kind, timeout
        self.k1, self.b = float(bm25_k1), float(bm25_b)
        self._exc = MilvusException
        self._alias = f"{prefix}_live"
        self._manifests = f"{prefix}_manifest"
        self._lite_path: str | None = None
        if _is_file_uri(self.uri):
            if not self.uri.endswith(".db"):
                raise MilvusError(f"Địa chỉ Milvus '{self.uri}' không hợp lệ: dùng tệp Milvus Lite có đuôi .db "
                                  "hoặc máy chủ http://máy:cổng.")
            path = Path(self.uri).expanduser().resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lite_path = str(path)
        try:
            self.client = MilvusClient(self._lite_path or self.uri, token=token, db_name=db_name, timeout=timeout)
            self.server_version = self.client.get_server_version()
        except Exception as e:  # pymilvus raises MilvusException, ConnectionConfigException or grpc errors
            raise MilvusError(self._unreachable(e)) from None
        if self._lite_path:
            with _LITE_LOCK:
                _LITE_USERS[self._lite_path] = _LITE_USERS.get(self._lite_path, 0) + 1
        self.lite = str(self.server_version).startswith("milvus_lite")
        self._analyzer: str | None = None
        self._live: str | None = None
        self._live_kind = "flat"
        try:
            with self._call("mở"):
                self._ensure_manifest_collection()
            self.refresh()
        except BaseException:
            self.close()
            raise

    # -- errors ------------------------------------------------------------------------------------

    def _unreachable(self, e: Exception) -> str:
        reason = getattr(e, "message", None) or str(e) or type(e).__name__
        if self._lite_path:
            return (f"Không mở được Milvus Lite tại {self.uri}: {reason}. Một tệp Milvus Lite chỉ một tiến trình "
                    "mở được; khi nhiều tiến trình cùng dùng, hãy chạy 'milvus-lite server' và dùng http://…")
        return (f"Không kết nối được Milvus tại {self.uri}: {reason}. Hãy kiểm tra máy chủ Milvus đang chạy "
                "và địa chỉ (--milvus-uri).")

    @contextmanager
    def _call(self, action: str):
        try:
            yield
        except self._exc as e:
            if getattr(e, "code", None) == 2 or "connect" in str(e).lower() or "unavailable" in str(e).lower():
                raise MilvusError(self._unreachable(e)) from None
            raise MilvusError(f"Milvus tại {self.uri} từ chối thao tác {action}: {getattr(e, 'message', e)}") from None

    # -- names -------------------------------------------------------------------------------------

    def _collection(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def _existing(self) -> list[str]:
        """Generation collections (complete or not), oldest first."""
        pat = re.compile(re.escape(self.prefix) + r"_(g\d{6,})")
        names = [m.group(1) for c in self.client.list_collections() if (m := pat.fullmatch(c))]
        return sorted(names, key=lambda n: int(n[1:]))

    # -- manifests ---------------------------------------------------------------------------------

    def _ensure_manifest_collection(self) -> None:
        if self.client.has_collection(self._manifests):
            self._load(self._manifests)
            return
        from pymilvus import DataType
        s = self.client.create_schema(auto_id=False)
        s.add_field("name", DataType.VARCHAR, max_length=64, is_primary=True)
        s.add_field("manifest", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
        s.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        ip = self.client.prepare_index_params()
        ip.add_index("v", index_type="FLAT", metric_type="L2")
        self.client.create_collection(self._manifests, schema=s, index_params=ip, consistency_level="Strong")

    def _manifest_rows(self) -> dict[str, dict]:
        rows = self.client.query(self._manifests, filter='name != ""', output_fields=["name", "manifest"],
                                 consistency_level="Strong")
        return {r["name"]: json.loads(r["manifest"]) for r in rows}

    # -- the interface -----------------------------------------------------------------------------

    def generations(self) -> list[str]:
        with self._call("liệt kê thế hệ"):
            done = self._manifest_rows()
            return [n for n in self._existing() if n in done]

    def current(self) -> str | None:
        with self._call("đọc thế hệ hiện hành"):
            # listed first: describing a missing alias is an error pymilvus logs with its traceback
            if self._alias not in self.client.list_aliases().get("aliases", []):
                return None
            target = self.client.describe_alias(self._alias)["collection_name"]
        return target[len(self.prefix) + 1:]

    def manifest(self, name: str | None = None) -> dict:
        name = name or self._live
        if name is None:
            raise MilvusError(f"Chưa có thế hệ chỉ mục nào trong Milvus tại {self.uri} (tiền tố '{self.prefix}').")
        with self._call("đọc manifest"):
            rows = self.client.query(self._manifests, filter=f"name == {_quote(name)}", output_fields=["manifest"],
                                     consistency_level="Strong")
        if not rows:
            raise MilvusError(f"Thế hệ '{name}' không có trong Milvus tại {self.uri} (hoặc chưa ghi xong).")
        return json.loads(rows[0]["manifest"])

    def refresh(self) -> bool:
        live = self.current()
        if live == self._live:
            return False
        if live is not None:
            with self._call(f"nạp thế hệ '{live}'"):
                self._load(self._collection(live))
            self._live_kind = self.manifest(live)["dense"]["kind"]
        self._live = live
        return True

    def _load(self, coll: str) -> None:
        """A collection must be loaded to be searched; Milvus Lite forgets that when it reopens a folder."""
        if getattr(self.client.get_load_state(coll).get("state"), "name", "") != "Loaded":
            self.client.load_collection(coll)

    def switch(self, name: str) -> None:
        self.manifest(name)  # only a complete generation
        coll = self._collection(name)
        with self._call(f"chuyển sang thế hệ '{name}'"):
            self._load(coll)
            if self.current() is None:
                self.client.create_alias(coll, self._alias)
            else:
                self.client.alter_alias(coll, self._alias)
        self.refresh()

    def drop(self, name: str) -> None:
        if name == self.current():
            raise MilvusError(f"Không xoá được thế hệ '{name}' trong Milvus tại {self.uri}: đó là thế hệ đang dùng.")
        with self._call(f"xoá thế hệ '{name}'"):
            # the manifest row first: a generation without it is incomplete, never switched to
            self.client.delete(self._manifests, filter=f"name == {_quote(name)}")
            if self.client.has_collection(self._collection(name)):
                self.client.drop_collection(self._collection(name))
        if self._live == name:
            self.refresh()

    def write_generation(self, rows: Iterable[list[PassageRow]], info: dict) -> str:
        """Write a new generation. One writer at a time (the caller's ingest lock): collections a killed
        writer left without a manifest are dropped first."""
        with self._call("ghi thế hệ mới"):
            done = self._manifest_rows()
            live = self.current()
            for stale in self._existing():
                if stale not in done and stale != live:
                    self.client.drop_collection(self._collection(stale))
            existing = self._existing()
            name = f"g{(int(existing[-1][1:]) + 1) if existing else 1:06d}"
            coll = self._collection(name)
            try:
                manifest = self._write(coll, rows, info)
                manifest.update(generation=name, collection=coll)
                self.client.insert(self._manifests, [{"name": name, "v": [0.0, 0.0],
                                                      "manifest": json.dumps(manifest, ensure_ascii=False)}])
            except BaseException:
                try:
                    self.client.drop_collection(coll)
                except Exception:  # the original error matters more
                    pass
                raise
        return name

    def _write(self, coll: str, rows: Iterable[list[PassageRow]], info: dict) -> dict:
        batches = iter(rows)
        first = next(batches, [])
        dim = len(first[0].vector) if first else _info_dimension(info)
        if not dim:
            raise MilvusError("Không biết số chiều vector cho thế hệ rỗng: info cần 'embedder': {'dimension': …}.")
        self._create(coll, dim)
        n = 0
        for batch in _chain(first, batches):
            if batch:
                self.client.insert(coll, [self._entity(r, dim) for r in batch])
                n += len(batch)
        if not self.lite:
            self.client.flush(coll)  # seal before indexing; Milvus Lite keeps one memtable (global BM25 stats)
        kind = ("hnsw" if n >= HNSW_MIN else "flat") if self.kind == "auto" else self.kind
        ip = self.client.prepare_index_params()
        if kind == "hnsw":
            ip.add_index("vector", index_type="HNSW", metric_type="IP", params=dict(HNSW_BUILD))
        else:
            ip.add_index("vector", index_type="FLAT", metric_type="IP")
        ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"inverted_index_algo": "TAAT_NAIVE", "bm25_k1": self.k1, "bm25_b": self.b})
        self.client.create_index(coll, ip)
        self.client.load_collection(coll)
        return {**info, "engine": "milvus", "server_version": str(self.server_version), "passages": n,
                "dense": {"kind": kind, "metric": "IP", "dimension": dim, **(HNSW_BUILD if kind == "hnsw" else {})},
                "lexical": {"kind": "milvus-bm25", "analyzer": ANALYZERS[self._analyzer], "term_encoding": "z-escape-v1",
                            "k1": self.k1, "b": self.b},
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    def _create(self, coll: str, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        def schema(analyzer: str):
            s = self.client.create_schema(auto_id=False)
            s.add_field("id", DataType.INT64, is_primary=True)
            s.add_field("doc_id", DataType.INT64)
            s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            s.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True,
                        analyzer_params=ANALYZERS[analyzer])
            s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            s.add_field("province", DataType.VARCHAR, max_length=MAX_FIELD, is_partition_key=True)
            s.add_field("year", DataType.INT64)
            s.add_field("doc_type", DataType.VARCHAR, max_length=MAX_FIELD)
            s.add_field("issuer", DataType.VARCHAR, max_length=MAX_FIELD)
            s.add_field("grp", DataType.VARCHAR, max_length=MAX_FIELD)
            s.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                    input_field_names=["text"], output_field_names=["sparse"]))
            return s

        if self._analyzer is None:
            # whitespace where the server has it (Milvus), else standard (Milvus Lite): found by asking
            log = logging.getLogger("pymilvus")
            level = log.level
            log.setLevel(logging.CRITICAL)  # the refused attempt is expected, not an error to log
            try:
                self.client.create_collection(coll, schema=schema("whitespace"))
                self._analyzer = "whitespace"
                return
            except self._exc as e:
                if "tokenizer" not in str(e).lower() and "analyzer" not in str(e).lower():
                    raise
                self._analyzer = "standard"
            finally:
                log.setLevel(level)
        self.client.create_collection(coll, schema=schema(self._analyzer))

    def _entity(self, r: PassageRow, dim: int) -> dict:
        v = np.asarray(r.vector, dtype=np.float32).reshape(-1)
        if v.shape[0] != dim or not np.isfinite(v).all():
            raise MilvusError(f"Đoạn {r.id}: vector {v.shape[0]} chiều hoặc có giá trị không hữu hạn "
                              f"(thế hệ này {dim} chiều).")
        text = " ".join(encode_term(t) for t in (r.terms or EMPTY_TERMS))
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise MilvusError(f"Đoạn {r.id}: {len(text.encode('utf-8'))} byte từ khoá, vượt giới hạn "
                              f"{MAX_TEXT_BYTES} byte của Milvus; hãy chia đoạn ngắn hơn.")
        fields = {"province": r.province, "doc_type": r.doc_type, "issuer": r.issuer, "grp": r.group}
        for key, value in fields.items():
            if value is not None and len(value.encode("utf-8")) > MAX_FIELD:
                raise MilvusError(f"Đoạn {r.id}: trường {key} dài quá {MAX_FIELD} byte.")
        return {"id": int(r.id), "doc_id": int(r.doc_id), "vector": v.tolist(), "text": text,
                "year": int(r.year or 0), **{k: v or "" for k, v in fields.items()}}

    # -- search ------------------------------------------------------------------------------------

    def _search(self, data, field: str, k: int, flt: PassageFilter | None, params: dict) -> list[dict]:
        if k <= 0:
            return []
        if k > MAX_TOPK:
            raise ValueError(f"k = {k} vượt giới hạn {MAX_TOPK} của Milvus cho một lần tìm")
        expr = compile_filter(flt)
        if expr is None:
            return []
        for attempt in (0, 1):
            if self._live is None:
                self.refresh()
            if self._live is None:
                raise MilvusError(f"Chưa có thế hệ chỉ mục nào trong Milvus tại {self.uri} (tiền tố "
                                  f"'{self.prefix}'): hãy chạy 'python -m ingest' trước.")
            try:
                with self._call("tìm kiếm"):
                    hits = self.client.search(self._collection(self._live), data=[data], anns_field=field, limit=k,
                                              filter=expr, search_params=params, output_fields=["id"])
                return list(hits[0])
            except MilvusError as e:
                # the generation this process held was dropped by another: follow the switch once
                gone = "not exist" in str(e) or "not found" in str(e)
                if attempt or not gone or not self.refresh():
                    raise
        raise AssertionError("unreachable")

    def search_dense(self, vector: np.ndarray, k: int, flt: PassageFilter | None = None) -> list[tuple[int, float]]:
        v = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        params = {"ef": max(HNSW_EF, k)} if self._live_kind == "hnsw" else {}
        hits = self._search(v, "vector", k, flt, {"metric_type": "IP", "params": params})
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def search_lexical(self, terms: list[str], k: int, flt: PassageFilter | None = None) -> list[tuple[int, float]]:
        if not terms:
            return []
        text = " ".join(encode_term(t) for t in terms)
        hits = self._search(text, "sparse", k, flt, {"metric_type": "BM25"})
        # Milvus scores idf·tf·(k1+1)/(tf + k1·norm), bm25s (Lucene) without the (k1+1): same ranking, and
        # divided here the scores equal the local engine's. Milvus Lite returns them negated (distances).
        out = [(int(h["id"]), abs(float(h["distance"])) / (self.k1 + 1.0)) for h in hits]
        return [(i, s) for i, s in out if s > 0]

    def close(self) -> None:
        client, self.client = getattr(self, "client", None), None
        if client is None:
            return
        client.close()
        if self._lite_path:
            with _LITE_LOCK:
                left = _LITE_USERS[self._lite_path] = _LITE_USERS[self._lite_path] - 1
                if left == 0:
                    del _LITE_USERS[self._lite_path]
                    from milvus_lite.server_manager import server_manager_instance
                    server_manager_instance.release_server(self._lite_path)  # frees the folder's lock


def _info_dimension(info: dict) -> int:
    emb = info.get("embedder")
    return int((emb or {}).get("dimension") or info.get("dimension") or 0)


def _chain(first: list, rest):
    yield first
    yield from rest
