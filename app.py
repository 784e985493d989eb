"""Streamlit front end: search and cited answers for staff, ingest and status for administrators.

    streamlit run app.py

A thin view over the same functions ``python -m index`` calls (index.qa.ask, Searcher.stats, ...)
and the display helpers of index.views; no SQL, parsing or fusion here. Settings come from the
environment: VANBAN_INDEX_DIR (default .index), VANBAN_CORPUS_DIR (default corpus/) and
VANBAN_UPLOAD_DIR (default <index dir>/uploads, where uploaded files are kept).
"""
from __future__ import annotations

import html
import os
import time
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from index import views
from index.qa import ask, format_citation
from index.search import Filters, open_searcher
from ingest.normalize import fold

ALL = "Tất cả"
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
    index_dir = os.environ.get("VANBAN_INDEX_DIR", ".index")
    corpus_dir = os.environ.get("VANBAN_CORPUS_DIR", "corpus")
    upload_dir = os.environ.get("VANBAN_UPLOAD_DIR", str(Path(index_dir) / "uploads"))
    return index_dir, corpus_dir, upload_dir


@st.cache_resource(show_spinner="Đang nạp mô hình và chỉ mục…")
def get_searcher(index_dir: str):
    return open_searcher(index_dir)


@st.cache_resource
def get_runner(index_dir: str) -> views.IngestRunner:
    return views.IngestRunner(index_dir)


def has_index(index_dir: str) -> bool:
    from index.generation import current_generation
    return current_generation(Path(index_dir)) is not None


def source_paths(corpus_dir: str, upload_dir: str) -> list[str]:
    return [p for p in (corpus_dir, upload_dir) if Path(p).is_dir()]


# --- first start ------------------------------------------------------------------------------------

def first_build(runner: views.IngestRunner, corpus_dir: str, upload_dir: str) -> None:
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
            job = runner.start(paths, label="first")
        except views.BusyError:
            job = runner.job
    elif job.state == "failed" and not job.running:
        if st.button("Thử dựng lại chỉ mục"):
            runner.job = None
            st.rerun()
    bar = st.progress(0.0, text="Đang chuẩn bị…")
    while job.running:
        bar.progress(job.fraction, text=job.message)
        time.sleep(0.25)
    if job.state == "failed" or not has_index(runner.index_dir):
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


def sidebar_filters(searcher) -> tuple[Filters, int]:
    facets = searcher.store.facets()
    sb = st.sidebar
    sb.header("Bộ lọc")
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


def search_page(searcher, runner: views.IngestRunner, filters: Filters, k: int) -> None:
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
            result = ask(searcher, query, k=k, filters=filters)
    except Exception as e:  # a broken index or model: a message, never a traceback
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
    st.download_button("Tải kết quả (CSV)", data=views.results_csv(result).encode("utf-8-sig"),
                       file_name="ket-qua-tra-cuu.csv", mime="text/csv")


# --- document page ---------------------------------------------------------------------------------------

def document_page(searcher, raw_id: str) -> None:
    query = st.query_params.get("q") or ""
    back = "?" + urlencode({"q": query}) if query else "?"
    st.markdown(f'<a href="{html.escape(back)}" target="_self">← Quay lại tìm kiếm</a>', unsafe_allow_html=True)
    try:
        doc_id = int(raw_id)
    except ValueError:
        st.error(views.md_escape(f"Mã văn bản “{raw_id}” không hợp lệ."))
        return
    view = views.document_view(searcher, doc_id)
    if view is None:
        st.error(f"Không tìm thấy văn bản mã {doc_id} trong chỉ mục (có thể đã được thay thế khi nạp lại).")
        return
    doc = view["document"]
    st.title(views.md_escape(view["citation"]))
    if doc.get("title"):
        st.markdown(f"<p><b>V/v {html.escape(doc['title'])}</b></p>", unsafe_allow_html=True)
    st.code(view["citation"], language=None)

    left, right = st.columns([3, 2])
    with right:
        st.subheader("Thông tin văn bản")
        st.table({"Trường": [k for k, _ in view["metadata"]], "Giá trị": [v for _, v in view["metadata"]]})
        st.subheader(f"Văn bản được trích dẫn ({len(view['outgoing'])})")
        if not view["outgoing"]:
            st.caption("Văn bản này không trích dẫn văn bản nào khác.")
        for o in view["outgoing"]:
            quotes = "; ".join(f"“{q}”" for q in o["quotes"])
            if o["target"]:
                st.markdown(f'<a href="{html.escape(o["target"]["link"])}" target="_self">'
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
            st.markdown(f'<a href="{html.escape(e["link"])}" target="_self">{html.escape(e["citation"])}</a>',
                        unsafe_allow_html=True)
            for p in e["passages"]:
                body = views.highlight(p["text"], "", [(p["quote_start"], p["quote_end"], "quote")], strip_markup=True)
                st.markdown(f'<div class="vb-card vb-text">{body}</div>', unsafe_allow_html=True)

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


# --- administration -----------------------------------------------------------------------------------

@st.fragment(run_every=1.0)
def ingest_progress(runner: views.IngestRunner) -> None:
    job = runner.job
    if job is None or not job.running:
        st.rerun()  # the whole page, to show the report and the new facets
    st.progress(job.fraction, text=job.message)


def admin_page(searcher, runner: views.IngestRunner, corpus_dir: str, upload_dir: str) -> None:
    st.subheader("Thêm văn bản")
    st.caption("Tải lên tệp PDF, DOCX, TXT hoặc MD. Trong khi nạp, tra cứu vẫn dùng chỉ mục trước đó.")
    n = st.session_state.setdefault("uploader_n", 0)
    files = st.file_uploader("Tệp văn bản", type=list(views.UPLOAD_TYPES), accept_multiple_files=True,
                             key=f"uploader-{n}")
    c1, c2 = st.columns(2)
    if c1.button("Nạp các tệp đã chọn", type="primary", disabled=runner.running or not files):
        try:
            paths = views.save_uploads(files, upload_dir)
            runner.start(paths, embedder=searcher.embedder, label="upload")
            st.session_state["uploader_n"] = n + 1
            st.rerun()
        except (views.BusyError, OSError, ValueError) as e:
            st.error(f"Không nạp được: {e}")
    with c2:
        prune = st.checkbox("Xoá khỏi chỉ mục các tệp không còn trong thư mục", value=False)
        if st.button(f"Cập nhật từ thư mục văn bản “{corpus_dir}”", disabled=runner.running):
            try:
                runner.start(source_paths(corpus_dir, upload_dir), prune=prune, embedder=searcher.embedder,
                             label="corpus")
                st.rerun()
            except views.BusyError as e:
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
        stats = searcher.stats()
    except Exception as e:
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
    if not has_index(index_dir):
        first_build(runner, corpus_dir, upload_dir)
        return
    try:
        searcher = get_searcher(index_dir)
    except Exception as e:
        st.error(f"Không mở được chỉ mục tại “{index_dir}”: {e}")
        return

    if "q" not in st.session_state and st.query_params.get("q"):
        st.session_state["q"] = st.query_params["q"]
    if st.query_params.get("doc"):
        document_page(searcher, st.query_params["doc"])
        return

    filters, k = sidebar_filters(searcher)
    st.title("Tra cứu văn bản chỉ đạo")
    search_tab, admin_tab = st.tabs(["Tra cứu", "Quản trị"])
    with search_tab:
        search_page(searcher, runner, filters, k)
    with admin_tab:
        admin_page(searcher, runner, corpus_dir, upload_dir)


main()
