"""The default catalogue: one SQLite file (``store.sqlite``) in the index directory."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ..errors import Unavailable
from .sql import SCHEMA_VERSION, SqlCatalog

__all__ = ["SqliteCatalog", "STORE_FILE"]

STORE_FILE = "store.sqlite"


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
                self.db.executescript(self.schema())
                self._init_meta()
        self._check_schema()

    def _migrate(self) -> None:
        """Version 1 had no access groups: add the column (every existing document stays public). It is then
        version 2, which ``_check_schema`` refuses: passages without units and context need a new ingest."""
        cols = [r[1] for r in self.db.execute("PRAGMA table_info(documents)")]
        if cols and "grp" not in cols:
            self.db.execute("ALTER TABLE documents ADD COLUMN grp TEXT")
            self.db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")

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
