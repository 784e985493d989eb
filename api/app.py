"""The REST API: a thin FastAPI layer over ``index.library``, with the same JSON as the command line.

    python -m index serve --index-dir DIR [--host 127.0.0.1] [--port 8000] [--workers N]

Every route reads as its caller (``Authorization: Bearer TOKEN``; none = anonymous, public documents
only). The library applies the access rule and checks every input; this module maps its typed errors to
HTTP statuses (``api.errors``) and counts requests per caller (``api.auth``). Each worker process
opens the index directory once and follows the live generation, so an ingest in another process
switches what it answers from atomically.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from index.access import SYSTEM, Principal
from index.errors import InvalidInput, TooLarge, VanbanError
from index.library import Library, make_filters, open_library, require_admin
from index.settings import settings

from . import errors
from .auth import RateLimiter, principal_from_header

__all__ = ["create_app", "AskAnswer"]

DESCRIPTION = """Tra cứu văn bản chỉ đạo qua REST: tìm đoạn văn bản, hỏi đáp có trích dẫn, văn bản trích dẫn
một văn bản, danh sách và nội dung văn bản, mạng trích dẫn, nhiệm vụ và thời hạn; quản trị viên tải văn bản lên.

Xác thực: `Authorization: Bearer MÃ_TRUY_CẬP` (cấp bằng `python -m index users token TÊN`). Không có mã:
khách, chỉ thấy văn bản công khai (hoặc 401 khi máy chủ đặt `VANBAN_ANONYMOUS=none`). Lỗi trả về JSON
`{"detail": "…", "field": "…"}`: 401 chưa xác thực, 403 không đủ quyền, 404 không có (văn bản hạn chế
mà người gọi không được xem cũng là 404), 409 đang nạp dữ liệu, 413 tệp quá lớn hoặc quá nhiều,
422 tham số sai, 429 quá nhiều yêu cầu mỗi giây, 503 chỉ mục chưa dùng được."""

_bearer = HTTPBearer(auto_error=False, description="Mã truy cập API: `python -m index users token TÊN`")

_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"},
                             "description": "tệp PDF, DOCX, DOC, TXT hoặc MD"},
                   "group": {"type": "string", "description": "nhóm truy cập; bỏ trống = công khai"}}}}}}}


# the filters shared by search, ask and cites
Province = Annotated[str | None, Query(description="tỉnh/thành, có hoặc không dấu (“Đắk Lắk”, “dak lak”)")]
YearFrom = Annotated[int | None, Query(description="từ năm (1000–9999)")]
YearTo = Annotated[int | None, Query(description="đến năm (1000–9999)")]
DocType = Annotated[str | None, Query(alias="type", description="loại văn bản, ví dụ “Công văn”")]
Issuer = Annotated[str | None, Query(description="cơ quan ban hành")]


class AskAnswer(BaseModel):
    """What /api/ask returns (the JSON of `python -m index ask --json`); more fields may follow."""
    model_config = ConfigDict(extra="allow")

    question: str
    intent: str
    answer: str = Field(description="câu trả lời kèm trích dẫn, hoặc lời báo không tìm thấy")
    answered: bool = Field(description="true: có câu trả lời từ các văn bản đã nạp; false: không tìm thấy "
                                       "(khi đó `passages` rỗng và `related` là các đoạn có thể liên quan)")
    confidence: float | None = Field(None, description="xác suất câu hỏi được trả lời đúng theo mô hình từ chối "
                                                       "trả lời (chỉ với câu hỏi tự do)")
    documents: list[dict] = Field(description="các văn bản chứa câu trả lời")
    passages: list[dict] = Field(description="các đoạn chứa câu trả lời; đoạn đầu chứa câu trả lời")
    related: list[dict] = Field(default_factory=list, description="khi không có câu trả lời: các đoạn gần nhất, "
                                                                   "có thể liên quan")


def create_app(library: Library | None = None) -> FastAPI:
    """The application over ``library`` (default: the index directory in VANBAN_INDEX_DIR, opened once)."""
    limiter = RateLimiter()

    def lib() -> Library:
        return library if library is not None else open_library()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        def warm():
            # One search before the first request: the embedder, the word segmenter (underthesea's lazy
            # load is not thread-safe: concurrent first calls fail) and the live generation all load here.
            try:
                if lib().has_index():
                    lib().search(SYSTEM, "khởi động", k=1)
            except VanbanError:
                pass  # /healthz and every route report it
        await run_in_threadpool(warm)
        yield

    app = FastAPI(title="Tra cứu văn bản chỉ đạo", version="1", description=DESCRIPTION, lifespan=lifespan)
    errors.install(app)

    def caller(request: Request, _=Depends(_bearer)) -> Principal:
        client = request.client.host if request.client else None
        return principal_from_header(lib(), request.headers.get("authorization"), client, limiter)

    @app.get("/healthz", tags=["máy chủ"], summary="máy chủ và chỉ mục dùng được chưa")
    def healthz():
        if lib().has_index():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "detail": "Chỉ mục chưa dùng được."}, status_code=503)

    @app.get("/api/search", tags=["tra cứu"], summary="tìm đoạn văn bản (như `python -m index search`)")
    def search(q: str = Query(..., description="câu hỏi, số hiệu hoặc từ khoá"),
               k: int = Query(10, description="số kết quả (1 đến VANBAN_MAX_K)"),
               mode: Literal["hybrid", "bm25", "dense"] = Query("hybrid"),
               province: Province = None, year_from: YearFrom = None, year_to: YearTo = None,
               doc_type: DocType = None, issuer: Issuer = None, who: Principal = Depends(caller)):
        flt = make_filters(province, year_from, year_to, doc_type, issuer)
        return JSONResponse(lib().search(who, q, k=k, mode=mode, filters=flt))

    @app.get("/api/ask", tags=["tra cứu"], summary="hỏi, trả lời có trích dẫn (như `python -m index ask`)",
             responses={200: {"model": AskAnswer, "description": "câu trả lời, hoặc `answered: false` và các "
                                                                  "đoạn có thể liên quan"}})
    def ask(q: str = Query(..., description="câu hỏi"), k: int = Query(5, description="số đoạn (1 đến VANBAN_MAX_K)"),
            province: Province = None, year_from: YearFrom = None, year_to: YearTo = None,
            doc_type: DocType = None, issuer: Issuer = None, who: Principal = Depends(caller)):
        flt = make_filters(province, year_from, year_to, doc_type, issuer)
        return JSONResponse(lib().ask(who, q, k=k, filters=flt))

    @app.get("/api/cites", tags=["tra cứu"], summary="văn bản nào trích dẫn một văn bản (như `python -m index cites`)")
    def cites(ref: str = Query(..., description="tham chiếu: “Chỉ thị 16”, “CT 16”, “114-KL/TW”"),
              province: Province = None, year_from: YearFrom = None, year_to: YearTo = None,
              doc_type: DocType = None, issuer: Issuer = None, who: Principal = Depends(caller)):
        flt = make_filters(province, year_from, year_to, doc_type, issuer)
        return JSONResponse(lib().cites(who, ref, filters=flt))

    @app.get("/api/documents", tags=["văn bản"], summary="danh sách văn bản, từng trang")
    def documents(offset: int = Query(0, description="bỏ qua bấy nhiêu văn bản đầu"),
                  limit: int = Query(100, description="số văn bản mỗi trang (1–1000)"),
                  who: Principal = Depends(caller)):
        return JSONResponse(lib().documents(who, offset=offset, limit=limit))

    @app.get("/api/documents/{doc_id}", tags=["văn bản"], summary="một văn bản: toàn văn, đoạn, trích dẫn đi và đến")
    def document(doc_id: int, who: Principal = Depends(caller)):
        return JSONResponse(lib().document(who, doc_id))

    @app.get("/api/graph", tags=["nghiên cứu"], summary="mạng trích dẫn (JSON, GraphML hoặc CSV các cạnh)")
    def graph(format: Literal["json", "graphml", "csv"] = Query("json"),
              province: str | None = Query(None, description="tỉnh/thành của văn bản trích dẫn"),
              year_from: YearFrom = None, year_to: YearTo = None,
              reference: str | None = Query(None, description="chỉ giữ trích dẫn tới văn bản này, ví dụ “114-KL/TW”"),
              who: Principal = Depends(caller)):
        from index import research as R
        g = lib().graph(who, province=province, year_from=year_from, year_to=year_to, reference=reference)
        if format == "graphml":
            return _download(R.graph_graphml(g), "application/graphml+xml", "mang-trich-dan.graphml")
        if format == "csv":
            return _download(R.graph_csv(g), "text/csv", "mang-trich-dan.csv")
        return JSONResponse(R.graph_json(g))

    @app.get("/api/tasks", tags=["nghiên cứu"], summary="nhiệm vụ được giao và thời hạn (JSON, CSV hoặc iCalendar)")
    def tasks(format: Literal["json", "csv", "ics"] = Query("json"),
              province: str | None = Query(None, description="tỉnh/thành"),
              agency: str | None = Query(None, description="cơ quan được giao (có hoặc không dấu)"),
              deadline_from: str | None = Query(None, description="hạn từ ngày (YYYY-MM-DD)"),
              deadline_to: str | None = Query(None, description="hạn đến ngày (YYYY-MM-DD)"),
              with_deadline: bool = Query(False, description="chỉ nhiệm vụ có hạn"),
              who: Principal = Depends(caller)):
        from index import research as R
        items = lib().tasks(who, province=province, agency=agency, deadline_from=deadline_from,
                            deadline_to=deadline_to, with_deadline=with_deadline)
        if format == "csv":
            return _download(R.tasks_csv(items), "text/csv", "nhiem-vu.csv")
        if format == "ics":
            return _download(R.tasks_ics(items), "text/calendar", "han-nhiem-vu.ics")
        return JSONResponse({"tasks": items})

    @app.post("/api/ingest", tags=["quản trị"], openapi_extra=_UPLOAD_BODY,
              summary="tải văn bản lên và nạp vào chỉ mục (quản trị viên)")
    async def ingest(request: Request, who: Principal = Depends(caller)):
        require_admin(who)                       # before a byte of the body is read
        s = settings()
        cap = s.max_upload_files * s.max_upload_mb * 1024 * 1024 + 1024 * 1024
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            raise TooLarge(f"Yêu cầu nặng {int(length) / 1024 / 1024:.1f} MB, vượt giới hạn "
                           f"{s.max_upload_files} tệp × {s.max_upload_mb} MB.", field="files")
        if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            raise InvalidInput("Cần gửi dạng multipart/form-data với các tệp trong trường “files”.", field="files")
        try:
            form = await MultiPartParser(request.headers, _capped(request.stream(), cap, s),
                                         max_files=s.max_upload_files + 1, max_fields=10).parse()
        except MultiPartException as e:
            if "files" in e.message.lower():
                raise TooLarge(f"Quá nhiều tệp: tối đa {s.max_upload_files} tệp mỗi lần.", field="files") from None
            raise InvalidInput(f"Nội dung multipart không đọc được ({e.message}).", field="files") from None
        try:
            files = form.getlist("files")
            if any(not isinstance(f, UploadFile) for f in files):
                raise InvalidInput("Trường “files” phải là tệp.", field="files")
            group = form.get("group")
            if isinstance(group, UploadFile):
                raise InvalidInput("Trường “group” phải là tên nhóm, không phải tệp.", field="group")
            group = (group.strip() or None) if isinstance(group, str) else None
            if group is not None:
                from index.users import check_name
                try:
                    check_name(group, "nhóm")
                except InvalidInput as e:
                    raise InvalidInput(e.message, field="group") from None
            uploads = [(f.filename or "", f.file) for f in files]
            paths = await run_in_threadpool(lib().upload, who, uploads)
            report = await run_in_threadpool(lambda: lib().ingest(who, paths, group=group))
        finally:
            await form.close()
        return JSONResponse(report.as_dict())

    return app


async def _capped(stream, cap: int, s):
    """The request body, refused (413) once it passes ``cap`` bytes (a body sent without a length too)."""
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > cap:
            raise TooLarge(f"Yêu cầu vượt giới hạn {s.max_upload_files} tệp × {s.max_upload_mb} MB.", field="files")
        yield chunk


def _download(text: str, media_type: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), media_type=f"{media_type}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
