"""The access rule on every route, for every kind of caller, through every front end.

A real index (the sample corpus, public, plus two documents of group "noi-chinh": conftest.RESTRICTED)
is read by anonymous, a reader outside the group, a reader in it and an administrator, through the
library, the command line (``python -m index ... --as NAME | --anonymous``, where it has the route)
and the REST API served by a real uvicorn process. Outside the group, no answer or export holds a
restricted document's number, title, words or file name; a restricted document asked for by id is a
404 identical to a missing one; a restricted citing document is neither listed nor counted.
"""
from __future__ import annotations

import json

import httpx
import pytest

from index import research as R
from index.errors import VanbanError

CALLERS = ["anonymous", "outsider", "insider", "admin"]
SEES = {"anonymous": False, "outsider": False, "insider": True, "admin": True}
MISSING_ID = 987654

# route -> the front ends that have it
ROUTES = {
    "search": ("library", "cli", "api"),
    "ask": ("library", "cli", "api"),
    "cites": ("library", "cli", "api"),
    "documents": ("library", "cli", "api"),
    "document-restricted": ("library", "api"),
    "document-public": ("library", "api"),
    "document-by-number": ("library", "cli"),
    "graph": ("library", "cli", "api"),
    "graph-graphml": ("library", "cli", "api"),
    "graph-csv": ("library", "cli", "api"),
    "tasks": ("library", "cli", "api"),
    "tasks-csv": ("library", "cli", "api"),
    "tasks-ics": ("library", "cli", "api"),
    "similar": ("library", "cli"),
    "compare": ("library", "cli"),
    "stats": ("library", "cli"),
    "facets": ("library",),
    "passages": ("library",),
}
CASES = [(route, front) for route, fronts in ROUTES.items() for front in fronts]

ASK = "Ai được giao kiểm kê trữ lượng thạch anh tím?"
# one theme (the default list takes long to assign and proves nothing more about access)
THEMES = [{"name": "Khoáng sản", "description": "quản lý, bảo vệ và khai thác khoáng sản", "cues": ["thạch anh"]}]
# a restricted document asked for by id or number -> (the same request for one that does not exist,
# the restricted id or number, the missing one)
MISSING = {"document-restricted": ("document-missing", lambda ix: str(ix.restricted["77/KH-UBND"]), str(MISSING_ID)),
           "document-by-number": ("number-missing", lambda ix: "77/KH-UBND", "78/KH-UBND")}


def _text(result) -> str:
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


def call_library(ix, caller: str, route: str) -> tuple[int, str]:
    lib, who = ix.library, ix.principals[caller]
    r1, r2 = ix.restricted["77/KH-UBND"], ix.restricted["9999/UBND-KGVX"]
    try:
        if route == "search":
            out = lib.search(who, "thạch anh tím", k=10)
        elif route == "ask":
            out = lib.ask(who, ASK)
        elif route == "cites":
            out = lib.cites(who, "CT 16")
        elif route == "documents":
            out = lib.documents(who)
        elif route == "document-restricted":
            out = lib.document(who, r1)
        elif route == "document-missing":
            out = lib.document(who, MISSING_ID)
        elif route == "document-public":
            out = lib.document(who, ix.public["5500/UBND-KGVX"])
        elif route == "document-by-number":
            out = lib.document_by_number(who, "77/KH-UBND")
        elif route == "number-missing":
            out = lib.document_by_number(who, "78/KH-UBND")
        elif route.startswith("graph"):
            g = lib.graph(who)
            out = {"graph": R.graph_json, "graph-graphml": R.graph_graphml, "graph-csv": R.graph_csv}[route](g)
        elif route.startswith("tasks"):
            items = lib.tasks(who)
            out = {"tasks": lambda t: {"tasks": t}, "tasks-csv": R.tasks_csv, "tasks-ics": R.tasks_ics}[route](items)
        elif route == "similar":
            out = lib.similar(who, ix.public["1225/UBND-NC"], k=10)
        elif route == "compare":
            out = lib.compare(who, provinces=["Quảng Trị", "Đắk Lắk"], themes=THEMES)
        elif route == "stats":
            out = lib.stats(who)
        elif route == "facets":
            out = lib.facets(who)
        elif route == "passages":
            ids = [p["passage_id"] for d in (r1, r2) for p in lib.document(ix.principals["admin"], d)["passages"]]
            out = {"passages": lib.passages(who, ids)}
        else:
            raise AssertionError(route)
    except VanbanError as e:
        return e.http_status, e.message
    return 200, _text(out)


CLI_ARGS = {
    "search": ["search", "thạch anh tím", "--k", "10"],
    "ask": ["ask", ASK],
    "cites": ["cites", "CT 16"],
    "documents": ["docs"],
    "document-by-number": ["similar", "77/KH-UBND"],
    "number-missing": ["similar", "78/KH-UBND"],
    "graph": ["graph"],
    "graph-graphml": ["graph", "--format", "graphml"],
    "graph-csv": ["graph", "--format", "csv"],
    "tasks": ["tasks"],
    "tasks-csv": ["tasks", "--format", "csv"],
    "tasks-ics": ["tasks", "--format", "ics"],
    "similar": ["similar", "1225/UBND-NC", "--k", "10"],
    "compare": ["compare", "--province", "Quảng Trị", "--province", "Đắk Lắk", "--themes", "{themes}"],
    "stats": ["stats"],
}


def call_cli(ix, caller: str, route: str, capsys) -> tuple[int, str]:
    """``python -m index ROUTE --json`` in this process (its library is the session's), as the caller."""
    from index.__main__ import main
    capsys.readouterr()
    who = ["--anonymous"] if caller == "anonymous" else ["--as", caller]
    themes = ix.dir.parent / "themes.json"
    if not themes.exists():
        themes.write_text(json.dumps({"themes": THEMES}, ensure_ascii=False), encoding="utf-8")
    args = [a.format(themes=themes) for a in CLI_ARGS[route]]
    code = main(args + ["--index-dir", str(ix.dir), "--json"] + who)
    out = capsys.readouterr()
    return code, out.out + out.err


API_ROUTES = {
    "search": ("/api/search", {"q": "thạch anh tím", "k": 10}),
    "ask": ("/api/ask", {"q": ASK}),
    "cites": ("/api/cites", {"ref": "CT 16"}),
    "documents": ("/api/documents", {"limit": 1000}),
    "graph": ("/api/graph", {}),
    "graph-graphml": ("/api/graph", {"format": "graphml"}),
    "graph-csv": ("/api/graph", {"format": "csv"}),
    "tasks": ("/api/tasks", {}),
    "tasks-csv": ("/api/tasks", {"format": "csv"}),
    "tasks-ics": ("/api/tasks", {"format": "ics"}),
}


def call_api(ix, server, caller: str, route: str) -> tuple[int, str]:
    if route == "document-restricted":
        path, params = f"/api/documents/{ix.restricted['77/KH-UBND']}", {}
    elif route == "document-missing":
        path, params = f"/api/documents/{MISSING_ID}", {}
    elif route == "document-public":
        path, params = f"/api/documents/{ix.public['5500/UBND-KGVX']}", {}
    else:
        path, params = API_ROUTES[route]
    token = ix.tokens[caller]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.get(server.url + path, params=params, headers=headers, timeout=120)
    return r.status_code, r.text


@pytest.fixture
def call(request, access_index):
    """call(front, caller, route) -> (status or exit code, body text)."""
    def go(front: str, caller: str, route: str):
        if front == "library":
            return call_library(access_index, caller, route)
        if front == "cli":
            return call_cli(access_index, caller, route, request.getfixturevalue("capsys"))
        return call_api(access_index, request.getfixturevalue("api_server"), caller, route)
    return go


def _ok(front: str) -> int:
    return 0 if front == "cli" else 200


# -- the matrix -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route, front", CASES)
def test_restricted_documents_reach_only_their_group_and_administrators(call, access_index, route, front, caller):
    status, body = call(front, caller, route)
    leaked = [s for s in access_index.secrets if s in body]
    if route in MISSING and not SEES[caller]:
        # not found, word for word as for a document that does not exist
        other, secret, missing = MISSING[route]
        status2, body2 = call(front, caller, other)
        secret = secret(access_index)
        assert status == status2 == (0 if front == "cli" else 404)
        assert body.replace(secret, "N") == body2.replace(missing, "N")
        return
    assert status == _ok(front), body[:500]
    if not SEES[caller]:
        assert leaked == [], f"{front} {route} shows {leaked} to {caller}"
    elif route not in ("stats", "facets"):
        assert leaked, f"{front} {route} hides the restricted documents from {caller}"


@pytest.mark.parametrize("front", ["library", "cli", "api"])
def test_a_restricted_citing_document_is_neither_listed_nor_counted(call, front):
    counts = {}
    for caller in CALLERS:
        status, body = call(front, caller, "cites")
        assert status == _ok(front)
        out = json.loads(body)
        (cand,) = out["candidates"]
        counts[caller] = (cand["n_documents"], len(out["documents"]), out["answer"].split(" văn bản")[0])
    assert counts["anonymous"] == counts["outsider"] == (2, 2, "2")
    assert counts["insider"] == counts["admin"] == (3, 3, "3")


@pytest.mark.parametrize("front", ["library", "cli"])
def test_counts_and_facets_leave_out_what_the_caller_cannot_see(access_index, front, call):
    docs = {c: json.loads(call(front, c, "stats")[1])["documents"] for c in CALLERS}
    assert docs["anonymous"] == docs["outsider"] == docs["insider"] - 2
    assert docs["admin"] >= docs["insider"]
    years = {c: access_index.library.facets(access_index.principals[c])["year"] for c in CALLERS}
    assert 2023 not in years["anonymous"] and 2023 not in years["outsider"]   # only the restricted plan is of 2023
    assert 2023 in years["insider"] and 2023 in years["admin"]


def test_server_paths_are_for_administrators_only(access_index, api_server):
    lib, P = access_index.library, access_index.principals
    admin_docs = lib.documents(P["admin"])["documents"]
    assert all(d["path"].startswith("/") for d in admin_docs)
    for caller in ("anonymous", "outsider", "insider"):
        for d in lib.documents(P[caller])["documents"]:
            assert "/" not in d["path"] and all("/" not in p for p in d["paths"])
        assert "index_dir" not in lib.stats(P[caller])
        hits = lib.search(P[caller], "dân vận", k=5)["results"]
        assert hits and all("/" not in h["document"]["path"] for h in hits)
    assert lib.stats(P["admin"])["index_dir"] == str(access_index.dir)
    r = httpx.get(api_server.url + f"/api/documents/{access_index.public['5500/UBND-KGVX']}")
    assert r.json()["document"]["path"] == "daklak_5500-UBND-KGVX_2017.txt"
    assert str(access_index.dir.parent) not in httpx.get(api_server.url + "/api/documents").text


# -- writes: administrators only --------------------------------------------------------------------------

EXPECTED_WRITE = {"anonymous": 401, "outsider": 403, "insider": 403, "admin": 200}


@pytest.mark.parametrize("caller", CALLERS)
def test_only_administrators_ingest_through_the_library(access_index, caller, tmp_path):
    from conftest import RESTRICTED
    name = "noibo_77-KH-UBND_2023.txt"
    (tmp_path / name).write_text(RESTRICTED[name], encoding="utf-8")   # the same text: changes no document
    before = access_index.library.documents(access_index.principals["admin"])
    try:
        report = access_index.library.ingest(access_index.principals[caller], [tmp_path], group=access_index.group)
        status = 200
    except VanbanError as e:
        status = e.http_status
    assert status == EXPECTED_WRITE[caller]
    if status == 200:
        assert report.duplicates and not report.failed
    after = access_index.library.documents(access_index.principals["admin"])
    assert [d["id"] for d in after["documents"]] == [d["id"] for d in before["documents"]]


@pytest.mark.parametrize("caller", CALLERS)
def test_only_administrators_ingest_through_the_api(access_index, api_server, caller):
    from conftest import RESTRICTED
    name = "noibo_9999-UBND-KGVX_2019.txt"
    token = access_index.tokens[caller]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.post(api_server.url + "/api/ingest", headers=headers, data={"group": access_index.group},
                   files=[("files", (name, RESTRICTED[name].encode("utf-8"), "text/plain"))], timeout=300)
    assert r.status_code == EXPECTED_WRITE[caller], r.text
    if r.status_code == 200:
        assert r.json()["duplicates"] and not r.json()["failed"]
    else:
        assert not (access_index.uploads / name).exists() or caller == "admin"
        assert r.json()["detail"] in ("Cần đăng nhập bằng tài khoản quản trị để làm việc này.",
                                      "Chỉ quản trị viên được làm việc này.")


@pytest.mark.parametrize("caller", ["outsider", "insider"])
def test_readers_cannot_manage_accounts_or_read_the_audit(access_index, caller):
    lib, who = access_index.library, access_index.principals[caller]
    for act in (lambda: lib.users(who), lambda: lib.audit_log(who), lambda: lib.new_token(who, caller),
                lambda: lib.add_user(who, "moi", "admin"), lambda: lib.remove_user(who, "admin"),
                lambda: lib.upload(who, [("a.txt", b"x")]), lambda: lib.principal_of(who, "admin")):
        with pytest.raises(VanbanError) as e:
            act()
        assert e.value.http_status == 403


def test_ask_weighs_words_only_over_the_documents_the_caller_may_see(access_index):
    """The abstention evidence shown with an answer (IDF, words the index lacks) is computed over the
    caller's documents: a word only a restricted document holds is unknown to an outsider."""
    lib = access_index.library
    question = "Kế hoạch về tàu ngầm và mật danh?"
    for caller, lacks in (("anonymous", True), ("outsider", True), ("insider", False), ("admin", False)):
        r = lib.reader(access_index.principals[caller])
        n, df = r.engine.term_df(["ngầm"], r.passage_filter(None))
        assert (df["ngầm"] == 0) is lacks, caller
        assert n == len(r.catalog.live_passage_ids()), caller
        out = lib.ask(access_index.principals[caller], question)
        if lacks:  # nothing of the restricted documents but the caller's own words
            text = json.dumps({k: v for k, v in out.items() if k not in ("question", "query")}, ensure_ascii=False)
            assert not any(s in text for s in access_index.secrets), caller
            assert out["evidence"]["oov"] > 0 and out["answered"] is False, caller
