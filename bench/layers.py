"""The shape of the code: lines per module, which packages import which, and who touches the data directly.

    python -m bench.layers            # the working tree
    python -m bench.layers --rev 32b9b41   # a commit (read from git, nothing checked out)

"Direct data access" counts lines outside the library's data layers (index/catalog, index/passage_search,
index/build, the old index/store and index/generation) that reach the store, SQL, FAISS or BM25 themselves.
"""
from __future__ import annotations

import argparse
import ast
import re
import subprocess
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("app.py", "ui/", "api/", "index/", "ingest/", "vn/")
DATA_LAYER = ("index/catalog/", "index/passage_search/", "index/build.py", "index/store.py", "index/generation.py",
              "index/dense.py")
DIRECT = re.compile(r"\.store\.|\bstore\.db\b|\.db\.execute|\bsqlite3\b|\bfaiss\.|\bbm25s\.|\.generation\.(dense|lexical)")


def _files(rev: str | None) -> dict[str, str]:
    if rev is None:
        paths = [p for r in ROOTS for p in ([REPO / r] if r.endswith(".py") else (REPO / r).rglob("*.py"))
                 if p.exists()]
        return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in paths}
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    names = [n for n in names if n.endswith(".py") and n.startswith(ROOTS)]
    return {n: subprocess.run(["git", "show", f"{rev}:{n}"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout for n in names}


def _module(path: str) -> str:
    return path[:-3].replace("/", ".").removesuffix(".__init__")


def _imports(path: str, text: str) -> set[str]:
    package = _module(path).split(".")[:-1] if not path.endswith("__init__.py") else _module(path).split(".")
    out = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            out.add(".".join(base + ([node.module] if node.module else [])))
    return out


def _package(module: str) -> str:
    """Top-level package; the command lines (``python -m ingest|index``) count as front ends, "cli"."""
    return "cli" if module.endswith(".__main__") else module.split(".")[0]


def report(rev: str | None) -> str:
    files = _files(rev)
    lines = [f"{'module':<36} lines"]
    lines += [f"{p:<36} {t.count(chr(10))}" for p, t in sorted(files.items())]
    edges = Counter()
    ours = {_package(_module(p)) for p in files}
    for p, t in files.items():
        src = _package(_module(p))
        for m in _imports(p, t):
            dst = _package(m)
            if dst in ours and dst != src:
                edges[(src, dst)] += 1
    lines.append("\nimports between packages (from -> to):")
    lines += [f"  {a} -> {b}" for a, b in sorted(edges)]
    cycles = sorted({tuple(sorted((a, b))) for a, b in edges if (b, a) in edges})
    lines.append("cycles: " + (", ".join(f"{a} <-> {b}" for a, b in cycles) or "none"))
    direct = Counter(p for p, t in files.items() if not p.startswith(DATA_LAYER)
                     for line in t.splitlines() if DIRECT.search(line))
    lines.append(f"\ndirect data access outside the data layers: {sum(direct.values())} lines in {len(direct)} files")
    lines += [f"  {p}: {n}" for p, n in sorted(direct.items())]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.layers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rev", help="a git commit instead of the working tree")
    print(report(p.parse_args(argv).rev))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
