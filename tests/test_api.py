"""api/: the REST API on a real uvicorn server (127.0.0.1) over the access index: the same JSON as the
command line, Vietnamese 4xx answers for every bad input, bearer tokens, upload limits, the ingest
route end to end. The rate limit and VANBAN_ANONYMOUS=none are settings of the process, checked on the
same application in this process (Starlette's TestClient over ASGI)."""
from __future__ import annotations

import json

import httpx
import pytest

from index.access import SYSTEM
from index.errors import Unauthorized
from vn.text import has_diacritics


def _get(server, path, token=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(server.url + path, params=params, headers=headers, timeout=120)


def test_health_and_the_openapi_schema_list_every_route(api_server):
    assert _get(api_server, "/healthz").json() == {"status": "ok"}
    schema = _get(api_server, "/openapi.json").json()
    assert set(schema["paths"]) == {"/healthz", "/api/search", "/api/ask", "/api/cites", "/api/documents",
                                    "/api/documents/{doc_id}", "/api/graph", "/api/tasks", "/api/ingest"}
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    body = schema["paths"]["/api/ingest"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["properties"]["files"]["items"]["format"] == "binary"


def test_the_api_answers_with_the_json_of_the_command_line(access_index, api_server, capsys):
    from index.__main__ import main
    admin = access_index.tokens["admin"]
    for path, params, argv in [
        ("/api/cites", {"ref": "CT 16"}, ["cites", "CT 16"]),
        ("/api/search", {"q": "dân vận khéo", "k": 3}, ["search", "dân vận khéo", "--k", "3"]),
        ("/api/ask", {"q": "Chỉ thị 16 về việc gì?"}, ["ask", "Chỉ thị 16 về việc gì?"]),
        ("/api/tasks", {"province": "dak lak"}, ["tasks", "--province", "dak lak"]),
    ]:
        capsys.readouterr()
        assert main(argv + ["--index-dir", str(access_index.dir), "--json", "--as", "admin"]) == 0
        assert _get(api_server, path, admin, **params).json() == json.loads(capsys.readouterr().out), path


def test_ask_says_whether_it_answered_and_the_schema_documents_it(access_index, api_server):
    """Issue 10: 'answered' in /api/ask as in the library and the command line; no answer = related passages."""
    admin = access_index.tokens["admin"]
    r = _get(api_server, "/api/ask", admin, q="xyzzy qwpl zzkrr blorft 9999").json()
    assert r["answered"] is False and r["passages"] == [] and r["related"]
    assert r["answer"] == "Không tìm thấy câu trả lời trong các văn bản đã nạp."
    assert _get(api_server, "/api/ask", admin, q="Văn bản nào trích dẫn Chỉ thị 16?").json()["answered"] is True
    schema = _get(api_server, "/openapi.json").json()
    ok = schema["paths"]["/api/ask"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    model = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]
    assert model["properties"]["answered"]["type"] == "boolean" and "answered" in model["required"]


BAD_INPUT = [  # path, params, the field the answer names
    ("/api/search", {"q": "dân vận", "k": "abc"}, "k"),
    ("/api/search", {"q": "dân vận", "k": 0}, "k"),
    ("/api/search", {"q": "dân vận", "k": -3}, "k"),
    ("/api/search", {"q": "dân vận", "k": 10 ** 30}, "k"),
    ("/api/search", {"q": "dân vận", "k": 101}, "k"),
    ("/api/search", {}, "q"),
    ("/api/search", {"q": "   "}, "query"),
    ("/api/search", {"q": "a" * 1001}, "query"),
    ("/api/search", {"q": "dân vận", "mode": "fuzzy"}, "mode"),
    ("/api/search", {"q": "dân vận", "year_from": 99999}, "year_from"),
    ("/api/search", {"q": "dân vận", "year_from": "2020", "year_to": "2019"}, "year_from"),
    ("/api/search", {"q": "dân vận", "year_to": "hai nghìn"}, "year_to"),
    ("/api/search", {"q": "dân vận", "province": "Atlantis"}, "province"),
    ("/api/ask", {"q": ""}, "question"),
    ("/api/ask", {"q": "dân vận", "k": 0}, "k"),
    ("/api/cites", {"ref": " "}, "reference"),
    ("/api/cites", {"ref": "CT 16", "year_to": 10 ** 20}, "year_to"),
    ("/api/documents", {"limit": 0}, "limit"),
    ("/api/documents", {"limit": 1001}, "limit"),
    ("/api/documents", {"offset": -1}, "offset"),
    ("/api/documents/abc", {}, "doc_id"),
    ("/api/graph", {"format": "pdf"}, "format"),
    ("/api/graph", {"reference": "???"}, "reference"),
    ("/api/graph", {"year_from": 1}, "year_from"),
    ("/api/tasks", {"format": "xlsx"}, "format"),
    ("/api/tasks", {"deadline_from": "30/10/2017"}, "deadline_from"),
    ("/api/tasks", {"with_deadline": "maybe"}, "with_deadline"),
]


@pytest.mark.parametrize("path, params, field", BAD_INPUT)
def test_bad_input_is_a_422_in_vietnamese_naming_the_field(api_server, path, params, field):
    r = _get(api_server, path, **params)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field
    assert has_diacritics(body["detail"]) and "Traceback" not in body["detail"]


def test_unknown_routes_and_methods_are_answered_in_vietnamese(api_server):
    r = _get(api_server, "/api/nothing")
    assert r.status_code == 404 and r.json()["detail"].startswith("Không có đường dẫn này")
    r = httpx.delete(api_server.url + "/api/documents")
    assert r.status_code == 405 and "DELETE" in r.json()["detail"]
    r = _get(api_server, "/api/documents/123456789012345678901234567890")
    assert r.status_code == 404 and r.json()["detail"].startswith("Không tìm thấy văn bản")


def test_a_bad_or_replaced_token_is_refused_never_read_as_anonymous(access_index, api_server):
    lib = access_index.library
    lib.add_user(SYSTEM, "tam-thoi", "reader", [access_index.group])
    old = lib.new_token(SYSTEM, "tam-thoi")
    assert _get(api_server, "/api/documents", old).status_code == 200
    new = lib.new_token(SYSTEM, "tam-thoi")
    for header in (f"Bearer {old}", "Bearer khong-co-ma-nay", "Basic dXNlcjpwYXNz", "Bearer", "Token abc"):
        r = httpx.get(api_server.url + "/api/documents", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.headers["www-authenticate"] == "Bearer" and has_diacritics(r.json()["detail"])
    assert _get(api_server, "/api/documents", new).status_code == 200
    lib.remove_user(SYSTEM, "tam-thoi")
    assert _get(api_server, "/api/documents", new).status_code == 401


# -- uploads --------------------------------------------------------------------------------------------

def _post(server, token, files, data=None, **kw):
    return httpx.post(server.url + "/api/ingest", headers={"Authorization": f"Bearer {token}"}, files=files,
                      data=data or {}, timeout=300, **kw)


def test_uploads_over_the_limits_are_refused_with_413_before_anything_is_written(access_index, api_server):
    admin, uploads = access_index.tokens["admin"], access_index.uploads
    before = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    many = [("files", (f"cv-{i}.txt", b"Cong van so 1", "text/plain")) for i in range(4)]      # limit: 3 files
    r = _post(api_server, admin, many)
    assert r.status_code == 413 and r.json()["field"] == "files" and "3 tệp" in r.json()["detail"]
    big = [("files", ("lon.txt", b"x" * (1024 * 1024 + 1), "text/plain"))]                       # limit: 1 MB
    r = _post(api_server, admin, big)
    assert r.status_code == 413 and r.json()["field"] == "lon.txt" and "1 MB" in r.json()["detail"]
    huge = [("files", ("rat-lon.txt", b"x" * (5 * 1024 * 1024), "text/plain"))]                  # over the body cap
    r = _post(api_server, admin, huge)
    assert r.status_code == 413

    def chunks():                                                                                  # no Content-Length
        yield b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\n"
        for _ in range(6):
            yield b"x" * (1024 * 1024)
        yield b"\r\n--b--\r\n"
    r = httpx.post(api_server.url + "/api/ingest", content=chunks(), timeout=300,
                   headers={"Authorization": f"Bearer {admin}", "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    after = sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []
    assert after == before


@pytest.mark.parametrize("kwargs, field", [
    ({"data": {"group": "nhóm/xấu"}, "files": [("files", ("a.txt", b"Cong van", "text/plain"))]}, "group"),
    ({"files": [("group", ("g.txt", b"x", "text/plain"))]}, "group"),
    ({"data": {"group": "noi-chinh"}}, "files"),
    ({"json": {"files": []}}, "files"),
])
def test_malformed_uploads_are_422(access_index, api_server, kwargs, field):
    r = httpx.post(api_server.url + "/api/ingest", headers={"Authorization": f"Bearer {access_index.tokens['admin']}"},
                   timeout=60, **kwargs)
    assert r.status_code == 422 and r.json()["field"] == field and has_diacritics(r.json()["detail"])


UPLOADED = """ỦY BAN NHÂN DÂN
TỈNH ĐẮK NÔNG

Số: 4242/UBND-NC
V/v khảo sát rạn san hô đen

Đắk Nông, ngày 2 tháng 3 năm 2024

1. Khảo sát rạn san hô đen ở hồ Tà Đùng, báo cáo trước ngày 30/4/2024.
"""


def test_an_administrator_uploads_a_document_that_becomes_searchable_for_its_group_only(access_index, api_server):
    admin = access_index.tokens["admin"]
    r = _post(api_server, admin, [("files", ("../../khảo sát/san-hô.txt", UPLOADED.encode("utf-8"), "text/plain"))],
              data={"group": "thu-nghiem"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert len(report["added"]) == 1 and not report["failed"]
    saved = access_index.uploads / "san-hô.txt"
    assert report["added"] == [str(saved.resolve())] and saved.read_text(encoding="utf-8") == UPLOADED
    hits = _get(api_server, "/api/search", admin, q="san hô đen", k=3).json()["results"]
    assert hits[0]["number"] == "4242/UBND-NC"
    for caller in ("anonymous", "outsider", "insider"):
        body = _get(api_server, "/api/search", access_index.tokens[caller], q="san hô đen", k=3).text
        assert "4242/UBND-NC" not in body and "Tà Đùng" not in body
    log = access_index.library.audit_log(SYSTEM, limit=5)
    assert [(a["actor"], a["action"]) for a in log[:2]] == [("admin", "ingest"), ("admin", "upload")]
    assert log[1]["detail"]["files"] == ["san-hô.txt"] and log[0]["detail"]["group"] == "thu-nghiem"


# -- process settings: the rate limit and anonymous access --------------------------------------------

@pytest.fixture
def local_client(access_index):
    """The same application in this process, over the session's library (settings read per request)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    with TestClient(create_app(access_index.library)) as client:
        yield client


def test_requests_over_the_rate_are_429_per_caller(access_index, local_client, monkeypatch):
    monkeypatch.setenv("VANBAN_RATE_PER_SECOND", "5")
    codes = [local_client.get("/api/documents", params={"limit": 1}).status_code for _ in range(12)]
    assert codes[:5] == [200] * 5 and 429 in codes
    r = local_client.get("/api/documents", params={"limit": 1})
    assert r.status_code == 429 and r.headers["retry-after"] == "1" and "5 yêu cầu mỗi giây" in r.json()["detail"]
    token = access_index.tokens["insider"]   # another caller has its own count
    assert local_client.get("/api/documents", params={"limit": 1},
                            headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_with_anonymous_none_every_read_needs_a_token(access_index, local_client, monkeypatch):
    monkeypatch.setenv("VANBAN_ANONYMOUS", "none")
    for path, params in [("/api/search", {"q": "dân vận"}), ("/api/documents", {}), ("/api/graph", {}),
                         ("/api/tasks", {"format": "ics"}), ("/api/cites", {"ref": "CT 16"}), ("/api/documents/1", {})]:
        r = local_client.get(path, params=params)
        assert r.status_code == 401 and r.json()["detail"].startswith("Cần đăng nhập"), path
    assert local_client.get("/healthz").status_code == 200
    token = access_index.tokens["outsider"]
    assert local_client.get("/api/search", params={"q": "dân vận"},
                            headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with pytest.raises(Unauthorized):
        access_index.library.search(access_index.principals["anonymous"], "dân vận")


def test_the_api_reaches_the_data_only_through_the_library():
    from test_layers import ENGINE_INTERNALS, _files, _offending
    assert _offending(_files("api"), ENGINE_INTERNALS) == []
