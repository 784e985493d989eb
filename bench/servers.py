"""Start-up time and memory of the servers the distributed tests start, on this machine.

    python -m bench.servers [--repeat 2]

Each server is started as tests/servers.py starts it (127.0.0.1, temporary data, stopped by its PID);
"ready" is the first moment a client can use it, memory the resident set of its process tree once
ready. Milvus Lite embedded runs in the client's process: it is measured in a fresh interpreter as
the time and memory from ``import pymilvus`` to a usable ``MilvusClient("x.db")``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servers import MilvusLiteServer, PostgresServer, RayHead, tree_rss_mb  # noqa: E402

_EMBEDDED = """
import json, sys, time
t0 = time.monotonic()
from pymilvus import MilvusClient
t1 = time.monotonic()
c = MilvusClient(sys.argv[1])
c.list_collections()
t2 = time.monotonic()
rss = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS:')][0] / 1024
print(json.dumps({"import_s": t1 - t0, "ready_s": t2 - t0, "rss_mb": rss}))
"""


def _client_check(kind: str, server) -> float:
    """Seconds for a first real request once the port answers."""
    t0 = time.monotonic()
    if kind == "postgres":
        import psycopg
        with psycopg.connect(server.dsn) as c:
            c.execute("SELECT 1").fetchone()
    elif kind == "milvus-lite server":
        from pymilvus import MilvusClient
        c = MilvusClient(server.uri, timeout=30)
        c.list_collections()
        c.close()
    else:
        env = {**os.environ, **server.env}
        code = ("import ray; ray.init(address=%r, log_to_driver=False); "
                "print(ray.get(ray.remote(lambda: 1).remote())); ray.shutdown()" % server.address)
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=300)
    return time.monotonic() - t0


def measure(repeat: int) -> list[dict]:
    rows = []
    for kind, make in (("postgres", PostgresServer), ("milvus-lite server", MilvusLiteServer),
                       ("ray head", lambda: RayHead(num_cpus=1))):
        for _ in range(repeat):
            with make().start() as s:
                ready = s.started_s
                first = _client_check(kind, s)
                rss = tree_rss_mb(s.pid, group=True)
                pid = s.pid
            rows.append({"server": kind, "ready_s": round(ready, 2), "first_request_s": round(first, 2),
                         "rss_mb": round(rss), "left_running": _alive(pid)})
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run([sys.executable, "-c", _EMBEDDED, str(Path(d) / "x.db")],
                                 capture_output=True, text=True, check=True, timeout=300)
            r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append({"server": "milvus-lite embedded", "ready_s": round(r["ready_s"], 2),
                     "first_request_s": 0.0, "rss_mb": round(r["rss_mb"]), "left_running": 0})
    return rows


def _alive(pgid: int) -> int:
    from servers import _pgroup
    return len(_pgroup(pgid))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    rows = measure(args.repeat)
    print(f"{'server':<22}{'ready s':>9}{'1st req s':>11}{'RSS MiB':>9}{'left':>6}")
    for r in rows:
        print(f"{r['server']:<22}{r['ready_s']:>9.2f}{r['first_request_s']:>11.2f}{r['rss_mb']:>9}{r['left_running']:>6}")
    print(f"cores: {os.cpu_count()}, load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
