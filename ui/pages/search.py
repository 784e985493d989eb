"""Tra cứu: one search box for questions, numbers and references; answer first, then the passages.

The question and the sidebar filters are bound to the address (``?q=…&tinh=…&nam=2017&nam=2019&loai=…
&co_quan=…&k=…``), so a search is a link that can be shared; opening it restores the same search.
"""
from __future__ import annotations

import streamlit as st

from index.export import results_csv
from index.search import Filters
from vn.cite import format_citation
from vn.text import fold, has_diacritics

from ui import shell
from ui.render import (doc_link, document_label, names_a_document, no_result_hints, passage_cards, result_card_html)
from ui.safe import esc, hide_paths, link, md, show

ALL = "Tất cả"
EXAMPLES = ["Văn bản nào trích dẫn Chỉ thị 16?", "1321/UBND-KGVX", "dan van kheo"]
# widget key = query parameter name
Q, PROVINCE, YEARS, TYPE, ISSUER, K = "q", "tinh", "nam", "loai", "co_quan", "k"
DEFAULT_K = 8


def set_query(text: str) -> None:
    st.session_state[Q] = text


def clear_filters(years: tuple[int, int] | None) -> None:
    for key in (PROVINCE, TYPE, ISSUER):
        st.session_state[key] = ALL
    if years:
        st.session_state[YEARS] = years


def sidebar_filters(ctx: shell.Context) -> tuple[Filters, int, tuple | None]:
    facets = ctx.lib.facets(ctx.who)
    sb = st.sidebar
    sb.header("Bộ lọc", anchor=False)
    province = sb.selectbox("Tỉnh/thành", [ALL] + facets["province"], key=PROVINCE, placeholder="Chọn…", bind="query-params")
    years = facets["year"]
    full = (years[0], years[-1]) if len(years) >= 2 else None
    year_from = year_to = None
    if full:
        # the years of the index change with an ingest: a choice that was "every year" stays every year,
        # and one outside the new range starts over
        chosen, before = st.session_state.get(YEARS), st.session_state.get("_years_full")
        if chosen is not None and (tuple(chosen) == before or not full[0] <= chosen[0] <= chosen[1] <= full[1]):
            st.session_state[YEARS] = full
        st.session_state["_years_full"] = full
        lo, hi = sb.slider("Năm ban hành", min_value=full[0], max_value=full[1], value=full, key=YEARS,
                           bind="query-params")
        if (lo, hi) != full:
            year_from, year_to = lo, hi
    doc_type = sb.selectbox("Loại văn bản", [ALL] + facets["doc_type"], key=TYPE, placeholder="Chọn…", bind="query-params")
    issuer = sb.selectbox("Cơ quan ban hành", [ALL] + facets["issuer"], key=ISSUER, placeholder="Chọn…", bind="query-params")
    f = Filters(province=None if province == ALL else province, year_from=year_from, year_to=year_to,
                doc_type=None if doc_type == ALL else doc_type, issuer=None if issuer == ALL else issuer)
    if not f.empty():
        sb.button("Bỏ tất cả bộ lọc", on_click=clear_filters, args=(full,))
    sb.divider()
    k = sb.slider("Số đoạn văn bản hiển thị", 3, 20, DEFAULT_K, key=K, bind="query-params")
    return f, k, full


def render(ctx: shell.Context) -> None:
    if st.query_params.get("doc"):  # an address from before the document view had its own page
        shell.go("document", {k: st.query_params[k] for k in ("doc", "p", "q") if k in st.query_params})
    filters, k, full_years = sidebar_filters(ctx)
    st.title(shell.APP_TITLE, anchor=False)
    st.text_input("Câu hỏi, số hiệu hoặc tham chiếu", key=Q, bind="query-params",
                  placeholder="Ví dụ: Văn bản nào trích dẫn Chỉ thị 16? · 1321/UBND-KGVX · dan van kheo")
    cols = st.columns(len(EXAMPLES) + 1)
    cols[0].caption("Thử:")
    for col, ex in zip(cols[1:], EXAMPLES):
        col.button(md(ex), key=f"ex-{ex}", on_click=set_query, args=(ex,), width="stretch")
    if ctx.runner.running:
        st.info("Đang cập nhật chỉ mục; kết quả hiện dùng chỉ mục trước đó cho đến khi cập nhật xong.")

    query = (st.session_state.get(Q) or "").strip()
    if not query:
        st.caption("Gõ câu hỏi (có dấu hoặc không dấu), số hiệu văn bản hoặc tên văn bản được trích dẫn "
                   "rồi nhấn Enter.")
        return
    with st.spinner("Đang tìm…"):
        result = shell.ask(ctx, query, k, filters)
    answer = result.get("answer") or ""
    if not ctx.who.is_admin:
        answer = hide_paths(answer)   # a document without a number is named by its file

    if not result["passages"]:
        no_result(ctx, query, filters, full_years, result, answer)
        return

    st.subheader("Trả lời", anchor=False)
    st.success(md(answer))
    docs = result.get("documents") or []
    cards = passage_cards(result, query)
    if docs:
        st.subheader(f"Văn bản liên quan ({len(docs)})", anchor=False)
        show('<div class="vb-line">' + "<br>".join(
            link(document_label(d), doc_link(d["id"], query=query)) + (f" — {esc(d['title'])}" if d.get("title") else "")
            for d in docs) + "</div>")
    show('<div class="vb-legend"><mark class="hl">từ khớp</mark><span class="ans">câu trả lời</span>'
         '<mark class="quote">trích dẫn nguyên văn</mark></div>')
    st.subheader(f"Đoạn văn bản hỗ trợ ({len(cards)})", anchor=False)
    show("".join(result_card_html(i, c) for i, c in enumerate(cards, 1)))

    st.subheader("Sao chép và tải về", anchor=False)
    citations = list(dict.fromkeys(format_citation(d) for d in docs)) or \
        list(dict.fromkeys(c["citation"] for c in cards))
    st.caption("Trích dẫn theo thể thức văn bản (bấm biểu tượng sao chép ở góc khung):")
    st.code("\n".join(citations), language=None)
    st.download_button("Tải kết quả (CSV)", data=results_csv(result).encode("utf-8-sig"),
                       file_name="ket-qua-tra-cuu.csv", mime="text/csv")


def no_result(ctx: shell.Context, query: str, filters: Filters, full_years, result: dict, answer: str) -> None:
    st.warning(md(answer or "Không tìm thấy kết quả."))
    for i, c in enumerate(result.get("candidates") or []):
        st.button(md(f"{c['canonical']} ({c['n_documents']} văn bản trích dẫn)"), key=f"cand-{i}",
                  on_click=set_query, args=(f"Văn bản nào trích dẫn {c['canonical']}?",))
    related = result.get("related") or []
    if related:  # no answer: the closest passages, in their own section, nothing marked as answering
        with st.container(border=True):
            st.subheader(f"Có thể liên quan ({len(related)})", anchor=False)
            st.caption("Các đoạn gần nhất với câu hỏi; không đoạn nào được xác định là câu trả lời.")
            cards = passage_cards({**result, "passages": related}, query)
            show("".join(result_card_html(i, c) for i, c in enumerate(cards, 1)))
    hints = no_result_hints(query, filters, result)
    show('<div class="vb-hints"><b>Gợi ý:</b><ul>' + "".join(f"<li>{esc(h)}</li>" for h in hints) + "</ul></div>")
    b1, b2 = st.columns(2)
    if not filters.empty():
        b1.button("Bỏ tất cả bộ lọc", key="clear-filters-main", on_click=clear_filters, args=(full_years,))
    if has_diacritics(query) and not names_a_document(result):
        b2.button(md(f"Tìm không dấu: {fold(query)}"), key="fold", on_click=set_query, args=(fold(query),))


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
