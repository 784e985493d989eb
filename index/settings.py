"""Every setting in one table: name, environment variable, default, help. Read once.

    from index.settings import settings
    settings().index_dir

An environment variable starting with ``VANBAN_`` that is not in the table is an error that names
it (a typo must not silently fall back to a default).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import InvalidInput

__all__ = ["Setting", "SETTINGS", "Settings", "load_settings", "settings"]

PREFIX = "VANBAN_"


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    choices: tuple[str, ...] | None = None
    minimum: int | None = None

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("index_dir", ".index", "thư mục chỉ mục"),
    Setting("corpus_dir", "corpus", "thư mục văn bản mà ứng dụng nạp ở lần chạy đầu và khi cập nhật"),
    Setting("upload_dir", "", "nơi lưu tệp tải lên (mặc định <thư mục chỉ mục>/uploads)"),
    Setting("anonymous", "public", "khách chưa đăng nhập: public (tra cứu văn bản công khai) hoặc none (phải đăng nhập)",
            choices=("public", "none")),
    Setting("max_query_chars", 1000, "độ dài tối đa của câu hỏi (ký tự)", minimum=1),
    Setting("max_k", 100, "số kết quả tối đa mỗi lần tìm", minimum=1),
    Setting("max_upload_mb", 50, "dung lượng tối đa mỗi tệp tải lên (MB)", minimum=1),
    Setting("max_upload_files", 20, "số tệp tối đa mỗi lần tải lên", minimum=1),
    Setting("rate_per_second", 20, "số yêu cầu API tối đa mỗi giây cho mỗi người dùng (hoặc mỗi địa chỉ khi chưa đăng nhập)",
            minimum=1),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    index_dir: str
    corpus_dir: str
    upload_dir: str
    anonymous: str
    max_query_chars: int
    max_k: int
    max_upload_mb: int
    max_upload_files: int
    rate_per_second: int

    @property
    def uploads(self) -> Path:
        return Path(self.upload_dir) if self.upload_dir else Path(self.index_dir) / "uploads"

    def replace(self, **changes) -> "Settings":
        unknown = set(changes) - set(_BY_NAME)
        if unknown:
            raise InvalidInput(f"Không có thiết lập “{sorted(unknown)[0]}”; các thiết lập: {', '.join(_BY_NAME)}.")
        return Settings(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})


def _value(s: Setting, raw: str):
    if isinstance(s.default, int):
        try:
            v = int(raw)
        except ValueError:
            raise InvalidInput(f"{s.env}=“{raw}” không phải số nguyên.", field=s.env) from None
        if s.minimum is not None and v < s.minimum:
            raise InvalidInput(f"{s.env}={v} phải từ {s.minimum} trở lên.", field=s.env)
        return v
    if s.choices and raw not in s.choices:
        raise InvalidInput(f"{s.env}=“{raw}” không hợp lệ; chọn một trong: {', '.join(s.choices)}.", field=s.env)
    return raw


def load_settings(environ: dict | None = None) -> Settings:
    """Settings from an environment (``os.environ`` by default); unknown VANBAN_ variables raise."""
    environ = os.environ if environ is None else environ
    known = {s.env for s in SETTINGS}
    unknown = sorted(k for k in environ if k.startswith(PREFIX) and k not in known)
    if unknown:
        raise InvalidInput(f"Biến môi trường không được hỗ trợ: {unknown[0]}. Các biến hợp lệ: {', '.join(sorted(known))}.",
                           field=unknown[0])
    values = {s.name: _value(s, environ[s.env]) if s.env in environ else s.default for s in SETTINGS}
    return Settings(**values)


def settings() -> Settings:
    """The process's settings, read from the environment once (again only if the VANBAN_ variables change)."""
    return _settings(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX))))


@functools.lru_cache(maxsize=8)
def _settings(snapshot: tuple) -> Settings:
    return load_settings(dict(snapshot))
