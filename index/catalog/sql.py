"""The catalogue's SQL, shared by SQLite and PostgreSQL.

A subclass supplies the connection (``_execute``, ``_executemany``, ``_transaction``) and the few
places where the dialects differ (``PARAM``, ``PATHS``, the column ``TYPES`` of ``SCHEMA``). Statements are written with ``?``
placeholders and converted once for a dialect that uses ``%s``.

Each ingested file is written in one transaction (document, passages, references and their vectors
together), so a crash loses at most the file in hand. ``data_version`` grows with every change; an
index generation records the version it was built from, so a stale generation is detected.
A replaced or removed document is *retired* (``retired`` = the version that retired it), not deleted:
the live generation may still return its passages. ``purge(v)`` deletes what was retired at or before
``v`` once no kept generation needs it. Catalogue reads see live documents only.
"""
from __future__ import annotations

import bisect
import json
import time
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from ingest.chunking import with_context
from ingest.model import Document

from ..errors import IndexMismatch, Unavailable
from ..lexical import index_terms, unit_terms
from ..passage_search.base import PassageFilter, PassageRow
from .base import Catalog

__all__ = ["SqlCatalog", "SCHEMA", "SCHEMA_VERSION", "DOC_FIELDS", "visible_sql"]

SCHEMA_VERSION = 3  # 3: passages record their unit and context (issue 11)
DOC_FIELDS = ["number", "doc_type", "type_code", "issuer", "issuer_code", "level", "province",
              "date", "title", "recipients", "signer", "signer_title"]
_LIVE = "d.retired IS NULL"

# The tables, with the few column types the dialects spell differently as fields (``SqlCatalog.TYPES``).
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id {key},
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    number TEXT, doc_type TEXT, type_code TEXT, issuer TEXT, issuer_code TEXT, level TEXT,
    province TEXT, date TEXT, title TEXT, recipients TEXT, signer TEXT, signer_title TEXT,
    text TEXT NOT NULL,
    page_starts TEXT NOT NULL DEFAULT '[]',
    added_at {real} NOT NULL,
    retired {int},  -- data_version that retired it; NULL while live
    grp TEXT          -- access group; NULL = public
);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size {int} NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error TEXT,
    doc_id {int} REFERENCES documents(id) ON DELETE SET NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id {serial},  -- never reused: a live generation may still hold old ids
    doc_id {int} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    page INTEGER, label TEXT, heading TEXT,
    text TEXT NOT NULL, clean TEXT NOT NULL, tokens TEXT NOT NULL,
    unit INTEGER, unit_label TEXT,  -- its unit in the document (NULL: the title line alone, not searched)
    context TEXT NOT NULL DEFAULT '', context_tokens TEXT NOT NULL DEFAULT '',
    unit_heading_tokens TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id, ord);
CREATE TABLE IF NOT EXISTS refs (
    id {key},
    doc_id {int} NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    passage_id {int} REFERENCES passages(id) ON DELETE CASCADE,
    quote TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, sentence TEXT NOT NULL,
    doc_type TEXT, type_code TEXT, number TEXT, year INTEGER, issuer_code TEXT, date TEXT,
    issuer_body TEXT, scope TEXT NOT NULL, key TEXT NOT NULL, canonical TEXT NOT NULL,
    name TEXT, notes TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS refs_key ON refs(key);
CREATE INDEX IF NOT EXISTS refs_doc ON refs(doc_id);
CREATE TABLE IF NOT EXISTS vectors (
    passage_id {int} PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
    vector {blob} NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('reader', 'admin')),
    groups TEXT NOT NULL DEFAULT '[]',   -- JSON list of access groups
    password_hash TEXT,                  -- argon2id; NULL = no password sign-in
    token_hash TEXT UNIQUE,              -- sha256 of the one live API token; NULL = none
    created_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id {serial},
    at {real} NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{{}}'    -- JSON
);
"""


def visible_sql(visible) -> tuple[str, list]:
    """The access rule as SQL over documents ``d``: every document, or public + the caller's groups."""
    if visible is None:
        return "1=1", []
    groups = sorted(visible)
    if not groups:
        return "d.grp IS NULL", []
    return f"(d.grp IS NULL OR d.grp IN ({','.join('?' * len(groups))}))", groups


def _doc(row: dict) -> dict:
    d = dict(row)
    d["recipients"] = json.loads(d["recipients"] or "[]")
    d["page_starts"] = json.loads(d["page_starts"] or "[]")
    d["paths"] = (d.pop("paths", None) or "").split("\n") if d.get("paths") else [d["path"]]
    return d


def _ref(row: dict) -> dict:
    d = dict(row)
    d["notes"] = json.loads(d["notes"] or "[]")
    return d


def _user(row: dict) -> dict:
    return {**row, "groups": json.loads(row["groups"] or "[]")}


def _year(date: str | None) -> int | None:
    try:
        return int(date[:4]) if date else None
    except ValueError:
        return None


def _unit_rows(unit: list[tuple[dict, PassageRow]]) -> Iterator[PassageRow]:
    """One unit's rows: each names the first as its unit, which carries the unit's terms."""
    if not unit:
        return
    first = unit[0][1]
    head = unit[0][0]
    first.unit_terms = unit_terms(head["context_tokens"], [r["tokens"] for r, _ in unit], head["unit_heading_tokens"])
    for _, row in unit:
        row.unit = first.id
        yield row


class SqlCatalog(Catalog):
    PARAM = "?"                                                        # the driver's placeholder
    PATHS = "(SELECT group_concat(f.path, char(10)) FROM files f WHERE f.doc_id = d.id)"  # every file showing d
    TYPES = {"key": "INTEGER PRIMARY KEY", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",  # SCHEMA's types
             "int": "INTEGER", "real": "REAL", "blob": "BLOB"}

    # -- the connection (subclasses) ------------------------------------------------------------
    def _execute(self, sql: str, args=()) -> list[dict]:
        raise NotImplementedError

    def _executemany(self, sql: str, rows) -> None:
        raise NotImplementedError

    def _insert(self, sql: str, args) -> int:
        """Run an INSERT ... RETURNING id and give the id."""
        return self._execute(sql + " RETURNING id", args)[0]["id"]

    @contextmanager
    def _transaction(self):
        raise NotImplementedError
        yield

    @classmethod
    def schema(cls) -> str:
        """The CREATE statements in this dialect."""
        return SCHEMA.format(**cls.TYPES)

    def _q(self, sql: str) -> str:
        return sql if self.PARAM == "?" else sql.replace("?", self.PARAM)

    def _rows(self, sql: str, args=()) -> list[dict]:
        return self._execute(self._q(sql), list(args))

    def _one(self, sql: str, args=()):
        rows = self._rows(sql, args)
        return rows[0] if rows else None

    def _check_schema(self) -> None:
        version = self.get_meta("schema_version")
        if version is not None and int(version) != SCHEMA_VERSION:
            raise Unavailable(f"{self.location}: phiên bản lược đồ {version} khác {SCHEMA_VERSION}; "
                              "hãy xoá thư mục chỉ mục và nạp lại.")

    # -- meta -------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key=?", (key,))
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self._set_meta(key, value)

    def _set_meta(self, key: str, value: str) -> None:
        self._rows("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   (key, value))

    def _init_meta(self) -> None:
        self._rows("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING", (str(SCHEMA_VERSION),))
        self._rows("INSERT INTO meta VALUES ('data_version', '0') ON CONFLICT (key) DO NOTHING")

    @property
    def data_version(self) -> int:
        return int(self.get_meta("data_version") or 0)

    def _bump(self) -> None:
        self._rows("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key='data_version'")

    def check_embedder(self, name: str, dimension: int) -> None:
        have = self.get_meta("embedder")
        if have is None:
            self.set_meta("embedder", json.dumps({"name": name, "dimension": dimension}, ensure_ascii=False))
            return
        info = json.loads(have)
        if info["name"] != name or info["dimension"] != dimension:
            raise IndexMismatch(
                f"Chỉ mục {self.location} được dựng bằng bộ nhúng {info['name']} ({info['dimension']} chiều), "
                f"không phải {name} ({dimension} chiều). Hãy dựng lại: python -m ingest ... --rebuild, "
                f"hoặc dùng lại bộ nhúng cũ.")

    def embedder_info(self) -> dict | None:
        have = self.get_meta("embedder")
        return json.loads(have) if have else None

    # -- files and writes ---------------------------------------------------------------------------
    def file(self, path: str) -> dict | None:
        return self._one("SELECT * FROM files WHERE path=?", (path,))

    def files(self) -> list[dict]:
        return self._rows("SELECT * FROM files ORDER BY path")

    def doc_id_by_sha(self, sha256: str, group: str | None = None) -> int | None:
        row = self._one("SELECT id FROM documents WHERE sha256=? AND retired IS NULL AND "
                        + ("grp IS NULL" if group is None else "grp = ?"), (sha256,) if group is None else (sha256, group))
        return row["id"] if row else None

    def put_document(self, doc: Document, vectors: np.ndarray | None, group: str | None = None) -> int:
        with self._transaction():
            self._detach(doc.path)
            m = doc.metadata
            values = [getattr(m, f) for f in DOC_FIELDS]
            values[DOC_FIELDS.index("recipients")] = json.dumps(m.recipients, ensure_ascii=False)
            doc_id = self._insert(self._q(
                f"INSERT INTO documents (sha256, path, {', '.join(DOC_FIELDS)}, text, page_starts, added_at, grp) "
                f"VALUES (?, ?, {', '.join('?' * len(DOC_FIELDS))}, ?, ?, ?, ?)"),
                [doc.sha256, doc.path, *values, doc.source.text, json.dumps(doc.source.page_starts), time.time(), group])
            pids = [self._insert(self._q(
                'INSERT INTO passages (doc_id, ord, start, "end", page, label, heading, text, clean, tokens, '
                "unit, unit_label, context, context_tokens, unit_heading_tokens) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                (doc_id, p.ord, p.start, p.end, p.page, p.label, p.heading, p.text, p.clean, p.tokens,
                 p.unit, p.unit_label, p.context, p.context_tokens, p.unit_heading_tokens))
                for p in doc.passages]
            starts = [p.start for p in doc.passages]
            self._executemany(self._q(
                'INSERT INTO refs (doc_id, passage_id, quote, start, "end", sentence, doc_type, type_code, '
                "number, year, issuer_code, date, issuer_body, scope, key, canonical, name, notes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                [(doc_id, _passage_for(starts, pids, r.start), r.quote, r.start, r.end, r.sentence, r.doc_type,
                  r.type_code, r.number, r.year, r.issuer_code, r.date, r.issuer_body, r.scope, r.key, r.canonical,
                  r.name, json.dumps(r.notes, ensure_ascii=False)) for r in doc.references])
            if vectors is not None:
                self._executemany(self._q("INSERT INTO vectors VALUES (?, ?)"),
                                  [(pid, np.asarray(v, dtype=np.float32).tobytes()) for pid, v in zip(pids, vectors)])
            self._set_file(doc.path, doc.sha256, doc.size, "ok", None, doc_id)
            self._bump()
        return doc_id

    def link_duplicate(self, path: str, sha256: str, size: int, doc_id: int) -> None:
        with self._transaction():
            self._detach(path)
            self._set_file(path, sha256, size, "ok", None, doc_id)
            self._bump()

    def put_failure(self, path: str, sha256: str, size: int, error: str) -> None:
        """A failed file keeps its old document, if any, so nothing indexed is lost."""
        with self._transaction():
            old = self.file(path)
            self._set_file(path, sha256, size, "failed", error, old["doc_id"] if old else None)

    def remove_file(self, path: str) -> None:
        with self._transaction():
            self._detach(path)
            self._rows("DELETE FROM files WHERE path=?", (path,))
            self._bump()

    def _set_file(self, path, sha256, size, status, error, doc_id) -> None:
        self._rows("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                   "sha256 = excluded.sha256, size = excluded.size, status = excluded.status, "
                   "error = excluded.error, doc_id = excluded.doc_id, updated_at = excluded.updated_at",
                   (path, sha256, size, status, error, doc_id, time.time()))

    def _detach(self, path: str) -> None:
        """Unlink a file from its document; retire the document if no other file shows it."""
        old = self.file(path)
        if old is None or old["doc_id"] is None:
            return
        self._rows("UPDATE files SET doc_id=NULL WHERE path=?", (path,))
        others = self._one("SELECT COUNT(*) AS n FROM files WHERE doc_id=?", (old["doc_id"],))["n"]
        if not others:
            self._rows("UPDATE documents SET retired = ? WHERE id=?", (self.data_version + 1, old["doc_id"]))

    def purge(self, version: int) -> int:
        with self._transaction():
            gone = self._rows("DELETE FROM documents WHERE retired IS NOT NULL AND retired <= ? RETURNING id", (version,))
        return len(gone)

    def clear_vectors(self) -> None:
        with self._transaction():
            self._rows("DELETE FROM vectors")
            self._rows("DELETE FROM meta WHERE key='embedder'")
            self._bump()

    def put_vectors(self, pids: list[int], vectors: np.ndarray) -> None:
        with self._transaction():
            self._executemany(self._q("INSERT INTO vectors VALUES (?, ?) ON CONFLICT (passage_id) DO UPDATE "
                                      "SET vector = excluded.vector"),
                              [(pid, np.asarray(v, dtype=np.float32).tobytes()) for pid, v in zip(pids, vectors)])
            self._bump()

    def passages_without_vectors(self) -> list[dict]:
        return self._rows("SELECT p.id, p.clean, p.context FROM passages p JOIN documents d ON d.id = p.doc_id "
                          "LEFT JOIN vectors v ON v.passage_id = p.id "
                          f"WHERE v.passage_id IS NULL AND {_LIVE} ORDER BY p.id")

    def generation_rows(self, dimension: int, batch: int = 2000) -> Iterator[PassageRow]:
        """The live passages with their vectors, terms (context first) and units; a unit's first row carries
        the whole unit's terms (the title once, then every passage's own). Title-only lines are left out."""
        last, unit, key = 0, [], None
        while True:
            rows = self._rows(
                "SELECT p.id, p.doc_id, p.unit, p.tokens, p.context_tokens, p.unit_heading_tokens, v.vector, d.province, d.date, d.doc_type, "
                "d.issuer, d.grp FROM passages p JOIN documents d ON d.id = p.doc_id "
                "JOIN vectors v ON v.passage_id = p.id "
                f"WHERE {_LIVE} AND p.unit IS NOT NULL AND p.id > ? ORDER BY p.id LIMIT ?", (last, batch))
            for r in rows:
                if (r["doc_id"], r["unit"]) != key:  # a unit's passages are consecutive ids
                    yield from _unit_rows(unit)
                    unit, key = [], (r["doc_id"], r["unit"])
                unit.append((r, PassageRow(
                    id=r["id"], doc_id=r["doc_id"], vector=np.frombuffer(bytes(r["vector"]), dtype=np.float32, count=dimension),
                    terms=index_terms(with_context(r["context_tokens"], r["tokens"])), province=r["province"],
                    year=_year(r["date"]), doc_type=r["doc_type"], issuer=r["issuer"], group=r["grp"])))
            if not rows:
                yield from _unit_rows(unit)
                return
            last = rows[-1]["id"]

    # -- accounts and the audit log ------------------------------------------------------------------
    def put_user(self, name: str, role: str, groups: list[str], password_hash: str | None) -> None:
        with self._transaction():
            self._rows("INSERT INTO users (name, role, groups, password_hash, created_at) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (name) DO UPDATE SET role = excluded.role, groups = excluded.groups, "
                       "password_hash = excluded.password_hash",
                       (name, role, json.dumps(sorted(groups), ensure_ascii=False), password_hash, time.time()))

    def remove_user(self, name: str) -> bool:
        with self._transaction():
            return bool(self._rows("DELETE FROM users WHERE name=? RETURNING name", (name,)))

    def user(self, name: str) -> dict | None:
        row = self._one("SELECT * FROM users WHERE name=?", (name,))
        return _user(row) if row else None

    def users(self) -> list[dict]:
        return [_user(r) for r in self._rows("SELECT * FROM users ORDER BY name")]

    def set_token_hash(self, name: str, token_hash: str) -> None:
        with self._transaction():
            self._rows("UPDATE users SET token_hash=? WHERE name=?", (token_hash, name))

    def user_by_token_hash(self, token_hash: str) -> dict | None:
        row = self._one("SELECT * FROM users WHERE token_hash=?", (token_hash,))
        return _user(row) if row else None

    def audit(self, actor: str, action: str, detail: dict) -> None:
        with self._transaction():
            self._rows("INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                       (time.time(), actor, action, json.dumps(detail, ensure_ascii=False, default=str)))

    def audit_log(self, limit: int = 1000) -> list[dict]:
        rows = self._rows("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (int(limit),))
        return [{**r, "detail": json.loads(r["detail"])} for r in rows]

    # -- caller-scoped reads ----------------------------------------------------------------------------
    def _scoped(self, visible, sql: str, args=()) -> list[dict]:
        """Run ``sql`` holding ``{vis}`` once: the access rule over documents ``d``."""
        vis, vargs = visible_sql(visible)
        before, after = sql.split("{vis}")
        args = list(args)
        n = before.count("?")
        return self._rows(before + vis + after, args[:n] + vargs + args[n:])

    def counts(self, visible) -> dict:
        def n(sql):
            return self._scoped(visible, sql)[0]["n"]
        admin = visible is None
        return {"files": (self._one("SELECT COUNT(*) AS n FROM files")["n"] if admin else
                          n(f"SELECT COUNT(*) AS n FROM files f JOIN documents d ON d.id = f.doc_id WHERE {_LIVE} AND {{vis}}")),
                "failed": self._one("SELECT COUNT(*) AS n FROM files WHERE status='failed'")["n"] if admin else 0,
                "documents": n(f"SELECT COUNT(*) AS n FROM documents d WHERE {_LIVE} AND {{vis}}"),
                "passages": n(f"SELECT COUNT(*) AS n FROM passages p JOIN documents d ON d.id = p.doc_id "
                              f"WHERE {_LIVE} AND {{vis}}"),
                "references": n(f"SELECT COUNT(*) AS n FROM refs r JOIN documents d ON d.id = r.doc_id "
                                f"WHERE {_LIVE} AND {{vis}}")}

    def documents(self, visible) -> list[dict]:
        return [_doc(r) for r in self._scoped(
            visible, f"SELECT d.*, {self.PATHS} AS paths FROM documents d WHERE {_LIVE} AND {{vis}} "
                     "ORDER BY d.date IS NULL, d.date, d.number")]

    def documents_by_ids(self, visible, ids: list[int]) -> dict[int, dict]:
        """Metadata of several documents in one query, without their full text (retired ones too: the
        live generation may still show them)."""
        ids = sorted({int(i) for i in ids})
        if not ids:
            return {}
        cols = ", ".join(f"d.{c}" for c in ["id", "sha256", "path", *DOC_FIELDS, "page_starts", "added_at", "grp"])
        rows = self._scoped(visible, f"SELECT {cols}, '' AS text, {self.PATHS} AS paths FROM documents d "
                                     f"WHERE d.id IN ({','.join('?' * len(ids))}) AND {{vis}}", ids)
        return {r["id"]: _doc(r) for r in rows}

    def document(self, visible, doc_id: int) -> dict | None:
        rows = self._scoped(visible, f"SELECT d.*, {self.PATHS} AS paths FROM documents d WHERE d.id=? AND {{vis}}",
                            (int(doc_id),))
        return _doc(rows[0]) if rows else None

    def document_numbers(self, visible) -> list[dict]:
        """(id, number, province) of every numbered live document, without full texts."""
        return self._scoped(visible, "SELECT d.id, d.number, d.province FROM documents d "
                                     f"WHERE d.number IS NOT NULL AND {_LIVE} AND {{vis}}")

    def documents_by_number(self, visible, number: str) -> list[dict]:
        rows = self._scoped(visible, f"SELECT d.id FROM documents d WHERE {_LIVE} AND {{vis}} "
                                     "AND replace(upper(d.number), ' ', '') = ?",
                            (number.replace(" ", "").upper().replace("Ð", "Đ"),))
        return [self.document(visible, r["id"]) for r in rows]

    def passages(self, visible, ids: list[int]) -> dict[int, dict]:
        out: dict[int, dict] = {}
        ids = [int(x) for x in ids]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = self._scoped(visible, "SELECT p.* FROM passages p JOIN documents d ON d.id = p.doc_id "
                                         f"WHERE p.id IN ({','.join('?' * len(chunk))}) AND {{vis}}", chunk)
            out.update({r["id"]: r for r in rows})
        return out

    def document_passages(self, visible, doc_id: int) -> list[dict]:
        return self._scoped(visible, "SELECT p.* FROM passages p JOIN documents d ON d.id = p.doc_id "
                                     "WHERE p.doc_id=? AND {vis} ORDER BY p.ord", (int(doc_id),))

    def references(self, visible, doc_id: int | None = None, key: str | None = None) -> list[dict]:
        """References of one document, or (by key) of every live document."""
        sql, args = "SELECT r.* FROM refs r JOIN documents d ON d.id = r.doc_id WHERE {vis}", []
        if doc_id is not None:
            sql, args = sql + " AND r.doc_id=?", args + [int(doc_id)]
        else:
            sql += f" AND {_LIVE}"
        if key is not None:
            sql, args = sql + " AND r.key=?", args + [key]
        return [_ref(r) for r in self._scoped(visible, sql + " ORDER BY r.doc_id, r.start", args)]

    def reference_keys(self, visible) -> list[dict]:
        """Distinct canonical references with how many documents cite each."""
        return self._scoped(
            visible, "SELECT r.key, min(r.canonical) AS canonical, min(r.type_code) AS type_code, "
                     "min(r.number) AS number, min(r.issuer_code) AS issuer_code, min(r.scope) AS scope, "
                     "min(r.name) AS name, min(r.year) AS year, COUNT(DISTINCT r.doc_id) AS n_docs "
                     f"FROM refs r JOIN documents d ON d.id = r.doc_id WHERE {_LIVE} AND {{vis}} "
                     "GROUP BY r.key ORDER BY n_docs DESC, r.key")

    def facets(self, visible) -> dict:
        def col(c):
            return [r[c] for r in self._scoped(
                visible, f"SELECT DISTINCT d.{c} FROM documents d WHERE d.{c} IS NOT NULL AND {_LIVE} AND {{vis}} "
                         f"ORDER BY d.{c}")]
        years = sorted({int(r["y"]) for r in self._scoped(
            visible, f"SELECT DISTINCT substr(d.date, 1, 4) AS y FROM documents d WHERE d.date IS NOT NULL "
                     f"AND {_LIVE} AND {{vis}}")})
        return {"province": col("province"), "doc_type": col("doc_type"), "issuer": col("issuer"), "year": years}

    def live_passage_ids(self, visible) -> list[int]:
        return [r["id"] for r in self._scoped(
            visible, f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {_LIVE} AND {{vis}} "
                     "ORDER BY p.id")]

    def doc_ids(self, visible, flt: PassageFilter) -> set[int]:
        sql, args = f"SELECT d.id FROM documents d WHERE {_LIVE} AND {{vis}}", []
        if flt.province:
            sql, args = sql + " AND d.province = ?", args + [flt.province]
        if flt.year_from:
            sql, args = sql + " AND CAST(substr(d.date, 1, 4) AS INTEGER) >= ?", args + [flt.year_from]
        if flt.year_to:
            sql, args = sql + " AND CAST(substr(d.date, 1, 4) AS INTEGER) <= ?", args + [flt.year_to]
        if flt.doc_type:
            sql, args = sql + " AND d.doc_type = ?", args + [flt.doc_type]
        if flt.issuer:
            sql, args = sql + " AND d.issuer = ?", args + [flt.issuer]
        if flt.doc_ids is not None:
            ids = [int(i) for i in flt.doc_ids] or [-1]
            sql, args = sql + f" AND d.id IN ({','.join('?' * len(ids))})", args + ids
        return {r["id"] for r in self._scoped(visible, sql, args)}

    def vectors(self, visible, pids: list[int]) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}
        pids = [int(p) for p in pids]
        for i in range(0, len(pids), 500):
            chunk = pids[i:i + 500]
            rows = self._scoped(visible, "SELECT v.passage_id, v.vector FROM vectors v "
                                         "JOIN passages p ON p.id = v.passage_id JOIN documents d ON d.id = p.doc_id "
                                         f"WHERE v.passage_id IN ({','.join('?' * len(chunk))}) AND {{vis}}", chunk)
            out.update({r["passage_id"]: np.frombuffer(bytes(r["vector"]), dtype=np.float32) for r in rows})
        return out


def _passage_for(starts: list[int], pids: list[int], offset: int) -> int | None:
    i = bisect.bisect_right(starts, offset) - 1
    return pids[i] if 0 <= i < len(pids) else None
