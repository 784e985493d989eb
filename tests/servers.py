"""Real servers for the distributed tests and benches: PostgreSQL, Milvus Lite, a Ray head.

Each listens on 127.0.0.1 only, on a free port, keeps its data in a temporary folder, and is stopped
by its own PID (and that PID's process group, for Ray's daemons). Used by tests/conftest.py fixtures
and by ``python -m bench.servers``.
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["free_port", "tree_rss_mb", "ServerError", "PostgresServer", "MilvusLiteServer", "RayHead"]


class ServerError(RuntimeError):
    """A test server did not start; the message carries its log tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
    return kids


def _tree(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _pgroup(pgid: int) -> list[int]:
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2:].split()[2]) == pgid:
            out.append(int(stat.split("/")[2]))
    return out


def tree_rss_mb(pid: int, group: bool = False) -> float:
    """Resident memory of a process and its descendants (or its whole process group), in MiB."""
    total = 0
    for p in set(_tree(pid)) | (set(_pgroup(pid)) if group else set()):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class _Process:
    """A server process we started, in its own process group, with its log in ``root``."""
    name = "server"
    stop_signal = signal.SIGTERM
    stop_grace = 20.0   # seconds our PID gets to exit after stop_signal
    group_grace = 3.0   # seconds what it started gets to follow it before SIGKILL (throw-away test servers)

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.root: Path | None = None
        self.started_s = 0.0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _spawn(self, argv: list[str], env: dict | None = None, **kw) -> None:
        self.log = open(self.root / f"{self.name}.log", "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True, **kw)

    def _wait(self, ready, timeout: float) -> None:
        t0 = time.monotonic()
        while not ready():
            if self.proc.poll() is not None or time.monotonic() - t0 > timeout:
                tail = (self.root / f"{self.name}.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise ServerError(f"{self.name} did not start within {timeout:.0f} s:\n{tail}")
            time.sleep(0.1)

    def stop(self, timeout: float | None = None) -> None:
        """Signal our PID, wait, then kill what is left of its process group (ours: start_new_session)."""
        timeout = self.stop_grace if timeout is None else timeout
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, self.stop_signal)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc is not None:
            deadline = time.monotonic() + min(timeout, self.group_grace)
            while (left := _pgroup(self.proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.1)
            for p in _pgroup(self.proc.pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.log.close()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def postgres_bindir() -> Path:
    """Debian's PostgreSQL (apt-get install postgresql); the newest major version installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    if exe := shutil.which("postgres"):
        return Path(exe).resolve().parent
    raise ServerError("PostgreSQL server not found: apt-get install postgresql (make install-test does it)")


class PostgresServer(_Process):
    """A throw-away PostgreSQL cluster: initdb into a temporary folder, trust auth on 127.0.0.1 only.

    As root (CI, containers) the server runs as the ``postgres`` user, which postgres insists on."""
    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown

    def __init__(self, user: str = "vanban") -> None:
        super().__init__()
        self.user = user
        self.port = 0

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 60.0) -> "PostgresServer":
        t0 = time.monotonic()
        bindir = postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="vanban-pg-"))
        as_user: dict = {}
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            as_user = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        data = self.root / "data"
        r = subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", self.user, "--auth=trust",
                            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], capture_output=True, text=True, **as_user)
        if r.returncode:
            shutil.rmtree(self.root, ignore_errors=True)
            raise ServerError(f"initdb failed:\n{r.stderr[-2000:]}")
        self.port = free_port()
        # No Unix socket (-k ''), TCP on loopback only; durability off: the cluster dies with the session.
        self._spawn([str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port), "-k", "",
                     "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                     "-c", "shared_buffers=32MB", "-c", "max_connections=50"], **as_user)
        self._wait(self._ready, timeout)
        self.started_s = time.monotonic() - t0
        return self

    def _ready(self) -> bool:
        if not _port_open(self.port):
            return False
        import psycopg
        try:
            psycopg.connect(self.dsn, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:  # "the database system is starting up"
            return False

    def create_database(self, name: str) -> str:
        """A fresh database on this server; returns its DSN."""
        import psycopg
        from psycopg import sql
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn.rsplit("/", 1)[0] + "/" + name


class MilvusLiteServer(_Process):
    """``milvus-lite server`` (the pure-Python Milvus Lite behind a gRPC port), reached as http://127.0.0.1:PORT."""
    name = "milvus-lite"
    stop_signal = signal.SIGINT  # KeyboardInterrupt: drains requests, closes the data directory
    stop_grace = 5.0             # with clients still connected it can wait 20 s; the data is thrown away

    def __init__(self) -> None:
        super().__init__()
        self.port = 0

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "MilvusLiteServer":
        t0 = time.monotonic()
        self.root = Path(tempfile.mkdtemp(prefix="vanban-milvus-"))
        self.port = free_port()
        self._spawn([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(self.root / "data"),
                     "--host", "127.0.0.1", "--port", str(self.port), "--max-workers", "4"])
        self._wait(lambda: _port_open(self.port), timeout)
        self.started_s = time.monotonic() - t0
        return self


class RayHead(_Process):
    """A one-node Ray cluster (``ray start --head --block``) on 127.0.0.1, no dashboard.

    Ray on Linux advertises the machine's outward address even when told 127.0.0.1
    (``services.resolve_ip_for_localhost``) unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``; and a new
    local cluster turns token auth on and writes ~/.ray/auth_token. Here the token is a fresh one
    passed in the environment: ``env`` must be set in every driver that connects (``address``)."""
    name = "ray"
    stop_grace = 5.0  # `ray start --block` with a driver's workers attached does not exit on SIGTERM in 20 s

    def __init__(self, num_cpus: int = 1, object_store_mb: int = 128) -> None:
        super().__init__()
        self.num_cpus = num_cpus
        self.object_store_mb = object_store_mb
        self.port = 0
        self.env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token",
                    "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0"}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> "RayHead":
        t0 = time.monotonic()
        self.root = Path(tempfile.mkdtemp(prefix="vanban-ray-"))
        self.port = free_port()
        ray = Path(sys.executable).with_name("ray")
        argv = [str(ray) if ray.exists() else "ray", "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                "--port", str(self.port), "--num-cpus", str(self.num_cpus), "--num-gpus", "0",
                "--include-dashboard", "false", "--disable-usage-stats",
                "--object-store-memory", str(self.object_store_mb * 1024 * 1024), "--temp-dir", str(self.root / "t")]
        self._spawn(argv, env={**os.environ, **self.env})
        self._wait(self._ready, timeout)
        self.started_s = time.monotonic() - t0
        return self

    def _ready(self) -> bool:
        # ray start prints this once the GCS, raylet and agents are up
        return _port_open(self.port) and b"Ray runtime started" in (self.root / f"{self.name}.log").read_bytes()
