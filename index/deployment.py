"""Which engines an index directory uses, recorded in it so every front end opens it by the folder alone.

``deployment.json`` (absent = the local default)::

    {"catalog": "sqlite" | "postgresql://user@host/db", "engine": "local" | "milvus",
     "milvus_uri": "http://127.0.0.1:19530" | "/path/milvus.db"}
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import InvalidInput

__all__ = ["Deployment", "ENGINES"]

ENGINES = ("local", "milvus")
FILE = "deployment.json"


@dataclass(frozen=True)
class Deployment:
    catalog: str = "sqlite"
    engine: str = "local"
    milvus_uri: str | None = None

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise InvalidInput(f"Máy tìm kiếm “{self.engine}” không được hỗ trợ; chọn một trong: {', '.join(ENGINES)}.",
                               field="backend")
        if self.engine == "milvus" and not self.milvus_uri:
            raise InvalidInput("--backend milvus cần --milvus-uri (ví dụ http://127.0.0.1:19530 hoặc tệp milvus.db).",
                               field="milvus_uri")
        if self.catalog != "sqlite" and not self.catalog.startswith(("postgresql://", "postgres://")):
            raise InvalidInput(f"Danh mục “{self.catalog}” không hợp lệ: dùng sqlite hoặc một địa chỉ postgresql://…",
                               field="catalog")

    @property
    def is_local(self) -> bool:
        return self.catalog == "sqlite" and self.engine == "local"

    @classmethod
    def load(cls, index_dir: str | Path) -> "Deployment":
        path = Path(index_dir) / FILE
        if not path.exists():
            return cls()
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, index_dir: str | Path) -> None:
        path = Path(index_dir) / FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
