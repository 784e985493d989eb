"""The layering of the code, checked on its imports (AST, no execution).

vn/      Vietnamese language and domain code: imports nothing of ours
ingest/  understands documents: imports vn/ only (its __main__ is a front end)
index/   stores, searches, answers: imports ingest/ and vn/, no UI library
front ends (app.py, ui/, the two __main__s, api/): go through index.library, never the catalogue, the
passage-search engines, SQL, FAISS or BM25 directly
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UI_LIBRARIES = {"streamlit", "altair", "pandas", "fastapi", "uvicorn", "starlette"}
ENGINE_INTERNALS = {"sqlite3", "faiss", "bm25s", "psycopg", "pymilvus", "index.catalog", "index.passage_search",
                    "index.build"}


def _imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _files(*parts: str, exclude: tuple[str, ...] = ()) -> list[Path]:
    files = []
    for part in parts:
        p = REPO / part
        files += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return [f for f in files if f.name not in exclude]


def _offending(files: list[Path], forbidden) -> list[str]:
    bad = []
    for f in files:
        for mod in _imports(f):
            if any(mod == x or mod.startswith(x + ".") for x in forbidden):
                bad.append(f"{f.relative_to(REPO)} imports {mod}")
    return bad


def test_vn_imports_nothing_of_the_project():
    assert _offending(_files("vn"), {"ingest", "index", "ui", "api", "app"}) == []


def test_ingest_imports_nothing_from_index_or_the_front_ends():
    assert _offending(_files("ingest", exclude=("__main__.py",)), {"index", "ui", "api", "app"}) == []


def test_index_imports_no_ui_library_and_no_front_end():
    assert _offending(_files("index", exclude=("__main__.py",)), UI_LIBRARIES | {"ui", "api", "app"}) == []


@pytest.mark.parametrize("front", ["app.py", "ui", "api", "index/__main__.py", "ingest/__main__.py"])
def test_front_ends_reach_the_data_only_through_the_library(front):
    if not (REPO / front).exists():
        pytest.fail(f"{front} is missing")
    assert _offending(_files(front), ENGINE_INTERNALS) == []
