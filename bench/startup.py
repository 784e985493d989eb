"""Where a cold command's time goes: `python -m index search` run as a user runs it, and its stages.

    python -m bench.startup [--runs 3] [--index-dir DIR]

Each run is a fresh process (nothing warm but the OS file cache). The stages are timed in one more fresh
process: importing the library, opening the index, loading the embedder, the first segmentation by
underthesea, the first search. DIR defaults to an index of corpus/ built once under bench/cache/startup.
Prints the median wall time of the whole command and each stage's seconds; figures go to bench/out/startup.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERY = "phong trào thi đua Dân vận khéo"

_STAGES = r"""
import json, sys, time
t = time.perf_counter(); out = {}
def mark(name):
    global t
    now = time.perf_counter(); out[name] = round(now - t, 3); t = now
from index.access import ANYONE
from index.library import Library
mark("import index.library")
lib = Library(sys.argv[1])
mark("open the index")
lib.embedder.embed_query("khởi động")
mark("load the embedder")
from vn.words import segment_words
segment_words("khởi động bộ tách từ")
mark("first underthesea segmentation")
lib.search(ANYONE, sys.argv[2], k=10)
mark("first search")
print(json.dumps(out))
"""


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VANBAN_")}
    env["HF_HUB_OFFLINE"] = "1"
    return env


def default_index(log=print) -> Path:
    d = REPO / "bench" / "cache" / "startup" / "corpus-index"
    if not (d / "deployment.json").exists() and not any(d.glob("g*")):
        log(f"building an index of corpus/ in {d} (once)")
        subprocess.run([sys.executable, "-m", "ingest", str(REPO / "corpus"), "--index-dir", str(d), "--quiet"],
                       cwd=REPO, env=_env(), check=True)
    return d


def run(index_dir: Path, runs: int, log=print) -> dict:
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "index", "search", QUERY, "--index-dir", str(index_dir), "--k", "5"],
                       cwd=REPO, env=_env(), check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
    stages = subprocess.run([sys.executable, "-c", _STAGES, str(index_dir), QUERY], cwd=REPO, env=_env(),
                            check=True, capture_output=True, text=True)
    res = {"command": f"python -m index search {QUERY!r} --k 5", "runs": runs,
           "wall_median_s": round(statistics.median(walls), 2), "walls_s": [round(w, 2) for w in walls],
           "stages_s": json.loads(stages.stdout.strip().splitlines()[-1]),
           "load_average": os.getloadavg()[0]}
    log(f"cold `{res['command']}`: median {res['wall_median_s']} s over {runs} runs {res['walls_s']} "
        f"(1-min load {res['load_average']:.1f})")
    for name, s in res["stages_s"].items():
        log(f"  {name:<32} {s:6.2f} s")
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--index-dir", type=Path, default=None)
    args = p.parse_args(argv)
    res = run(args.index_dir or default_index(), args.runs)
    out = REPO / "bench" / "out" / "startup.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
