"""Executors: who does the per-file work of an ingest while one writer commits.

``create_executor("local")`` (the default: a plain loop in this process) or ``create_executor("ray")``
(Ray Data batches on a local Ray or the cluster at RAY_ADDRESS; ray is imported only then).
"""
from __future__ import annotations

from ..errors import InvalidInput
from .base import Executor, FileResult, FileTask, process_one
from .local import LocalExecutor

__all__ = ["EXECUTORS", "Executor", "FileResult", "FileTask", "LocalExecutor", "create_executor", "process_one"]

EXECUTORS = ("local", "ray")


def create_executor(name: str | Executor | None = None) -> Executor:
    """An executor by name (None: local); an Executor instance is returned as it is."""
    if isinstance(name, Executor):
        return name
    if name in (None, "local"):
        return LocalExecutor()
    if name == "ray":
        from .ray_data import RayExecutor
        return RayExecutor()
    raise InvalidInput(f"Bộ thực thi không hợp lệ: {name!r}. Các lựa chọn hợp lệ: {', '.join(EXECUTORS)}.",
                       field="--executor")
