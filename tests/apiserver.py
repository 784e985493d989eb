"""The REST API as a real server: ``python -m index serve`` (uvicorn) on 127.0.0.1, on a free port,
stopped by its own PID (and its process group: the workers). Used by tests/conftest.py and bench/load.py."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from servers import _Process, free_port

__all__ = ["ApiServer"]

REPO = Path(__file__).resolve().parents[1]


class ApiServer(_Process):
    name = "api"
    stop_grace = 5.0  # uvicorn waits for its clients' kept-alive connections; the tests' data is thrown away

    def __init__(self, index_dir: str | Path, env: dict | None = None, workers: int = 1) -> None:
        super().__init__()
        self.index_dir = Path(index_dir)
        self.env = dict(env or {})
        self.workers = workers
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> "ApiServer":
        t0 = time.monotonic()
        self.root = Path(tempfile.mkdtemp(prefix="vanban-api-"))
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VANBAN_")}
        env.update({"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}, **self.env)
        self._spawn([sys.executable, "-m", "index", "serve", "--index-dir", str(self.index_dir), "--host", "127.0.0.1",
                     "--port", str(self.port), "--workers", str(self.workers)], env=env, cwd=str(REPO))
        try:
            self._wait(self._ready, timeout)
        except BaseException:   # interrupted while waiting: the server must not outlive us
            self.stop()
            raise
        self.started_s = time.monotonic() - t0
        return self

    def _ready(self) -> bool:
        # every worker has loaded the model and the index (uvicorn logs each one's start-up)
        if self.log_text().count("Application startup complete.") < self.workers:
            return False
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                return json.load(r).get("status") == "ok"
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def log_text(self) -> str:
        return (self.root / f"{self.name}.log").read_text(errors="replace") if self.root else ""
