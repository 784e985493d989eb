"""The SQLite store: files, documents, passages, references and passage vectors.

One file (``store.sqlite``) in the index directory. Each ingested file is written in one
transaction (document, passages, references and their vectors together), so a crash loses at
most the file in hand. ``data_version`` grows with every change; an index generation records the
version it was built from, so a stale generation is detected and rebuilt.

A replaced or removed document is *retired* (``retired`` = the version that retired it), not
deleted: the live generation may still return its passages. ``purge(v)`` deletes what was retired
at or before version ``v`` once no kept generation needs it. Catalogue reads see live documents only.
"""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np

from ingest.model import Document

__all__ = ["Store", "StoreError", "SCHEMA_VERSION", "STORE_FILE"]

SCHEMA_VERSION = 1
STORE_FILE = "store.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    number TEXT, doc_type TEXT, type_code TEXT, issuer TEXT, issuer_code TEXT, level TEXT,
    province TEXT, date TEXT, title TEXT, recipients TEXT, signer TEXT, signer_title TEXT,
    text TEXT NOT NULL,
    page_starts TEXT NOT NULL DEFAULT '[]',
    added_at REAL NOT NULL,
    retired INTEGER  -- data_version that retired it; NULL while live
);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error TEXT,
    doc_id INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a live generation may still hold old ids
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    page INTEGER, label TEXT, heading TEXT,
    text TEXT NOT NULL, clean TEXT NOT NULL, tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, ord);
CREATE TABLE IF NOT EXISTS refs (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    passage_id INTEGER REFERENCES passages(id) ON DELETE CASCADE,
    quote TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, sentence TEXT NOT NULL,
    doc_type TEXT, type_code TEXT, number TEXT, year INTEGER, issuer_code TEXT, date TEXT,
    issuer_body TEXT, scope TEXT NOT NULL, key TEXT NOT NULL, canonical TEXT NOT NULL,
    name TEXT, notes TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS refs_key ON refs(key);
CREATE INDEX IF NOT EXISTS refs_doc ON refs(doc_id);
CREATE TABLE IF NOT EXISTS vectors (
    passage_id INTEGER PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
    vector BLOB NOT NULL
);
"""

_LIVE = "d.retired IS NULL"
_PATHS = "(SELECT group_concat(f.path, char(10)) FROM files f WHERE f.doc_id = d.id)"  # every file showing d
_DOC_FIELDS = ["number", "doc_type", "type_code", "issuer", "issuer_code", "level", "province",
               "date", "title", "recipients", "signer", "signer_title"]


class StoreError(Exception):
    """The store cannot be used as asked (wrong schema, wrong embedder)."""


class Store:
    def __init__(self, index_dir: str | Path, readonly: bool = False):
        self.dir = Path(index_dir)
        self.path = self.dir / STORE_FILE
        if readonly:
            if not self.path.exists():
                raise StoreError(f"Chưa có chỉ mục tại {self.dir}: hãy chạy 'python -m ingest' trước.")
            uri = f"file:{self.path}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        else:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys=ON")
        if not readonly:
            with self.db:
                self.db.executescript(_SCHEMA)
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('data_version', '0')")
        version = self.get_meta("schema_version")
        if version is not None and int(version) != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: phiên bản lược đồ {version} khác {SCHEMA_VERSION}; "
                             "hãy xoá thư mục chỉ mục và nạp lại.")

    def close(self) -> None:
        self.db.close()

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def data_version(self) -> int:
        return int(self.get_meta("data_version") or 0)

    def _bump(self) -> None:
        self.db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='data_version'")

    def check_embedder(self, name: str, dimension: int) -> None:
        """Vectors in one store come from one embedder; refuse another."""
        have = self.get_meta("embedder")
        if have is None:
            self.set_meta("embedder", json.dumps({"name": name, "dimension": dimension}, ensure_ascii=False))
            return
        info = json.loads(have)
        if info["name"] != name or info["dimension"] != dimension:
            raise StoreError(
                f"Chỉ mục {self.dir} được dựng bằng bộ nhúng {info['name']} ({info['dimension']} chiều), "
                f"không phải {name} ({dimension} chiều). Hãy dựng lại: python -m ingest ... "
                f"--index-dir {self.dir} --rebuild, hoặc dùng lại bộ nhúng cũ.")

    def embedder_info(self) -> dict | None:
        have = self.get_meta("embedder")
        return json.loads(have) if have else None

    # -- files ------------------------------------------------------------------------------
    def file(self, path: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM files WHERE path=?", (path,)).fetchone()

    def files(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM files ORDER BY path").fetchall()

    def doc_id_by_sha(self, sha256: str) -> int | None:
        row = self.db.execute("SELECT id FROM documents WHERE sha256=? AND retired IS NULL", (sha256,)).fetchone()
        return row[0] if row else None

    def put_document(self, doc: Document, vectors: np.ndarray | None) -> int:
        """Store a document, its passages, references and vectors, and point its file at it."""
        with self.db:
            self._detach(doc.path)
            m = doc.metadata
            values = [getattr(m, f) for f in _DOC_FIELDS]
            values[_DOC_FIELDS.index("recipients")] = json.dumps(m.recipients, ensure_ascii=False)
            cur = self.db.execute(
                f"INSERT INTO documents (sha256, path, {', '.join(_DOC_FIELDS)}, text, page_starts, added_at) "
                f"VALUES (?, ?, {', '.join('?' * len(_DOC_FIELDS))}, ?, ?, ?)",
                [doc.sha256, doc.path, *values, doc.source.text, json.dumps(doc.source.page_starts), time.time()])
            doc_id = cur.lastrowid
            pids = []
            for p in doc.passages:
                cur = self.db.execute(
                    'INSERT INTO passages (doc_id, ord, start, "end", page, label, heading, text, clean, tokens) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, p.ord, p.start, p.end, p.page, p.label, p.heading, p.text, p.clean, p.tokens))
                pids.append(cur.lastrowid)
            starts = [p.start for p in doc.passages]
            for r in doc.references:
                pid = _passage_for(starts, pids, r.start)
                self.db.execute(
                    'INSERT INTO refs (doc_id, passage_id, quote, start, "end", sentence, doc_type, type_code, '
                    "number, year, issuer_code, date, issuer_body, scope, key, canonical, name, notes) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, pid, r.quote, r.start, r.end, r.sentence, r.doc_type, r.type_code, r.number,
                     r.year, r.issuer_code, r.date, r.issuer_body, r.scope, r.key, r.canonical, r.name,
                     json.dumps(r.notes, ensure_ascii=False)))
            if vectors is not None:
                self.db.executemany("INSERT INTO vectors VALUES (?, ?)",
                                    [(pid, np.asarray(v, dtype=np.float32).tobytes()) for pid, v in zip(pids, vectors)])
            self._set_file(doc.path, doc.sha256, doc.size, "ok", None, doc_id)
            self._bump()
        return doc_id

    def link_duplicate(self, path: str, sha256: str, size: int, doc_id: int) -> None:
        """Another file with the same content: record the path, keep one document."""
        with self.db:
            self._detach(path)
            self._set_file(path, sha256, size, "ok", None, doc_id)
            self._bump()

    def put_failure(self, path: str, sha256: str, size: int, error: str) -> None:
        """A failed file keeps its old document, if any, so nothing indexed is lost."""
        with self.db:
            old = self.file(path)
            doc_id = old["doc_id"] if old is not None else None
            self._set_file(path, sha256, size, "failed", error, doc_id)

    def remove_file(self, path: str) -> None:
        with self.db:
            self._detach(path)
            self.db.execute("DELETE FROM files WHERE path=?", (path,))
            self._bump()

    def _set_file(self, path, sha256, size, status, error, doc_id) -> None:
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (path, sha256, size, status, error, doc_id, time.time()))

    def _detach(self, path: str) -> None:
        """Unlink a file from its document; retire the document if no other file shows it."""
        old = self.file(path)
        if old is None or old["doc_id"] is None:
            return
        self.db.execute("UPDATE files SET doc_id=NULL WHERE path=?", (path,))
        others = self.db.execute("SELECT COUNT(*) FROM files WHERE doc_id=?", (old["doc_id"],)).fetchone()[0]
        if not others:
            self.db.execute("UPDATE documents SET retired = ? WHERE id=?", (self.data_version + 1, old["doc_id"]))

    def purge(self, version: int) -> int:
        """Delete documents retired at or before ``version`` (with their passages, refs, vectors)."""
        with self.db:
            return self.db.execute("DELETE FROM documents WHERE retired IS NOT NULL AND retired <= ?",
                                   (version,)).rowcount

    def clear_vectors(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM vectors")
            self.db.execute("DELETE FROM meta WHERE key='embedder'")
            self._bump()

    def put_vectors(self, pids: list[int], vectors: np.ndarray) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                [(pid, np.asarray(v, dtype=np.float32).tobytes()) for pid, v in zip(pids, vectors)])
            self._bump()

    def passages_without_vectors(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT p.id, p.clean FROM passages p JOIN documents d ON d.id = p.doc_id "
                               "LEFT JOIN vectors v ON v.passage_id = p.id "
                               "WHERE v.passage_id IS NULL AND d.retired IS NULL ORDER BY p.id").fetchall()

    # -- reading ----------------------------------------------------------------------------
    def counts(self) -> dict:
        q = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {"files": q("SELECT COUNT(*) FROM files"),
                "failed": q("SELECT COUNT(*) FROM files WHERE status='failed'"),
                "documents": q(f"SELECT COUNT(*) FROM documents d WHERE {_LIVE}"),
                "passages": q(f"SELECT COUNT(*) FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {_LIVE}"),
                "references": q(f"SELECT COUNT(*) FROM refs r JOIN documents d ON d.id = r.doc_id WHERE {_LIVE}")}

    def all_vectors(self, dimension: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.db.execute("SELECT v.passage_id, v.vector FROM vectors v JOIN passages p ON p.id = v.passage_id "
                               f"JOIN documents d ON d.id = p.doc_id WHERE {_LIVE} ORDER BY v.passage_id").fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        mat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dimension) \
            if rows else np.zeros((0, dimension), dtype=np.float32)
        return ids, mat

    def all_tokens(self) -> tuple[np.ndarray, list[str]]:
        rows = self.db.execute("SELECT p.id, p.tokens FROM passages p JOIN documents d ON d.id = p.doc_id "
                               f"WHERE {_LIVE} ORDER BY p.id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def documents(self) -> list[dict]:
        rows = self.db.execute(
            f"SELECT d.*, {_PATHS} AS paths "
            f"FROM documents d WHERE {_LIVE} ORDER BY d.date IS NULL, d.date, d.number").fetchall()
        return [_doc(r) for r in rows]

    def documents_by_ids(self, ids: list[int]) -> dict[int, dict]:
        """Metadata of several documents in one query, without their full text."""
        ids = sorted({int(i) for i in ids})
        if not ids:
            return {}
        cols = ", ".join(f"d.{c}" for c in ["id", "sha256", "path", *_DOC_FIELDS, "page_starts", "added_at"])
        rows = self.db.execute(
            f"SELECT {cols}, '' AS text, {_PATHS} AS paths FROM documents d WHERE d.id IN ({','.join('?' * len(ids))})", ids).fetchall()
        return {r["id"]: _doc(r) for r in rows}

    def document(self, doc_id: int) -> dict | None:
        row = self.db.execute(
            f"SELECT d.*, {_PATHS} AS paths "
            "FROM documents d WHERE d.id=?", (doc_id,)).fetchone()
        return _doc(row) if row else None

    def document_numbers(self) -> list[sqlite3.Row]:
        """(id, number, province) of every numbered document, without loading full texts."""
        return self.db.execute("SELECT id, number, province FROM documents d "
                               f"WHERE number IS NOT NULL AND {_LIVE}").fetchall()

    def documents_by_number(self, number: str) -> list[dict]:
        rows = self.db.execute(f"SELECT id FROM documents d WHERE {_LIVE} AND replace(upper(number), ' ', '') = ?",
                               (number.replace(" ", "").upper().replace("Ð", "Đ"),)).fetchall()
        return [self.document(r[0]) for r in rows]

    def passages(self, ids: list[int]) -> dict[int, dict]:
        out: dict[int, dict] = {}
        for i in range(0, len(ids), 500):
            chunk = [int(x) for x in ids[i:i + 500]]
            rows = self.db.execute(f"SELECT * FROM passages WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            out.update({r["id"]: dict(r) for r in rows})
        return out

    def document_passages(self, doc_id: int) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT * FROM passages WHERE doc_id=? ORDER BY ord", (doc_id,))]

    def references(self, doc_id: int | None = None, key: str | None = None) -> list[dict]:
        """References of one document, or (by key) of every live document."""
        sql, args = "SELECT r.* FROM refs r JOIN documents d ON d.id = r.doc_id WHERE 1=1", []
        if doc_id is not None:
            sql, args = sql + " AND r.doc_id=?", args + [doc_id]
        else:
            sql += f" AND {_LIVE}"
        if key is not None:
            sql, args = sql + " AND r.key=?", args + [key]
        return [_ref(r) for r in self.db.execute(sql + " ORDER BY r.doc_id, r.start", args)]

    def live_passage_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute(
            f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {_LIVE} ORDER BY p.id")]

    def reference_keys(self) -> list[dict]:
        """Distinct canonical references with how many documents cite each."""
        rows = self.db.execute(
            "SELECT r.key, r.canonical, r.type_code, r.number, r.issuer_code, r.scope, r.name, min(r.year) AS year, "
            "COUNT(DISTINCT r.doc_id) AS n_docs FROM refs r JOIN documents d ON d.id = r.doc_id "
            f"WHERE {_LIVE} GROUP BY r.key ORDER BY n_docs DESC, r.key").fetchall()
        return [dict(r) for r in rows]

    def facets(self) -> dict:
        col = lambda c: [r[0] for r in self.db.execute(  # noqa: E731
            f"SELECT DISTINCT {c} FROM documents d WHERE {c} IS NOT NULL AND {_LIVE} ORDER BY {c}")]
        years = [int(r[0]) for r in self.db.execute(
            f"SELECT DISTINCT substr(date, 1, 4) FROM documents d WHERE date IS NOT NULL AND {_LIVE} ORDER BY 1")]
        return {"province": col("province"), "doc_type": col("doc_type"), "issuer": col("issuer"), "year": years}


def _passage_for(starts: list[int], pids: list[int], offset: int) -> int | None:
    import bisect
    i = bisect.bisect_right(starts, offset) - 1
    return pids[i] if 0 <= i < len(pids) else None


def _doc(row: sqlite3.Row) -> dict:
    d = dict(row)
    d["recipients"] = json.loads(d["recipients"] or "[]")
    d["page_starts"] = json.loads(d["page_starts"] or "[]")
    d["paths"] = (d.pop("paths", None) or "").split("\n") if d.get("paths") else [d["path"]]
    return d


def _ref(row: sqlite3.Row) -> dict:
    d = dict(row)
    d["notes"] = json.loads(d["notes"] or "[]")
    return d

