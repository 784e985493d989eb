"""Which engines an index directory uses, recorded in it so every front end opens it by the folder alone.

``deployment.json`` (absent = the local default)::

    {"catalog": "sqlite" | "postgresql://user@host/db", "engine": "local" | "milvus",
     "milvus_uri": "http://127.0.0.1:19530" | "/path/milvus.db", "milvus_prefix": "vanban"}

An ingest records it once its engines hold a complete generation, so readers never follow it to a
half-built index; a later ingest asking for other engines is refused unless it rebuilds
(``check_change``), and the old index serves until the new one is complete. Keep passwords
out of the catalogue URI (``~/.pgpass`` or ``PGPASSWORD``): the file is written readable by its owner
only, and messages show URIs without them (``redact_uri``).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .errors import InvalidInput, Unavailable

__all__ = ["Deployment", "ENGINES", "redact_uri"]

ENGINES = ("local", "milvus")
FILE = "deployment.json"
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")


def redact_uri(uri: str) -> str:
    """A URI without its password (userinfo or ``password=`` parameter), for messages."""
    parts = urlsplit(uri)
    user, at, host = parts.netloc.rpartition("@")
    netloc = f"{user.split(':', 1)[0]}:***@{host}" if at and ":" in user else parts.netloc
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


@dataclass(frozen=True)
class Deployment:
    catalog: str = "sqlite"
    engine: str = "local"
    milvus_uri: str | None = None
    milvus_prefix: str = "vanban"  # collection names: several deployments can share one Milvus

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise InvalidInput(f"Máy tìm kiếm “{self.engine}” không được hỗ trợ; chọn một trong: {', '.join(ENGINES)}.",
                               field="backend")
        if self.engine == "milvus" and not self.milvus_uri:
            raise InvalidInput("--backend milvus cần --milvus-uri (ví dụ http://127.0.0.1:19530 hoặc tệp milvus.db).",
                               field="milvus_uri")
        if self.engine != "milvus" and self.milvus_uri:
            raise InvalidInput("--milvus-uri chỉ dùng với --backend milvus.", field="milvus_uri")
        if not _PREFIX.fullmatch(self.milvus_prefix):
            raise InvalidInput(f"Tiền tố Milvus “{self.milvus_prefix}” không hợp lệ: chỉ chữ cái Latin, chữ số và "
                               "'_', bắt đầu bằng chữ cái, tối đa 41 ký tự.", field="milvus_prefix")
        if self.catalog != "sqlite" and not self.catalog.startswith(("postgresql://", "postgres://")):
            raise InvalidInput(f"Danh mục “{redact_uri(self.catalog)}” không hợp lệ: dùng sqlite hoặc một địa chỉ "
                               "postgresql://…", field="catalog")
        from .passage_search.milvus import is_file_uri
        if self.milvus_uri and is_file_uri(self.milvus_uri):  # a Milvus Lite file: the same from any cwd
            object.__setattr__(self, "milvus_uri", str(Path(self.milvus_uri).expanduser().resolve()))

    @property
    def is_local(self) -> bool:
        return self.catalog == "sqlite" and self.engine == "local"

    def describe(self) -> str:
        """In words, for messages (no password)."""
        engine = f"Milvus tại {self.milvus_uri} (tiền tố {self.milvus_prefix})" if self.engine == "milvus" \
            else "FAISS + bm25s cục bộ"
        catalog = "SQLite trong thư mục" if self.catalog == "sqlite" else f"PostgreSQL {redact_uri(self.catalog)}"
        return f"danh mục {catalog}, tìm kiếm {engine}"

    @classmethod
    def load(cls, index_dir: str | Path) -> "Deployment":
        path = Path(index_dir) / FILE
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            known = {f.name for f in fields(cls)}
            if not isinstance(data, dict) or set(data) - known:
                raise ValueError(f"trường lạ {sorted(set(data) - known) if isinstance(data, dict) else data!r}")
        except ValueError as e:  # JSONDecodeError included
            raise Unavailable(f"Tệp cấu hình triển khai {path} hỏng ({e}); hãy sửa hoặc xoá nó rồi nạp lại.",
                              field=str(path)) from None
        return cls(**data)

    @classmethod
    def recorded(cls, index_dir: str | Path) -> "Deployment | None":
        """The deployment a directory's index uses; None while it has none (nothing was ever searchable)."""
        d = Path(index_dir)
        if (d / FILE).exists():
            return cls.load(d)
        return cls() if (d / "CURRENT").exists() else None  # a local generation (index.passage_search.local)

    def check_change(self, index_dir: str | Path, rebuild: bool) -> None:
        """An ingest may use other engines than the directory's only when it rebuilds everything."""
        recorded = self.recorded(index_dir)
        if recorded is not None and recorded != self and not rebuild:
            raise InvalidInput(
                f"Thư mục chỉ mục {index_dir} đang dùng {recorded.describe()}; lần nạp này yêu cầu {self.describe()}. "
                "Đổi cấu hình triển khai phải dựng lại toàn bộ chỉ mục: thêm --rebuild (chỉ mục cũ vẫn phục vụ tới khi "
                "chỉ mục mới dựng xong), hoặc bỏ --backend/--catalog/--milvus-uri để dùng cấu hình đã ghi.",
                field="deployment")

    def save(self, index_dir: str | Path) -> None:
        path = Path(index_dir) / FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the URI may carry a password
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(self), ensure_ascii=False, indent=1))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
