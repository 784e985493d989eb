"""Milvus behind the passage-search seam (pymilvus; Milvus Lite from a file, a Milvus Lite server, a cluster).

Layout in Milvus, for ``prefix`` "vanban"::

    vanban_g000004      one collection per generation: id, doc_id, vector (IP), sparse (BM25 weights, IP),
                        province (partition key), year, doc_type, issuer, grp
    vanban_live         alias naming the live generation's collection (the atomic switch)
    vanban_manifest     one row per complete generation: its manifest as JSON

A generation is written, indexed and loaded, then its manifest row is written; only then may it be
switched to. A collection without a manifest row is a generation a killed writer left behind.

Lexical search is BM25 exactly as the local engine scores it (bm25s, Lucene variant), as sparse
vectors searched by inner product. A generation is immutable and written whole, so its statistics
(passages N, mean length, each term's document frequency) are known when it is written: a first pass
over the rows counts them, the second stores for each passage and term t
``idf(t) · tf / (tf + k1 · (1 - b + b · length / mean length))`` at dimension ``term_id(t)``; a query is
the count of each of its terms.

Units (an article, a numbered item) are scored the same way from a second sparse field, ``usparse``: on a
unit's first row the BM25 weights of the whole unit as one document (statistics over units), on every
other row only a reserved dimension no query holds (Milvus refuses an empty sparse vector). ``unit``
names each row's unit, for grouping passage hits. Scores are then the local engine's whatever segments, shards,
partitions or filters Milvus uses (Milvus's own full-text BM25 keeps its statistics per segment or
shard, and Milvus Lite per partition, so its rankings moved with the province partition key). No
analyzer is involved: terms come analysed (``index.lexical.analyze``) for both engines.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import Unavailable
from .base import GENERATION_FORMAT, PassageEngine, PassageFilter, PassageRow, check_format

__all__ = ["MilvusEngine", "MilvusError", "term_id", "compile_filter", "is_file_uri", "KINDS"]

KINDS = ("auto", "flat", "hnsw")
HNSW_MIN = 50_000            # as the local engine: exact search below, HNSW from here
HNSW_BUILD = {"M": 32, "efConstruction": 80}
HNSW_EF = 128
DF_CACHE = 100_000           # term counts kept per engine (common syllables recur in every question)
MAX_TOPK = 16_384            # Milvus's limit on one search's k
MAX_TEXT_BYTES = 65_535      # VARCHAR limit
MAX_FIELD = 512
MAX_COLLISIONS = 2_000       # terms whose hashed dimension is taken, kept in the manifest
EMPTY_TERMS = ["∅"]         # a passage without terms, as index.lexical.LexicalIndex.build indexes it
_DIMS = 2 ** 32 - 1          # sparse dimensions Milvus accepts: [0, 2^32 - 1)
FILLER = _DIMS - 1           # usparse of a row that is not a unit's first: a dimension no term takes
LITE_GRPC = {"grpc.keepalive_time_ms": 2 ** 31 - 1, "grpc.keepalive_permit_without_calls": False}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")


class MilvusError(Unavailable):
    """Milvus unreachable, or refused an operation; the message names the URI."""


def term_id(term: str) -> int:
    """The sparse dimension of a term: 32 bits of its BLAKE2b hash. Terms that collide inside one generation
    get free dimensions recorded in its manifest (``lexical.collisions``). A query term the generation does
    not hold matches nothing, unless its hash happens to be an indexed term's (odds: terms / 2^32)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little") % _DIMS


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


def is_file_uri(uri: str) -> bool:
    """A Milvus Lite file (``x.db``), not a server address."""
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
        if is_file_uri(self.uri):
            if not self.uri.endswith(".db"):
                raise MilvusError(f"Địa chỉ Milvus '{self.uri}' không hợp lệ: dùng tệp Milvus Lite có đuôi .db "
                                  "hoặc máy chủ http://máy:cổng.")
            path = Path(self.uri).expanduser().resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lite_path = str(path)
        def connect(lite: bool):
            # a connection of its own (pymilvus shares one per address otherwise), without idle keepalive pings
            # for Milvus Lite, whose gRPC server answers them with GOAWAY "too_many_pings" and drops the client
            return MilvusClient(self._lite_path or self.uri, token=token, db_name=db_name, timeout=timeout,
                                dedicated=True, grpc_options=LITE_GRPC if lite else {})

        try:
            self.client = connect(bool(self._lite_path))
            self.server_version = self.client.get_server_version()
            self.lite = str(self.server_version).startswith("milvus_lite")
            if self.lite and not self._lite_path:  # a milvus-lite server: reconnect without the pings
                self.client.close()
                self.client = connect(True)
        except Exception as e:  # pymilvus raises MilvusException, ConnectionConfigException or grpc errors
            raise MilvusError(self._unreachable(e)) from None
        if self._lite_path:
            with _LITE_LOCK:
                _LITE_USERS[self._lite_path] = _LITE_USERS.get(self._lite_path, 0) + 1
        self._live: str | None = None
        self._live_manifest: dict = {}
        self._df_cache: dict = {}  # (filter expression, term) -> document frequency in the live generation
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
        self.client.create_collection(self._manifests, schema=s, consistency_level="Strong")
        self._index(self._manifests, ip)

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
        """A generation's manifest; by default the one this engine answers from."""
        if name is None and self._live is None:
            self.refresh()
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
            self._live_manifest = self.manifest(live)
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
        if iter(rows) is rows:
            raise TypeError("MilvusEngine.write_generation reads the rows twice (BM25 statistics, then the rows): "
                            "pass a list or an object whose __iter__ starts again (base.Batches)")
        stats = _Bm25Stats.count(rows, self.k1, self.b)
        ustats = _Bm25Stats.count(rows, self.k1, self.b, units=True)
        dim = stats.dimension or _info_dimension(info)
        if not dim:
            raise MilvusError("Không biết số chiều vector cho thế hệ rỗng: info cần 'embedder': {'dimension': …}.")
        self._create(coll, dim)
        n = 0
        for batch in rows:
            if batch:
                self.client.insert(coll, [self._entity(r, dim, stats, ustats) for r in batch])
                n += len(batch)
        if n != stats.n:
            raise MilvusError(f"Các đoạn đổi giữa hai lượt đọc ({stats.n} rồi {n}): một tiến trình khác đang ghi "
                              "vào danh mục; hãy chạy lại khi nó xong.")
        if not self.lite:
            self.client.flush(coll)  # seal the segments before indexing
        kind = ("hnsw" if n >= HNSW_MIN else "flat") if self.kind == "auto" else self.kind
        ip = self.client.prepare_index_params()
        if kind == "hnsw":
            ip.add_index("vector", index_type="HNSW", metric_type="IP", params=dict(HNSW_BUILD))
        else:
            ip.add_index("vector", index_type="FLAT", metric_type="IP")
        for field in ("sparse", "usparse"):
            ip.add_index(field, index_type="SPARSE_INVERTED_INDEX", metric_type="IP",
                         params={"inverted_index_algo": "DAAT_MAXSCORE"})
        self._index(coll, ip)
        return {**info, "format": GENERATION_FORMAT, "engine": "milvus", "server_version": str(self.server_version), "passages": n,
                "dense": {"kind": kind, "vectors": n, "metric": "IP", "dimension": dim,
                          **(HNSW_BUILD if kind == "hnsw" else {})},
                "lexical": {"kind": "bm25-sparse", "passages": n, "variant": "lucene", "k1": self.k1, "b": self.b,
                            "mean_length": stats.mean_length, "terms": len(stats.df), "nonzeros": stats.nonzeros,
                            "term_id": "blake2b-32", "collisions": stats.collisions},
                "units": {"kind": "bm25-sparse", "units": ustats.n, "mean_length": ustats.mean_length,
                          "terms": len(ustats.df), "collisions": ustats.collisions},
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    def _index(self, coll: str, ip) -> None:
        """Build the indexes and load the collection. Milvus Lite indexes as asked and has no AllocTimestamp,
        which pymilvus's wait for the build calls."""
        self.client.create_index(coll, ip, **({"sync": False} if self.lite else {}))
        self.client.load_collection(coll)

    def _create(self, coll: str, dim: int) -> None:
        from pymilvus import DataType
        s = self.client.create_schema(auto_id=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("doc_id", DataType.INT64)
        s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("unit", DataType.INT64)
        s.add_field("usparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("province", DataType.VARCHAR, max_length=MAX_FIELD, is_partition_key=True)
        s.add_field("year", DataType.INT64)
        s.add_field("doc_type", DataType.VARCHAR, max_length=MAX_FIELD)
        s.add_field("issuer", DataType.VARCHAR, max_length=MAX_FIELD)
        s.add_field("grp", DataType.VARCHAR, max_length=MAX_FIELD)
        self.client.create_collection(coll, schema=s)

    def _entity(self, r: PassageRow, dim: int, stats: "_Bm25Stats", ustats: "_Bm25Stats") -> dict:
        v = np.asarray(r.vector, dtype=np.float32).reshape(-1)
        if v.shape[0] != dim or not np.isfinite(v).all():
            raise MilvusError(f"Đoạn {r.id}: vector {v.shape[0]} chiều hoặc có giá trị không hữu hạn "
                              f"(thế hệ này {dim} chiều).")
        fields = {"province": r.province, "doc_type": r.doc_type, "issuer": r.issuer, "grp": r.group}
        for key, value in fields.items():
            if value is not None and len(value.encode("utf-8")) > MAX_FIELD:
                raise MilvusError(f"Đoạn {r.id}: trường {key} dài quá {MAX_FIELD} byte.")
        return {"id": int(r.id), "doc_id": int(r.doc_id), "vector": v.tolist(), "sparse": stats.weights(r.terms),
                "unit": int(r.unit_id),
                "usparse": ustats.weights(r.unit_terms) if r.unit_terms is not None else {FILLER: 1.0},
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
            check_format(self._live_manifest, self.uri)
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
        params = {"ef": max(HNSW_EF, k)} if self._live_manifest.get("dense", {}).get("kind") == "hnsw" else {}
        hits = self._search(v, "vector", k, flt, {"metric_type": "IP", "params": params})
        return _ranked((int(h["id"]), float(h["distance"])) for h in hits)

    def search_lexical(self, terms: list[str], k: int, flt: PassageFilter | None = None) -> list[tuple[int, float]]:
        return self._search_bm25(terms, k, flt, "lexical", "sparse")

    def _search_bm25(self, terms: list[str], k: int, flt: PassageFilter | None, section: str,
                     field: str) -> list[tuple[int, float]]:
        """BM25 by inner product on a sparse field (``sparse``: passages, ``usparse``: whole units) with the
        term dimensions of the manifest's ``section``."""
        if not terms:
            return []
        if self._live is None:
            self.refresh()
        collisions = self._live_manifest.get(section, {}).get("collisions", {})
        query: Counter = Counter(collisions.get(t, term_id(t)) for t in terms)  # bm25s counts a repeated term again
        hits = self._search({d: float(c) for d, c in query.items()}, field, k, flt,
                            {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}})
        return _ranked((int(h["id"]), abs(float(h["distance"]))) for h in hits if h["distance"])

    def term_df(self, terms: list[str], flt: PassageFilter | None = None) -> tuple[int, dict[str, int]]:
        """Document frequencies in the live generation, from its own sparse vectors: a passage holds a term
        exactly when its vector has a weight at the term's dimension, so a search for that dimension alone
        (with the filter) returns those passages. One search per term, capped at MAX_TOPK: a term in more
        passages than that is counted as MAX_TOPK (its IDF is then over-estimated, and stays the lowest of
        the question's)."""
        if self._live is None:
            self.refresh()
        if self._live is None:
            raise MilvusError(f"Chưa có thế hệ chỉ mục nào trong Milvus tại {self.uri} (tiền tố "
                              f"'{self.prefix}'): hãy chạy 'python -m ingest' trước.")
        expr = compile_filter(flt)
        if expr is None:
            return 0, {t: 0 for t in terms}
        cache = self._df_cache
        if cache.get("generation") != self._live or len(cache) > DF_CACHE:
            cache.clear()  # counts hold for one generation (immutable) and one filter
            cache["generation"] = self._live
        n = int(self._live_manifest.get("passages", 0))
        if expr and n:
            if (expr, None) not in cache:
                with self._call("đếm đoạn"):
                    rows = self.client.query(self._collection(self._live), filter=expr, output_fields=["count(*)"])
                cache[(expr, None)] = int(rows[0]["count(*)"]) if rows else 0
            n = cache[(expr, None)]
        collisions = self._live_manifest.get("lexical", {}).get("collisions", {})
        out = {}
        for t in dict.fromkeys(terms):
            key = (expr, t)
            if key not in cache:
                hits = [] if n == 0 else self._search(
                    {collisions.get(t, term_id(t)): 1.0}, "sparse", min(n, MAX_TOPK), flt,
                    {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}})
                cache[key] = sum(1 for h in hits if h["distance"])
            out[t] = cache[key]
        return n, out

    def search_units(self, terms: list[str], k: int, flt: PassageFilter | None = None) -> list[tuple[int, float]]:
        return self._search_bm25(terms, k, flt, "units", "usparse")

    def unit_of(self, ids) -> dict[int, int]:
        ids = sorted({int(i) for i in ids})
        if not ids:
            return {}
        if self._live is None:
            self.refresh()
        out: dict[int, int] = {}
        with self._call("đọc điều, khoản của đoạn"):
            for i in range(0, len(ids), 1000):
                part = ids[i:i + 1000]
                rows = self.client.query(self._collection(self._live), filter=f"id in [{', '.join(map(str, part))}]",
                                         output_fields=["id", "unit"], limit=len(part))
                out.update({int(r["id"]): int(r["unit"]) for r in rows})
        return out

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


class _Bm25Stats:
    """One generation's BM25 statistics (bm25s's Lucene variant) and the sparse weights they give."""

    def __init__(self, k1: float, b: float):
        self.k1, self.b = k1, b
        self.n, self.length, self.nonzeros, self.dimension = 0, 0, 0, 0
        self.df: Counter = Counter()
        self.collisions: dict[str, int] = {}

    @classmethod
    def count(cls, rows: Iterable[list[PassageRow]], k1: float, b: float, units: bool = False) -> "_Bm25Stats":
        """Statistics of the rows' terms, or (``units``) of the units' terms on each unit's first row."""
        st = cls(k1, b)
        for batch in rows:
            for r in batch:
                st.dimension = st.dimension or len(r.vector)
                if units and r.unit_terms is None:
                    continue
                terms = (r.unit_terms if units else r.terms) or EMPTY_TERMS
                st.n += 1
                st.length += len(terms)
                distinct = set(terms)
                st.nonzeros += len(distinct)
                st.df.update(distinct)
        st.mean_length = st.length / st.n if st.n else 1.0
        # two terms with one hashed dimension: the later one (in sorted order) takes the next free dimension
        taken: dict[int, str] = {FILLER: ""}
        for t in sorted(st.df):
            d = term_id(t)
            if d in taken:
                while d in taken:
                    d = (d + 1) % _DIMS
                st.collisions[t] = d
            taken[d] = t
        if len(st.collisions) > MAX_COLLISIONS:
            raise MilvusError(f"{len(st.collisions)} từ khoá trùng chiều băm (tối đa {MAX_COLLISIONS}): kho từ vựng "
                              f"{len(st.df)} từ quá lớn cho một thế hệ.")
        return st

    def weights(self, terms: list[str]) -> dict[int, float]:
        terms = terms or EMPTY_TERMS
        norm = self.k1 * (1 - self.b + self.b * len(terms) / self.mean_length)
        out = {}
        for t, tf in Counter(terms).items():
            idf = math.log(1 + (self.n - self.df[t] + 0.5) / (self.df[t] + 0.5))
            out[self.collisions.get(t, term_id(t))] = float(np.float32(idf * tf / (tf + norm)))
        return out


def _ranked(hits) -> list[tuple[int, float]]:
    """Best first, ties by passage id (as the local engine orders them)."""
    return sorted(hits, key=lambda h: (-h[1], h[0]))


def _info_dimension(info: dict) -> int:
    emb = info.get("embedder")
    return int((emb or {}).get("dimension") or info.get("dimension") or 0)


