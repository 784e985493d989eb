"""Streamlit front end: search and cited answers for staff, ingest and status for administrators.

    streamlit run app.py

A thin view over the same functions ``python -m index`` calls (index.qa.ask, Searcher.stats,
index.research.reference_graph|compare|tasks|similar_documents, ...) and the display helpers of
index.views and index.research_views; no SQL, parsing or fusion here. Tabs run lazily: only the
open tab's code runs on each rerun. Settings come from the
environment: VANBAN_INDEX_DIR (default .index), VANBAN_CORPUS_DIR (default corpus/) and
VANBAN_UPLOAD_DIR (default <index dir>/uploads, where uploaded files are kept).
"""
from __future__ import annotations

import functools
import html
import time
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from index import research
from index.access import ANYONE, SYSTEM, Principal
from index.errors import VanbanError
from index.export import results_csv
from index.library import Library, open_library
from index.search import Filters
from index.settings import settings as load_settings
from ui import charts as rv
from ui import jobs
from ui import render as views
from vn.cite import format_citation
from vn.text import fold

ALL = "Tất cả"
TABS = ["Tra cứu", "Mạng trích dẫn", "So sánh tỉnh", "Nhiệm vụ & thời hạn", "Văn bản tương tự", "Quản trị"]
EXAMPLES = ["Văn bản nào trích dẫn Chỉ thị 16?", "1321/UBND-KGVX", "dan van kheo"]

CSS = """
<style>
.vb-card {border: 1px solid rgba(49,51,63,.15); border-radius: .5rem; padding: .75rem 1rem; margin-bottom: .8rem;}
.vb-card .vb-head {font-weight: 600; margin-bottom: .15rem;}
.vb-card .vb-meta {color: #555; font-size: .88rem; margin-bottom: .4rem;}
.vb-text {white-space: pre-wrap; line-height: 1.55;}
.vb-full {white-space: pre-wrap; line-height: 1.55; max-height: 70vh; overflow-y: auto;
          border: 1px solid rgba(49,51,63,.15); border-radius: .5rem; padding: .75rem 1rem;}
mark.hl {background: #ffe58f; padding: 0 1px;}
mark.quote {background: #ffd591; font-weight: 600;}
.ans {background: #e6f4ea; border-bottom: 2px solid #34a853;}
.psg {background: #e8f0fe;}
.ref {text-decoration: underline dotted;}
.vb-legend span, .vb-legend mark {padding: 0 .3rem; margin-right: .6rem; font-size: .85rem;}
/* Streamlit's uploader and menu are in English; staff read Vietnamese only */
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {font-size: 0;}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "Chọn tệp"; font-size: .9rem;}
[data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0;}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "Kéo thả tệp vào đây · PDF, DOCX, TXT, MD · tối đa 50 MB mỗi tệp"; font-size: .85rem;}
#MainMenu {visibility: hidden;}
/* the English "Running… / Stop" widget; the page shows its own Vietnamese spinner and progress bars */
[data-testid="stStatusWidget"] {visibility: hidden;}
</style>
"""


# --- settings and cached resources ---------------------------------------------------------------

def settings() -> tuple[str, str, str]:
    s = load_settings()
    return s.index_dir, s.corpus_dir, str(s.uploads)


@st.cache_resource(show_spinner="Đang nạp mô hình và chỉ mục…")
def get_library(index_dir: str) -> Library:
    lib = open_library(index_dir)
    lib.embedder  # load the model once, behind the spinner
    return lib


@st.cache_resource
def get_runner(index_dir: str) -> jobs.IngestRunner:
    return jobs.IngestRunner(open_library(index_dir))


# Research results depend on the index data only: cached per data version (a new ingest bumps it).
@st.cache_data(show_spinner=False, max_entries=32)
def cached_graph(index_dir: str, version: int, who: Principal, province: str | None, year_from: int | None,
                 year_to: int | None, reference: str | None):
    return get_library(index_dir).graph(who, province=province, year_from=year_from, year_to=year_to,
                                        reference=reference)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_compare(index_dir: str, version: int, who: Principal, provinces: tuple[str, ...],
                   doc_ids: tuple[int, ...]) -> dict:
    return get_library(index_dir).compare(who, list(provinces), list(doc_ids))


@st.cache_data(show_spinner=False, max_entries=32)
def cached_tasks(index_dir: str, version: int, who: Principal, province: str | None, agency: str | None,
                 with_deadline: bool) -> list[dict]:
    return get_library(index_dir).tasks(who, province=province, agency=agency, with_deadline=with_deadline)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_similar(index_dir: str, version: int, who: Principal, doc_id: int, k: int) -> dict:
    return get_library(index_dir).similar(who, doc_id, k=k)


def source_paths(corpus_dir: str, upload_dir: str) -> list[str]:
    return [p for p in (corpus_dir, upload_dir) if Path(p).is_dir()]


# --- first start ------------------------------------------------------------------------------------

def first_build(runner: jobs.IngestRunner, corpus_dir: str, upload_dir: str) -> None:
    """No index yet: build it from the corpus folder with a progress bar, then rerun the page."""
    st.title("Tra cứu văn bản chỉ đạo")
    paths = source_paths(corpus_dir, upload_dir)
    if not paths:
        st.error(f"Chưa có chỉ mục và không tìm thấy thư mục văn bản “{corpus_dir}”. "
                 "Hãy đặt biến môi trường VANBAN_CORPUS_DIR trỏ tới thư mục chứa văn bản rồi tải lại trang.")
        st.stop()
    st.info(f"Lần chạy đầu tiên: đang dựng chỉ mục từ thư mục “{corpus_dir}”. Việc này chỉ làm một lần.")
    job = runner.job
    if job is None or (not job.running and job.state != "failed"):
        try:
            job = runner.start(SYSTEM, paths, label="first")
        except jobs.BusyError:
            job = runner.job
    elif job.state == "failed" and not job.running:
        if st.button("Thử dựng lại chỉ mục"):
            runner.job = None
            st.rerun()
    bar = st.progress(0.0, text="Đang chuẩn bị…")
    while job.running:
        bar.progress(job.fraction, text=job.message)
        time.sleep(0.25)
    if job.state == "failed" or not runner.library.has_index():
        bar.empty()
        reason = job.error or "không dựng được chỉ mục (thư mục có thể không chứa tệp PDF, DOCX, TXT hoặc MD nào)"
        st.error(f"Không dựng được chỉ mục: {reason}")
        rows = views.report_rows(job.report or {})
        if rows:
            st.table(rows)
        st.stop()
    bar.progress(1.0, text="Đã dựng xong chỉ mục.")
    st.rerun()


# --- sidebar: filters ---------------------------------------------------------------------------------

FILTER_KEYS = ("f_province", "f_years", "f_type", "f_issuer")


def clear_filters() -> None:
    for k in FILTER_KEYS:
        st.session_state.pop(k, None)


def set_query(text: str) -> None:
    st.session_state["q"] = text


def sidebar_filters(lib: Library, who: Principal) -> tuple[Filters, int]:
    facets = lib.facets(who)
    sb = st.sidebar
    sb.header("Bộ lọc")
    sb.caption("Áp dụng cho trang Tra cứu.")
    province = sb.selectbox("Tỉnh/thành", [ALL] + facets["province"], key="f_province")
    years = facets["year"]
    year_from = year_to = None
    if len(years) >= 2:
        lo, hi = sb.slider("Năm ban hành", min_value=years[0], max_value=years[-1],
                           value=(years[0], years[-1]), key="f_years")
        if (lo, hi) != (years[0], years[-1]):
            year_from, year_to = lo, hi
    doc_type = sb.selectbox("Loại văn bản", [ALL] + facets["doc_type"], key="f_type")
    issuer = sb.selectbox("Cơ quan ban hành", [ALL] + facets["issuer"], key="f_issuer")
    f = Filters(province=None if province == ALL else province, year_from=year_from, year_to=year_to,
                doc_type=None if doc_type == ALL else doc_type, issuer=None if issuer == ALL else issuer)
    if not f.empty():
        sb.button("Bỏ tất cả bộ lọc", on_click=clear_filters)
    sb.divider()
    k = sb.slider("Số đoạn văn bản hiển thị", 3, 20, 8, key="k")
    return f, k


# --- search page -------------------------------------------------------------------------------------

def render_cards(cards: list[dict]) -> None:
    for i, c in enumerate(cards, 1):
        where = " · ".join(x for x in [c["label"], f"trang {c['page']}" if c["page"] else ""] if x)
        meta = " · ".join(x for x in [c["number"] and f"Số {c['number']}", c["issuer"],
                                      c["date"] and f"ngày {c['date']}", where] if x)
        st.markdown(
            f'<div class="vb-card"><div class="vb-head">[{i}] '
            f'<a href="{html.escape(c["link"])}" target="_self">{html.escape(c["citation"])}</a></div>'
            f'<div class="vb-meta">{html.escape(meta)}'
            f'{" — " + html.escape(c["title"]) if c["title"] else ""}</div>'
            f'<div class="vb-text">{c["html"]}</div></div>',
            unsafe_allow_html=True)


def render_documents(docs: list[dict], query: str) -> None:
    for d in docs:
        cit = format_citation(d)
        link = views.doc_link(d["id"], query=query)
        title = f" — {html.escape(d['title'])}" if d.get("title") else ""
        st.markdown(f'<a href="{html.escape(link)}" target="_self">{html.escape(cit)}</a>{title}',
                    unsafe_allow_html=True)


def search_page(lib: Library, who: Principal, runner: jobs.IngestRunner, filters: Filters, k: int) -> None:
    st.text_input("Câu hỏi, số hiệu hoặc tham chiếu", key="q",
                  placeholder="Ví dụ: Văn bản nào trích dẫn Chỉ thị 16? · 1321/UBND-KGVX · dan van kheo")
    cols = st.columns(len(EXAMPLES) + 1)
    cols[0].caption("Thử:")
    for col, ex in zip(cols[1:], EXAMPLES):
        col.button(ex, key=f"ex-{ex}", on_click=set_query, args=(ex,), use_container_width=True)
    if runner.running:
        st.info("Đang cập nhật chỉ mục; kết quả hiện dùng chỉ mục trước đó cho đến khi cập nhật xong.")

    query = (st.session_state.get("q") or "").strip()
    if st.query_params.get("q") != (query or None):
        if query:
            st.query_params["q"] = query
        elif "q" in st.query_params:
            del st.query_params["q"]
    if not query:
        st.caption("Gõ câu hỏi (có dấu hoặc không dấu), số hiệu văn bản hoặc tên văn bản được trích dẫn "
                   "rồi nhấn Enter.")
        return

    try:
        with st.spinner("Đang tìm…"):
            result = lib.ask(who, query, k=k, filters=filters)
    except VanbanError as e:  # a broken index or model, a bad question: a message, never a traceback
        st.error(views.md_escape(f"Không thực hiện được tìm kiếm: {e}"))
        return

    if not result["passages"]:
        st.warning(views.md_escape(result.get("answer") or "Không tìm thấy kết quả."))
        for c in result.get("candidates") or []:
            st.button(f"{c['canonical']} ({c['n_documents']} văn bản trích dẫn)", key=f"cand-{c['key']}",
                      on_click=set_query, args=(f"Văn bản nào trích dẫn {c['canonical']}?",))
        st.markdown("**Gợi ý:**\n" + "\n".join(f"- {h}" for h in views.no_result_hints(query, filters)))
        b1, b2 = st.columns(2)
        if not filters.empty():
            b1.button("Bỏ tất cả bộ lọc", key="clear-filters-main", on_click=clear_filters)
        if fold(query) != query.lower():
            b2.button(f"Tìm không dấu: {fold(query)}", on_click=set_query, args=(fold(query),))
        return

    st.subheader("Trả lời")
    st.success(views.md_escape(result["answer"]))
    docs = result.get("documents") or []
    cards = views.passage_cards(result, query)
    if docs:
        st.markdown(f"**Văn bản liên quan ({len(docs)})**")
        render_documents(docs, query)
    st.markdown('<div class="vb-legend"><mark class="hl">từ khớp</mark><span class="ans">câu trả lời</span>'
                '<mark class="quote">trích dẫn nguyên văn</mark></div>', unsafe_allow_html=True)
    st.subheader(f"Đoạn văn bản hỗ trợ ({len(cards)})")
    render_cards(cards)

    st.subheader("Sao chép và tải về")
    citations = list(dict.fromkeys(format_citation(d) for d in docs)) or \
        list(dict.fromkeys(c["citation"] for c in cards))
    st.caption("Trích dẫn theo thể thức văn bản (bấm biểu tượng sao chép ở góc khung):")
    st.code("\n".join(citations), language=None)
    st.download_button("Tải kết quả (CSV)", data=results_csv(result).encode("utf-8-sig"),
                       file_name="ket-qua-tra-cuu.csv", mime="text/csv")


# --- document page ---------------------------------------------------------------------------------------

def document_page(lib: Library, who: Principal, index_dir: str, raw_id: str) -> None:
    query = st.query_params.get("q") or ""
    back = "?" + urlencode({"q": query}) if query else "?"
    st.markdown(f'<a href="{html.escape(back)}" target="_self">← Quay lại tìm kiếm</a>', unsafe_allow_html=True)
    try:
        view = lib.document(who, raw_id)
    except VanbanError as e:
        st.error(views.md_escape(e.message))
        return
    doc_id = view["document"]["id"]
    doc = view["document"]
    st.title(views.md_escape(view["citation"]))
    if doc.get("title"):
        st.markdown(f"<p><b>V/v {html.escape(doc['title'])}</b></p>", unsafe_allow_html=True)
    st.code(view["citation"], language=None)

    left, right = st.columns([3, 2])
    with right:
        st.subheader("Thông tin văn bản")
        rows = views.metadata_rows(doc)
        st.table({"Trường": [k for k, _ in rows], "Giá trị": [v for _, v in rows]})
        st.subheader(f"Văn bản được trích dẫn ({len(view['outgoing'])})")
        if not view["outgoing"]:
            st.caption("Văn bản này không trích dẫn văn bản nào khác.")
        for o in view["outgoing"]:
            quotes = "; ".join(f"“{q}”" for q in o["quotes"])
            if o["target"]:
                st.markdown(f'<a href="{html.escape(views.doc_link(o["target"]["id"]))}" target="_self">'
                            f'{html.escape(o["canonical"])}</a> — {html.escape(o["target"]["citation"])}',
                            unsafe_allow_html=True)
            else:
                st.markdown(f"{html.escape(o['canonical'])} <span style='color:#888'>(chưa có trong chỉ mục)</span>",
                            unsafe_allow_html=True)
            times = f" · {o['count']} lần" if o["count"] > 1 else ""
            st.caption(views.md_escape(f"Viết trong văn bản: {quotes}{times}"))
        st.subheader(f"Văn bản trích dẫn văn bản này ({len(view['incoming'])})")
        if not view["incoming"]:
            st.caption("Chưa có văn bản nào trong chỉ mục trích dẫn văn bản này.")
        for e in view["incoming"]:
            st.markdown(f'<a href="{html.escape(views.doc_link(e["document"]["id"]))}" target="_self">{html.escape(e["citation"])}</a>',
                        unsafe_allow_html=True)
            for p in e["passages"]:
                body = views.highlight(p["text"], "", [(p["quote_start"], p["quote_end"], "quote")], strip_markup=True)
                st.markdown(f'<div class="vb-card vb-text">{body}</div>', unsafe_allow_html=True)
        st.subheader("Văn bản tương tự ở tỉnh/thành khác")
        similar = rv.similar_cards(cached_similar(index_dir, lib.data_version, who, doc_id, 3))
        if not similar:
            st.caption("Không có văn bản nào của tỉnh/thành khác để so sánh.")
        for c in similar:
            st.markdown(f"{link_html(c['citation'], c['link'])} · độ tương đồng {c['score']}%", unsafe_allow_html=True)

    with left:
        st.subheader("Toàn văn")
        try:
            selected = int(st.query_params.get("p") or -1)
        except ValueError:
            selected = -1
        chosen = next((p for p in view["passages"] if p["passage_id"] == selected), None)
        if chosen:
            where = chosen["label"] or f"đoạn {chosen['ord'] + 1}"
            st.caption(f"Đoạn đang xem ({where}) được tô nền xanh trong toàn văn; "
                       "các văn bản được trích dẫn được gạch chân.")
        body = views.document_html(view, query, selected if chosen else None)
        st.markdown(f'<div class="vb-full">{body}</div>', unsafe_allow_html=True)
        if chosen:  # bring the passage into view; our own fixed script, no document content in it
            st.html(f"<script>setTimeout(() => {{const el = document.getElementById('passage-{int(selected)}');"
                    "if (el) el.scrollIntoView({block: 'center'});}, 300);</script>", unsafe_allow_javascript=True)


# --- researcher views --------------------------------------------------------------------------------

def keep_choice(key: str, options: list, default=None) -> None:
    """A picker's remembered value must be one of its current options (filters change them)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else (options[0] if options else None)


def link_html(text: str, link: str | None) -> str:
    if not link:
        return html.escape(text)
    return f'<a href="{html.escape(link)}" target="_self">{html.escape(text)}</a>'


def passage_card(head_html: str, body_html: str) -> None:
    st.markdown(f'<div class="vb-card"><div class="vb-meta">{head_html}</div>'
                f'<div class="vb-text">{body_html}</div></div>', unsafe_allow_html=True)


def on_graph_select() -> None:
    points = rv.selection_values(st.session_state.get("g_chart"), rv.NODE_SELECTION)
    if points and points[0].get("id"):
        st.session_state["g_node"] = points[0]["id"]


def graph_page(lib: Library, who: Principal, index_dir: str) -> None:
    st.caption("Các văn bản trong chỉ mục (ô vuông) và các văn bản chúng trích dẫn (chấm tròn); nút càng lớn "
               "càng được nhiều văn bản trích dẫn. Bấm vào một nút để xem văn bản và các đoạn trích dẫn nó.")
    facets = lib.facets(who)
    c1, c2, c3, c4 = st.columns([2, 3, 3, 2])
    province = c1.selectbox("Tỉnh/thành của văn bản trích dẫn", [ALL] + facets["province"], key="g_province")
    years = facets["year"]
    year_from = year_to = None
    if len(years) >= 2:
        lo, hi = c2.slider("Năm ban hành", min_value=years[0], max_value=years[-1], value=(years[0], years[-1]),
                           key="g_years")
        if (lo, hi) != (years[0], years[-1]):
            year_from, year_to = lo, hi
    reference = c3.text_input("Văn bản được trích dẫn", key="g_ref", placeholder="Ví dụ: 114-KL/TW, Chỉ thị 16")
    color_by = c4.radio("Tô màu theo", list(rv.COLOR_BY), format_func=rv.COLOR_BY.get, key="g_color")
    try:
        g = cached_graph(index_dir, lib.data_version, who, None if province == ALL else province,
                         year_from, year_to, reference.strip() or None)
    except ValueError as e:
        st.error(views.md_escape(str(e)))
        return
    if g.number_of_edges() == 0:
        st.info("Không có trích dẫn nào khớp bộ lọc.")
        return
    nodes, edges = rv.graph_frames(g)
    n_docs = int((nodes["kind"] == "indexed").sum())
    st.caption(f"{len(nodes)} nút ({n_docs} văn bản trong chỉ mục), {len(edges)} quan hệ trích dẫn.")
    st.altair_chart(rv.graph_chart(nodes, edges, color_by), key="g_chart", on_select=on_graph_select,
                    selection_mode=rv.NODE_SELECTION, width="stretch")

    options = rv.node_options(g)
    keep_choice("g_node", options)
    labels = dict(zip(nodes["id"], nodes["label"]))
    node = st.selectbox("Văn bản đang xem (hoặc bấm vào nút trên mạng)", options, key="g_node",
                        format_func=lambda n: f"{labels[n]} — {g.nodes[n].get('cited_by', 0)} văn bản trích dẫn")
    det = rv.node_detail(g, node)
    st.subheader(det["label"])
    facts = [f"cấp {det['level']}" if det["level"] else "", det["province"] or "",
             "có trong chỉ mục" if det["kind"] == "indexed" else "chưa có trong chỉ mục"]
    st.markdown(html.escape(" · ".join(f for f in facts if f))
                + (f" · {link_html('Mở văn bản', det['link'])}" if det["link"] else "")
                + (f"<br><i>{html.escape(det['title'])}</i>" if det["title"] else ""), unsafe_allow_html=True)
    st.markdown(f"**Được {len(det['citing'])} văn bản trích dẫn**")
    if not det["citing"]:
        st.caption("Không có văn bản nào trong mạng trích dẫn văn bản này.")
    for c in det["citing"]:
        for p in c["passages"]:
            head = link_html(c["label"], c["link"]) + (f" · {html.escape(c['province'])}" if c["province"] else "")
            if p["link"]:
                head += f' · <a href="{html.escape(p["link"])}" target="_self">mở đoạn văn</a>'
            passage_card(head, p["html"])
    if det["cites"]:
        st.markdown(f"**Văn bản này trích dẫn {len(det['cites'])} văn bản:** "
                    + "; ".join(link_html(c["label"], c["link"]) for c in det["cites"]), unsafe_allow_html=True)

    st.subheader("Tải về")
    d1, d2 = st.columns(2)
    d1.download_button("Tải mạng trích dẫn (GraphML)", data=research.graph_graphml(g).encode("utf-8"),
                       file_name="mang-trich-dan.graphml", mime="application/xml")
    d2.download_button("Tải danh sách cạnh (CSV)", data=research.graph_csv(g).encode("utf-8-sig"),
                       file_name="mang-trich-dan-canh.csv", mime="text/csv")


def on_matrix_select(rows: list[str]) -> None:
    cell = rv.selected_cell(st.session_state.get("c_matrix"))
    if cell and 0 <= cell[0] < len(rows):
        st.session_state["c_row"] = rows[cell[0]]


def on_theme_select() -> None:
    points = rv.selection_values(st.session_state.get("c_theme_chart"), rv.THEME_SELECTION)
    if points and points[0].get("theme"):
        st.session_state["c_theme"] = points[0]["theme"]
        st.session_state["c_theme_col"] = points[0]["column"]


def compare_page(lib: Library, who: Principal, index_dir: str) -> None:
    facets = lib.facets(who)
    doc_names = rv.document_options(lib.documents(who)["documents"])
    c1, c2 = st.columns(2)
    provinces = c1.multiselect("Tỉnh/thành", facets["province"], default=facets["province"][:2],
                               key="c_provinces", placeholder="Chọn tỉnh/thành")
    doc_ids = c2.multiselect("Văn bản (thêm cột cho từng văn bản)", list(doc_names), format_func=doc_names.get,
                             key="c_docs", placeholder="Chọn văn bản")
    if len(provinces) + len(doc_ids) < 2:
        st.info("Chọn ít nhất hai tỉnh/thành hoặc văn bản để so sánh.")
        return
    try:
        with st.spinner("Đang so sánh…"):
            r = cached_compare(index_dir, lib.data_version, who, tuple(provinces), tuple(doc_ids))
    except ValueError as e:
        st.error(views.md_escape(str(e)))
        return
    columns = r["columns"]
    st.caption(" · ".join(f"{c['label']}: {len(c['doc_ids'])} văn bản" for c in columns))

    st.subheader("Văn bản trung ương được trích dẫn")
    matrix = rv.central_matrix_frame(r)
    if matrix.empty:
        st.caption("Các cột đã chọn không trích dẫn văn bản trung ương nào.")
    else:
        rows = matrix["Văn bản trung ương"].tolist()
        st.caption("Mỗi ô ghi số hiệu các văn bản trích dẫn; bấm vào một ô để xem đoạn trích dẫn.")
        st.dataframe(matrix, hide_index=True, key="c_matrix", on_select=functools.partial(on_matrix_select, rows),
                     selection_mode="single-cell", width="stretch")
        keep_choice("c_row", rows)
        row = st.selectbox("Đoạn trích dẫn của", rows, key="c_row")
        cells = rv.central_cell(r, row)
        for col, c in zip(st.columns(len(columns)), columns):
            with col:
                st.markdown(f"**{html.escape(c['label'])}**", unsafe_allow_html=True)
                if not cells[c["id"]]:
                    st.caption("Không trích dẫn văn bản này.")
                for x in cells[c["id"]]:
                    passage_card(link_html(x["number"] or "văn bản", x["link"]), x["html"])

    st.subheader("Dòng thời gian")
    timeline = rv.timeline_frame(r)
    if timeline.empty:
        st.caption("Các văn bản đã chọn không ghi ngày ban hành.")
    else:
        st.altair_chart(rv.timeline_chart(timeline), width="stretch")
    undated = [t["number"] or "?" for t in r["timeline"] if not t["date"]]
    if undated:
        st.caption("Không rõ ngày ban hành: " + "; ".join(undated))

    st.subheader("Chủ đề")
    st.caption("Số đoạn văn bản thuộc mỗi chủ đề; bấm vào một ô để xem các đoạn đó.")
    st.altair_chart(rv.theme_chart(rv.theme_frame(r)), key="c_theme_chart", on_select=on_theme_select,
                    selection_mode=rv.THEME_SELECTION, width="stretch")
    themes = [t["theme"] for t in r["theme_matrix"]]
    col_ids = [c["id"] for c in columns]
    first = rv.default_theme_cell(r) or (themes[0], col_ids[0])
    keep_choice("c_theme", themes, first[0])
    keep_choice("c_theme_col", col_ids, first[1])
    t1, t2 = st.columns(2)
    theme = t1.selectbox("Chủ đề", themes, key="c_theme")
    column = t2.selectbox("Cột", col_ids, key="c_theme_col")
    cell = rv.theme_cell(r, theme, column)
    st.markdown(f"**{html.escape(theme)} · {html.escape(column)}: {cell['count']} đoạn**", unsafe_allow_html=True)
    for p in lib.passages(who, cell["passage_ids"]):
        where = " · ".join(x for x in [p["label"] or "", f"trang {p['page']}" if p["page"] else ""] if x)
        head = link_html(p["number"] or "văn bản", views.doc_link(p["doc_id"], p["passage_id"]))
        passage_card(head + (f" · {html.escape(where)}" if where else ""),
                     views.highlight(p["text"], "", strip_markup=True))


def tasks_page(lib: Library, who: Principal, index_dir: str) -> None:
    facets = lib.facets(who)
    c1, c2, c3 = st.columns([2, 3, 2])
    province = c1.selectbox("Tỉnh/thành", [ALL] + facets["province"], key="t_province")
    agency = c2.text_input("Cơ quan", key="t_agency", placeholder="Ví dụ: Sở Nội vụ (có dấu hoặc không dấu)")
    dated = c3.checkbox("Chỉ nhiệm vụ có thời hạn", key="t_dated")
    items = cached_tasks(index_dir, lib.data_version, who, None if province == ALL else province,
                         agency.strip() or None, dated)
    deadlines = rv.deadline_list(items)
    st.caption(f"{len(items)} nhiệm vụ, {len(deadlines)} có hạn cụ thể.")
    if not items:
        st.info("Không tìm thấy nhiệm vụ nào khớp bộ lọc.")
        return
    st.dataframe(rv.task_frame(items), hide_index=True, width="stretch", column_config={
        "Hạn": st.column_config.TextColumn(width="small"),
        "Cơ quan": st.column_config.TextColumn(width="medium"),
        "Nhiệm vụ": st.column_config.TextColumn(width="large"),
        "Đoạn nguồn": st.column_config.TextColumn(width="large"),
        "Mở": st.column_config.LinkColumn("Mở", display_text="mở đoạn văn")})
    d1, d2 = st.columns(2)
    d1.download_button("Tải bảng nhiệm vụ (CSV)", data=research.tasks_csv(items).encode("utf-8-sig"),
                       file_name="nhiem-vu.csv", mime="text/csv")
    d2.download_button("Tải lịch các thời hạn (iCalendar)", data=research.tasks_ics(items).encode("utf-8"),
                       file_name="han-nhiem-vu.ics", mime="text/calendar", disabled=not deadlines)
    st.subheader("Các thời hạn")
    if not deadlines:
        st.caption("Không có nhiệm vụ nào ghi ngày hạn cụ thể.")
    for d in deadlines:
        st.markdown(f"<b>{html.escape(d['date_text'])}</b> — {html.escape(d['agency'])} — "
                    f"{link_html(d['number'], d['link'])}: {html.escape(d['task'])}", unsafe_allow_html=True)


def similar_page(lib: Library, who: Principal, index_dir: str) -> None:
    doc_names = rv.document_options(lib.documents(who)["documents"])
    if not doc_names:
        st.info("Chỉ mục chưa có văn bản nào.")
        return
    c1, c2 = st.columns([4, 1])
    doc_id = c1.selectbox("Văn bản", list(doc_names), format_func=doc_names.get, key="s_doc")
    k = c2.number_input("Số văn bản", min_value=1, max_value=20, value=5, key="s_k")
    r = cached_similar(index_dir, lib.data_version, who, int(doc_id), int(k))
    cards = rv.similar_cards(r)
    st.markdown(f"Văn bản ở tỉnh/thành khác giống nhất với {link_html(doc_names[doc_id], views.doc_link(doc_id))}:",
                unsafe_allow_html=True)
    if not cards:
        st.info("Không có văn bản nào của tỉnh/thành khác để so sánh.")
    for i, c in enumerate(cards, 1):
        st.markdown(f"<b>{i}. {link_html(c['citation'], c['link'])}</b> · độ tương đồng {c['score']}%"
                    + (f"<br><i>{html.escape(c['title'])}</i>" if c["title"] else ""), unsafe_allow_html=True)
        for p in c["pairs"]:
            left, right = st.columns(2)
            with left:
                passage_card("Văn bản đang xem", html.escape(p["text"]))
            with right:
                head = f"{p['similarity']}% · " + link_html(p["other_label"] or "đoạn tương ứng", p["link"])
                passage_card(head, html.escape(p["other_text"]))


# --- administration -----------------------------------------------------------------------------------

@st.fragment(run_every=1.0)
def ingest_progress(runner: jobs.IngestRunner) -> None:
    job = runner.job
    if job is None or not job.running:
        st.rerun()  # the whole page, to show the report and the new facets
    st.progress(job.fraction, text=job.message)


def admin_page(lib: Library, runner: jobs.IngestRunner, corpus_dir: str, upload_dir: str) -> None:
    st.subheader("Thêm văn bản")
    st.caption("Tải lên tệp PDF, DOCX, TXT hoặc MD. Trong khi nạp, tra cứu vẫn dùng chỉ mục trước đó.")
    n = st.session_state.setdefault("uploader_n", 0)
    files = st.file_uploader("Tệp văn bản", type=list(jobs.UPLOAD_TYPES), accept_multiple_files=True,
                             key=f"uploader-{n}")
    c1, c2 = st.columns(2)
    if c1.button("Nạp các tệp đã chọn", type="primary", disabled=runner.running or not files):
        try:
            paths = jobs.save_uploads(files, upload_dir)
            runner.start(SYSTEM, paths, label="upload")
            st.session_state["uploader_n"] = n + 1
            st.rerun()
        except (jobs.BusyError, OSError, ValueError) as e:
            st.error(f"Không nạp được: {e}")
    with c2:
        prune = st.checkbox("Xoá khỏi chỉ mục các tệp không còn trong thư mục", value=False)
        if st.button(f"Cập nhật từ thư mục văn bản “{corpus_dir}”", disabled=runner.running):
            try:
                runner.start(SYSTEM, source_paths(corpus_dir, upload_dir), prune=prune, label="corpus")
                st.rerun()
            except jobs.BusyError as e:
                st.error(str(e))

    job = runner.job
    if job is not None and job.running:
        ingest_progress(runner)
    elif job is not None:
        st.markdown("**Kết quả lần nạp gần nhất**")
        if job.state == "failed":
            st.error(views.md_escape(f"Nạp dữ liệu thất bại: {job.error}"))
        else:
            report = job.report or {}
            (st.warning if report.get("failed") else st.success)(views.report_summary(report))
            rows = views.report_rows(report)
            if rows:
                st.table(rows)

    st.subheader("Trạng thái chỉ mục")
    try:
        stats = lib.stats(SYSTEM)
    except VanbanError as e:
        st.error(f"Không đọc được trạng thái chỉ mục: {e}")
        return
    rows = views.status_rows(stats)
    cols = st.columns(5)
    for col, (label, value) in zip(cols, rows[:5]):
        col.metric(label, value)
    st.table({"Mục": [k for k, _ in rows[5:]], "Giá trị": [v for _, v in rows[5:]]})


# --- page ---------------------------------------------------------------------------------------------------

def main() -> None:
    st.set_page_config(page_title="Tra cứu văn bản chỉ đạo", page_icon="📜", layout="wide")
    st.html(CSS)
    index_dir, corpus_dir, upload_dir = settings()
    runner = get_runner(index_dir)
    if not runner.library.has_index():
        first_build(runner, corpus_dir, upload_dir)
        return
    try:
        lib = get_library(index_dir)
    except VanbanError as e:
        st.error(views.md_escape(f"Không mở được chỉ mục tại “{index_dir}”: {e}"))
        return
    who = ANYONE

    if "q" not in st.session_state and st.query_params.get("q"):
        st.session_state["q"] = st.query_params["q"]
    if st.query_params.get("doc"):
        document_page(lib, who, index_dir, st.query_params["doc"])
        return

    filters, k = sidebar_filters(lib, who)
    st.title("Tra cứu văn bản chỉ đạo")
    tabs = dict(zip(TABS, st.tabs(TABS, key="tab", on_change="rerun")))
    pages = {"Tra cứu": lambda: search_page(lib, who, runner, filters, k),
             "Mạng trích dẫn": lambda: graph_page(lib, who, index_dir),
             "So sánh tỉnh": lambda: compare_page(lib, who, index_dir),
             "Nhiệm vụ & thời hạn": lambda: tasks_page(lib, who, index_dir),
             "Văn bản tương tự": lambda: similar_page(lib, who, index_dir),
             "Quản trị": lambda: admin_page(lib, runner, corpus_dir, upload_dir)}
    for name, tab in tabs.items():
        if tab.open:  # lazy tabs: only the open one runs
            with tab:
                pages[name]()


main()
