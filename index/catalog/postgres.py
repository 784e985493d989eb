"""The catalogue on PostgreSQL (psycopg 3), for several serving machines: the same SQL as SQLite (``sql.py``).

One connection per catalogue in autocommit mode (a read never holds a snapshot open); each write runs
in one transaction (``_transaction``), so a killed ingest loses at most the file in hand, as with
SQLite. The connection is shared by the threads of a process behind a lock. When the server drops it
(a restart, a fail-over to a standby behind the same address or a multi-host URI), a statement outside
a transaction is retried once on a new connection; inside one, the transaction fails whole. A read-only
catalogue (the library's) runs every statement with ``default_transaction_read_only``.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from ..deployment import redact_uri
from ..errors import Unavailable
from .sql import SqlCatalog

__all__ = ["PostgresCatalog"]

SCHEMA_LOCK = 0x76616E62616E  # pg_advisory_xact_lock key: two writers creating the tables at once wait


class PostgresCatalog(SqlCatalog):
    PARAM = "%s"
    PATHS = "(SELECT string_agg(f.path, chr(10) ORDER BY f.path) FROM files f WHERE f.doc_id = d.id)"
    TYPES = {"key": "BIGSERIAL PRIMARY KEY", "serial": "BIGSERIAL PRIMARY KEY", "int": "BIGINT",
             "real": "DOUBLE PRECISION", "blob": "BYTEA"}

    def __init__(self, uri: str, readonly: bool = False, connect_timeout: int = 10):
        try:
            import psycopg
        except ImportError:
            raise Unavailable("Thiếu thư viện psycopg để dùng PostgreSQL: "
                              "pip install -r requirements-distributed.txt") from None
        self._pg = psycopg
        self.uri = uri
        self.location = redact_uri(uri)
        self.readonly = readonly
        self.connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._in_tx = 0
        self.db = None
        self.db = self._connection()
        if not readonly:
            with self._transaction():
                self._execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                self._execute(self.schema())
                self._init_meta()
        self._check_schema()

    # -- the connection ----------------------------------------------------------------------------
    def _connection(self):
        """The open connection, or a new one when there is none or the server dropped it."""
        if self.db is not None and not self.db.closed and not self.db.broken:
            return self.db
        from psycopg.rows import dict_row
        try:
            self.db = self._pg.connect(self.uri, autocommit=True, row_factory=dict_row,
                                       connect_timeout=self.connect_timeout, application_name="vanban")
            if self.readonly:
                self.db.execute("SET default_transaction_read_only = on")
        except self._pg.Error as e:
            raise Unavailable(self._unreachable(e)) from None
        return self.db

    def _unreachable(self, e: Exception) -> str:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return (f"Không kết nối được danh mục PostgreSQL tại {self.location}: {reason}. Hãy kiểm tra máy chủ "
                "PostgreSQL đang chạy, địa chỉ, tên cơ sở dữ liệu và quyền truy cập (--catalog).")

    def close(self) -> None:
        with self._lock:
            if self.db is not None:
                self.db.close()

    def _execute(self, sql: str, args=()) -> list[dict]:
        with self._lock:
            for attempt in (0, 1):
                try:
                    cur = self._connection().execute(sql, list(args) or None)
                    return cur.fetchall() if cur.description else []
                except self._pg.errors.UndefinedTable:  # a database opened before its first write
                    raise Unavailable(f"Danh mục {self.location} chưa được dựng: hãy chạy 'python -m ingest' "
                                      "trước.") from None
                except self._pg.OperationalError as e:
                    if attempt or self._in_tx or not self.db.broken:
                        raise Unavailable(self._unreachable(e)) from None

    def _executemany(self, sql: str, rows) -> None:
        with self._lock:
            try:
                self._connection().cursor().executemany(sql, list(rows))
            except self._pg.OperationalError as e:
                raise Unavailable(self._unreachable(e)) from None

    @contextmanager
    def _transaction(self):
        """One transaction; nested calls become savepoints of the outer one."""
        with self._lock:
            self._in_tx += 1
            try:
                with self._connection().transaction():
                    yield
            except self._pg.OperationalError as e:
                raise Unavailable(self._unreachable(e)) from None
            finally:
                self._in_tx -= 1
