"""Errors as HTTP answers: the library's typed errors, request validation and unknown routes, each a
JSON body {"detail": Vietnamese message, "field": the input at fault or null}. Nothing a caller
sends can produce a 500; an unexpected failure is logged and answered in Vietnamese too."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from index.errors import RateLimited, Unauthorized, VanbanError

__all__ = ["install", "error_response"]

log = logging.getLogger("vanban.api")

_LOCATIONS = {"query": "tham số", "path": "đường dẫn", "header": "tiêu đề", "body": "nội dung", "cookie": "cookie"}

_HTTP = {400: "Yêu cầu không hợp lệ.", 404: "Không có đường dẫn này; xem danh sách tại /openapi.json.",
         405: "Đường dẫn này không nhận phương thức {method}.", 413: "Yêu cầu quá lớn.",
         415: "Kiểu nội dung không được hỗ trợ."}


def error_response(status: int, detail: str, field: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "field": field}, status_code=status, headers=headers)


def _reason(err: dict) -> str:
    """Pydantic's error, in Vietnamese."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return "bắt buộc, chưa có giá trị"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"“{err.get('input')}” không phải số nguyên"
    if kind in ("float_parsing", "float_type"):
        return f"“{err.get('input')}” không phải số"
    if kind in ("bool_parsing", "bool_type"):
        return f"“{err.get('input')}” không phải giá trị đúng/sai (true/false)"
    if kind in ("literal_error", "enum"):
        return f"“{err.get('input')}” không hợp lệ; chọn một trong: {str(ctx.get('expected', '')).replace(' or ', ', ')}"
    if kind == "string_too_long":
        return f"dài quá {ctx.get('max_length')} ký tự"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": "từ {ge} trở lên", "greater_than": "lớn hơn {gt}",
                 "less_than_equal": "tối đa {le}", "less_than": "nhỏ hơn {lt}"}[kind]
        return f"{err.get('input')} không hợp lệ: phải {bound.format(**ctx)}"
    if kind in ("string_type", "string_unicode"):
        return "phải là chuỗi ký tự"
    return "giá trị không hợp lệ"


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    parts, first = [], None
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ())]
        field = loc[-1] if loc else None
        first = first or field
        where = _LOCATIONS.get(loc[0], "tham số") if loc else "tham số"
        parts.append(f"{where.capitalize()} {field}: {_reason(err)}.")
    return error_response(422, " ".join(parts) or "Yêu cầu không hợp lệ.", first)


def _library(request: Request, exc: VanbanError) -> JSONResponse:
    headers = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = "1"
    if exc.http_status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc.message)
    return error_response(exc.http_status, exc.message, exc.field, headers or None)


def _http(request: Request, exc: HTTPException) -> JSONResponse:
    text = _HTTP.get(exc.status_code, "Yêu cầu không được phục vụ.").format(method=request.method)
    return error_response(exc.status_code, text, None, getattr(exc, "headers", None))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path)
    return error_response(500, "Lỗi máy chủ ngoài dự kiến; quản trị viên xem nhật ký máy chủ.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(VanbanError, _library)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
