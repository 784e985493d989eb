"""The test servers themselves (tests/servers.py): they work, listen on loopback only, and stop cleanly."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from servers import PostgresServer, _pgroup

pytestmark = pytest.mark.distributed

_LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def listening(pgid: int) -> list[str]:
    """Local addresses (hex, as /proc/net shows them) of the TCP sockets listening in a process group."""
    inodes = set()
    for pid in _pgroup(pgid):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:  # LISTEN
                out.append(f[1])
    return out


def assert_loopback_only(pgid: int) -> None:
    addrs = listening(pgid)
    assert addrs, "no listening socket found"
    assert all(a.split(":")[0] in _LOOPBACK for a in addrs), addrs


def test_postgres_server_stores_vietnamese_text_and_listens_on_loopback_only(postgres_server):
    import psycopg

    dsn = postgres_server.create_database("servers_check")
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE t (province text)")
        conn.execute("INSERT INTO t VALUES (%s)", ("Đắk Lắk",))
        assert conn.execute("SELECT province FROM t").fetchone() == ("Đắk Lắk",)
    assert_loopback_only(postgres_server.pid)


def test_milvus_lite_server_listens_on_loopback_only(milvus_server):
    from pymilvus import MilvusClient

    client = MilvusClient(milvus_server.uri, timeout=30)
    assert str(client.get_server_version()).startswith("milvus_lite")
    client.close()
    assert_loopback_only(milvus_server.pid)


def test_ray_head_runs_tasks_from_this_process_on_loopback_only(ray_head):
    import ray

    ray.init(address=ray_head.address, log_to_driver=False)
    try:
        square = ray.remote(lambda x: x * x)
        assert ray.get([square.remote(i) for i in range(4)]) == [0, 1, 4, 9]
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    finally:
        ray.shutdown()
    assert_loopback_only(ray_head.pid)


def test_a_stopped_server_leaves_no_process_and_no_data():
    server = PostgresServer().start()
    pid, root = server.pid, server.root
    assert _pgroup(pid) and root.is_dir()
    server.stop()
    assert not _pgroup(pid) and not root.exists()
