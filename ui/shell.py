"""What every page of the app shares: the library, the caller, the pages the caller may open, results
cached per caller, the first build of the index and the error edge of every page.

app.py calls ``start()`` then ``st.navigation(pages(ctx))``; each page (ui/pages/NAME.py, run by
st.navigation as a script) hands its ``render(ctx)`` to ``run_page``, the error edge. Every read goes through ``index.library`` with
``ctx.who``; every ``st.cache_data`` result here is keyed by ``Principal.cache_key``, so callers who see
different documents never share a result.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from index.access import ANYONE, Principal
from index.errors import Unauthorized, VanbanError
from index.library import Library, open_library
from index.search import Filters
from index.settings import Settings, settings as load_settings

from . import jobs, session
from .render import report_rows
from .safe import hide_paths, md

__all__ = ["Context", "start", "pages", "run_page", "context", "go", "error_text", "APP_TITLE"]

log = logging.getLogger("vanban.app")

APP_TITLE = "Tra cứu văn bản chỉ đạo"
# The build of the corpus folder on the very first start, before any account can exist: the server's
# own act (like the command line's SYSTEM), recorded in the audit under this name. Every ingest a person
# starts from the app runs as that signed-in administrator.
FIRST_START = Principal(name="ung-dung-lan-chay-dau", role="admin")


@dataclass
class Context:
    lib: Library
    who: Principal
    runner: jobs.IngestRunner
    settings: Settings
    sso: bool = False          # signed in through single sign-on (st.login)

    @property
    def index_dir(self) -> str:
        return self.settings.index_dir

    @property
    def upload_dir(self) -> str:
        return str(self.settings.uploads)


# --- cached resources ----------------------------------------------------------------------------------

@st.cache_resource(show_spinner="Đang nạp mô hình và chỉ mục…")
def get_library(index_dir: str) -> Library:
    lib = open_library(index_dir)
    _ = lib.embedder  # load the model once, behind the spinner
    # the comparison's theme vectors, in the background: no first page pays for them
    threading.Thread(target=_warm_up, args=(lib,), name="vanban-warm-up", daemon=True).start()
    return lib


def _warm_up(lib: Library) -> None:
    try:
        import ui.charts  # noqa: F401  (altair and pandas, for the research pages)
        lib.warm_up()
    except Exception:  # the page that needs it will compute it and show any error itself
        log.exception("warm-up failed")


@st.cache_resource
def get_runner(index_dir: str) -> jobs.IngestRunner:
    return jobs.IngestRunner(open_library(index_dir))


@st.cache_resource
def sign_ins() -> session.SignIns:
    return session.SignIns()


# --- cached results, keyed by the caller ---------------------------------------------------------------
# ``scope`` is the caller's Principal.cache_key (callers with the same key see the same documents);
# ``_who`` (not hashed) is the caller the library is asked for; ``version`` changes with every ingest.

@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _ask(index_dir: str, version: int, scope: str, _who: Principal, question: str, k: int, filters: tuple) -> dict:
    return open_library(index_dir).ask(_who, question, k=k, filters=Filters(*filters))


@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)
def _graph(index_dir: str, version: int, scope: str, _who: Principal, province, year_from, year_to, reference):
    return open_library(index_dir).graph(_who, province=province, year_from=year_from, year_to=year_to,
                                         reference=reference)


@st.cache_data(show_spinner=False, max_entries=16, ttl=3600)
def _compare(index_dir: str, version: int, scope: str, _who: Principal, provinces: tuple, doc_ids: tuple) -> dict:
    return open_library(index_dir).compare(_who, list(provinces), list(doc_ids))


@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)
def _tasks(index_dir: str, version: int, scope: str, _who: Principal, province, agency, with_deadline: bool):
    return open_library(index_dir).tasks(_who, province=province, agency=agency, with_deadline=with_deadline)


@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _similar(index_dir: str, version: int, scope: str, _who: Principal, doc_id: int, k: int) -> dict:
    return open_library(index_dir).similar(_who, doc_id, k=k)


def _key(ctx: Context) -> tuple:
    return ctx.index_dir, ctx.lib.data_version, ctx.who.cache_key, ctx.who


def ask(ctx: Context, question: str, k: int, filters: Filters) -> dict:
    f = (filters.province, filters.year_from, filters.year_to, filters.doc_type, filters.issuer, filters.doc_ids)
    return _ask(*_key(ctx), question, k, f)


def graph(ctx: Context, province=None, year_from=None, year_to=None, reference=None):
    return _graph(*_key(ctx), province, year_from, year_to, reference)


def compare(ctx: Context, provinces, doc_ids) -> dict:
    return _compare(*_key(ctx), tuple(provinces), tuple(int(i) for i in doc_ids))


def tasks(ctx: Context, province=None, agency=None, with_deadline: bool = False) -> list[dict]:
    return _tasks(*_key(ctx), province, agency, bool(with_deadline))


def similar(ctx: Context, doc_id: int, k: int) -> dict:
    return _similar(*_key(ctx), int(doc_id), int(k))


# --- the caller ------------------------------------------------------------------------------------------

def sso_configured() -> bool:
    return _sso_config() is not None


def _sso_config() -> dict | None:
    """The [vanban_sso] table when single sign-on is configured ([auth] in secrets.toml), else None."""
    try:
        if "auth" not in st.secrets:
            return None
        return dict(st.secrets.get("vanban_sso", {}))
    except Exception:  # no secrets.toml at all
        return None


def _caller(lib: Library) -> tuple[Principal, bool]:
    """(the caller, signed in by single sign-on) for this script run."""
    state = st.session_state
    sso = _sso_config()
    if sso is not None and getattr(st.user, "is_logged_in", False):
        return session.principal_from_claims(st.user.to_dict(), sso), True
    token = state.get("vb_token") or _sent_cookie()
    who = sign_ins().get(token)
    if who is not None:
        try:
            who = lib.current_principal(who)   # the account as it stands now
        except Unauthorized:
            sign_ins().close(token)
            who = None
    if who is None:
        state.pop("vb_token", None)
        return ANYONE, False
    state["vb_token"] = token
    return who, False


def sign_in(ctx: Context, name: str, password: str) -> Principal:
    """Check the password (Library.sign_in) and open a sign-in session for this browser."""
    wait = sign_ins().blocked_for(name)
    if wait:
        raise Unauthorized(f"Đăng nhập sai quá nhiều lần; hãy thử lại sau {wait} giây.")
    try:
        who = ctx.lib.sign_in(name, password)
    except Unauthorized:
        sign_ins().failed(name)
        raise
    st.session_state["vb_token"] = sign_ins().open(who)
    return who


def sign_out(ctx: Context) -> None:
    sign_ins().close(st.session_state.pop("vb_token", None))
    if ctx.sso:
        st.logout()


def _sent_cookie() -> str | None:
    """The sign-in token the browser sent when this session opened (None when there is none)."""
    value = st.context.cookies.get(session.COOKIE)
    return value if isinstance(value, str) and value else None


def _keep_cookie() -> None:
    """Store the sign-in token in the browser (or delete a stale one) when it differs from what the
    browser sent when this session opened."""
    token = st.session_state.get("vb_token")
    sent = _sent_cookie()
    if token and token != sent:
        st.html(session.cookie_script(token), unsafe_allow_javascript=True)
    elif not token and sent:
        st.html(session.cookie_script(None), unsafe_allow_javascript=True)


# --- start ---------------------------------------------------------------------------------------------------

def start() -> Context:
    """The library (built from the corpus folder on the first start), the caller and the page context."""
    try:
        s = load_settings()
    except VanbanError as e:
        st.error(md(f"Thiết lập không hợp lệ: {e.message}"))
        st.stop()
    runner = get_runner(s.index_dir)
    if not runner.library.has_index():
        _first_build(runner, s)
    try:
        lib = get_library(s.index_dir)
        who, sso = _caller(lib)
    except VanbanError as e:
        log.exception("cannot open the index")
        st.error(md("Không mở được chỉ mục: " + hide_paths(e.message)))
        st.stop()
    _keep_cookie()
    ctx = Context(lib=lib, who=who, runner=runner, settings=s, sso=sso)
    st.session_state["vb_ctx"] = ctx
    return ctx


def context() -> Context:
    return st.session_state["vb_ctx"]


def _source_paths(s: Settings) -> list[str]:
    return [p for p in (s.corpus_dir, str(s.uploads)) if Path(p).is_dir()]


def _first_build(runner: jobs.IngestRunner, s: Settings) -> None:
    """No index yet: build it from the corpus folder with a progress bar, then rerun the page.
    Server paths stay off the page (they are in the server's settings and log)."""
    st.title(APP_TITLE, anchor=False)
    paths = _source_paths(s)
    if not paths:
        log.error("no index and no corpus folder at %s", s.corpus_dir)
        st.error("Chưa có chỉ mục và không tìm thấy thư mục văn bản. Hãy đặt biến môi trường VANBAN_CORPUS_DIR "
                 "trỏ tới thư mục chứa văn bản rồi tải lại trang.")
        st.stop()
    st.info("Lần chạy đầu tiên: đang dựng chỉ mục từ thư mục văn bản. Việc này chỉ làm một lần.")
    job = runner.job
    if job is None or (not job.running and job.state != "failed"):
        try:
            job = runner.start(FIRST_START, paths, label="first")
        except jobs.BusyError:
            job = runner.job
    elif job.state == "failed" and not job.running:
        if st.button("Thử dựng lại chỉ mục"):
            runner.job = None
            st.rerun()
    bar = st.progress(0.0, text="Đang chuẩn bị…")
    while job.running:
        bar.progress(job.fraction, text=md(job.message))
        time.sleep(0.25)
    if job.state == "failed" or not runner.library.has_index():
        bar.empty()
        log.error("first build failed: %s", job.error)
        reason = hide_paths(job.error) if job.error else \
            "thư mục có thể không chứa tệp PDF, DOCX, TXT hoặc MD nào"
        st.error(md(f"Không dựng được chỉ mục: {reason}"))
        rows = report_rows(job.report or {})
        if rows:
            st.table([{k: md(v) for k, v in r.items()} for r in rows])
        st.stop()
    bar.progress(1.0, text="Đã dựng xong chỉ mục.")
    st.rerun()


# --- pages --------------------------------------------------------------------------------------------------

# name (the module in ui/pages/): (title, url path); the order of the navigation
PAGES = {
    "search": ("Tra cứu", "tra-cuu"),
    "document": ("Văn bản", "van-ban"),
    "network": ("Mạng trích dẫn", "mang-trich-dan"),
    "compare": ("So sánh tỉnh", "so-sanh"),
    "tasks": ("Nhiệm vụ & thời hạn", "nhiem-vu"),
    "similar": ("Văn bản tương tự", "tuong-tu"),
    "admin": ("Quản trị", "quan-tri"),
    "sign_in": ("Đăng nhập", "dang-nhap"),
    "account": ("Tài khoản", "tai-khoan"),
}
PAGES_DIR = "ui/pages"   # relative to app.py


def page_names(who: Principal, anonymous: str) -> list[str]:
    """The pages a caller may open: the sign-in page alone for anonymous visitors when
    VANBAN_ANONYMOUS=none; administration for administrators only."""
    if who.is_anonymous and anonymous == "none":
        return ["sign_in"]
    names = ["search", "document", "network", "compare", "tasks", "similar"]
    if who.is_admin:
        names.append("admin")
    names.append("sign_in" if who.is_anonymous else "account")
    return names


def page_object(name: str, default: bool | None = None) -> "st.Page":
    """The page ``name`` as st.navigation registers it (the caller's first page is the default, at "/")."""
    if default is None:
        ctx = context()
        default = page_names(ctx.who, ctx.settings.anonymous)[0] == name
    title, path = PAGES[name]
    return st.Page(f"{PAGES_DIR}/{name}.py", title=title, url_path=path, default=default,
                   visibility="hidden" if name == "document" else "visible")


def pages(ctx: Context) -> list:
    names = page_names(ctx.who, ctx.settings.anonymous)
    return [page_object(n, default=(i == 0)) for i, n in enumerate(names)]


def go(name: str, query_params: dict | None = None) -> None:
    """Open another page of the app (no page load). A page is known by its url path alone, so the
    object made here is the one st.navigation registered."""
    st.switch_page(page_object(name), query_params=query_params)


def go_home_after_sign_out(ctx: Context) -> None:
    name = page_names(ANYONE, ctx.settings.anonymous)[0]
    st.switch_page(page_object(name, default=True))


def error_text(e: Exception, who: Principal) -> str:
    """A library error as a page shows it: the message, server paths cut for everyone but administrators."""
    message = e.message if isinstance(e, VanbanError) else str(e)
    return message if who.is_admin else hide_paths(message)


def run_page(render) -> None:
    """The edge of every page: ``render`` gets the Context; a library error becomes its Vietnamese
    message, anything else a short message (the traceback goes to the server log, never to the page)."""
    ctx = context()
    try:
        render(ctx)
    except VanbanError as e:
        st.error(md(error_text(e, ctx.who)))
    except Exception:
        log.exception("page %s failed", getattr(render, "__module__", "?"))
        st.error(UNEXPECTED)


UNEXPECTED = ("Trang gặp lỗi ngoài dự kiến nên đã dừng. Hãy tải lại trang; nếu lỗi lặp lại, báo quản trị viên "
              "(chi tiết đã ghi vào nhật ký máy chủ).")
