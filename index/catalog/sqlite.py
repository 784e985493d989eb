"""The default catalogue: one SQLite file (``store.sqlite``) in the index directory."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ..errors import Unavailable
from .sql import SCHEMA_VERSION, SqlCatalog

__all__ = ["SqliteCatalog", "STORE_FILE"]

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
    retired INTEGER,  -- data_version that retired it; NULL while live
    grp TEXT          -- access group; NULL = public
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
    text TEXT NOT NULL, clean TEXT NOT NULL, tokens TEXT NOT NULL,
    unit INTEGER, unit_label TEXT,  -- its unit in the document (NULL: the title line alone, not searched)
    context TEXT NOT NULL DEFAULT '', context_tokens TEXT NOT NULL DEFAULT ''
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
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('reader', 'admin')),
    groups TEXT NOT NULL DEFAULT '[]',   -- JSON list of access groups
    password_hash TEXT,                  -- argon2id; NULL = no password sign-in
    token_hash TEXT UNIQUE,              -- sha256 of the one live API token; NULL = none
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'    -- JSON
);
"""


class SqliteCatalog(SqlCatalog):
    def __init__(self, index_dir: str | Path, readonly: bool = False):
        self.dir = Path(index_dir)
        self.path = self.dir / STORE_FILE
        self.location = str(self.path)
        if readonly:
            if not self.path.exists():
                raise Unavailable(f"Chưa có chỉ mục tại {self.dir}: hãy chạy 'python -m ingest' trước.")
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=30)
        else:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        if not readonly:
            with self._transaction():
                self._migrate()
                self.db.executescript(_SCHEMA)
                self._init_meta()
        self._check_schema()

    def _migrate(self) -> None:
        """Version 1 had no access groups: add the column (every existing document stays public)."""
        cols = [r[1] for r in self.db.execute("PRAGMA table_info(documents)")]
        if cols and "grp" not in cols:
            self.db.execute("ALTER TABLE documents ADD COLUMN grp TEXT")
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    def _execute(self, sql: str, args=()) -> list[dict]:
        try:
            return [dict(r) for r in self.db.execute(sql, args)]
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):  # a store opened before its first write
                raise Unavailable(f"Chỉ mục {self.dir} chưa được dựng xong: hãy chạy 'python -m ingest' trước.") from e
            raise

    def _executemany(self, sql: str, rows) -> None:
        self.db.executemany(sql, rows)

    @contextmanager
    def _transaction(self):
        """One transaction; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with self.db:
                yield
        finally:
            self._depth = 0

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
