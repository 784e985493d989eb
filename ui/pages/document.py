"""Văn bản: one document (``van-ban?doc=ID&p=PASSAGE&q=QUESTION``): its metadata, full text with the
chosen passage marked, the documents it cites, those citing it and similar ones of other provinces."""
from __future__ import annotations

import streamlit as st

from ui import shell
from ui.render import doc_link, document_html, highlight, metadata_rows, similar_cards
from ui.safe import esc, link, md, show

MAX_ID_CHARS = 24   # an id longer than this is not one; the message does not echo it whole


def render(ctx: shell.Context) -> None:
    query = st.query_params.get("q") or ""
    back = {"q": query} if query else None
    st.page_link(shell.page_object("search"), label="← Quay lại tìm kiếm", query_params=back)
    raw = (st.query_params.get("doc") or "").strip()
    if not raw:
        st.info("Chọn một văn bản trong kết quả tìm kiếm để xem toàn văn.")
        return
    view = ctx.lib.document(ctx.who, raw if len(raw) <= MAX_ID_CHARS else raw[:MAX_ID_CHARS] + "…")
    doc = view["document"]
    st.title(md(view["citation"]), anchor=False)
    if doc.get("title"):
        show(f'<p class="vb-line"><b>V/v {esc(doc["title"])}</b></p>')
    st.code(view["citation"], language=None)

    left, right = st.columns([3, 2])
    with right:
        st.subheader("Thông tin văn bản", anchor=False)
        rows = metadata_rows(doc, paths=ctx.who.is_admin)   # server paths: administrators only
        st.table({"Trường": [k for k, _ in rows], "Giá trị": [md(v) for _, v in rows]})
        references(view)
        st.subheader("Văn bản tương tự ở tỉnh/thành khác", anchor=False)
        similar = similar_cards(shell.similar(ctx, doc["id"], 3))
        if not similar:
            st.caption("Không có văn bản nào của tỉnh/thành khác để so sánh.")
        else:
            show('<div class="vb-line">' + "<br>".join(f"{link(c['citation'], c['link'])} · độ tương đồng {c['score']}%"
                                                      for c in similar) + "</div>")
    with left:
        full_text(view, query)


def references(view: dict) -> None:
    st.subheader(f"Văn bản được trích dẫn ({len(view['outgoing'])})", anchor=False)
    if not view["outgoing"]:
        st.caption("Văn bản này không trích dẫn văn bản nào khác.")
    parts = []
    for o in view["outgoing"]:
        if o["target"]:
            head = f'{link(o["canonical"], doc_link(o["target"]["id"]))} — {esc(o["target"]["citation"])}'
        else:
            head = f"{esc(o['canonical'])} <span style='color:#888'>(chưa có trong chỉ mục)</span>"
        quotes = "; ".join(f"“{q}”" for q in o["quotes"])
        times = f" · {o['count']} lần" if o["count"] > 1 else ""
        parts.append(f'<div class="vb-line">{head}<div class="vb-small">{esc(f"Viết trong văn bản: {quotes}{times}")}'
                     "</div></div>")
    if parts:
        show("".join(parts))
    st.subheader(f"Văn bản trích dẫn văn bản này ({len(view['incoming'])})", anchor=False)
    if not view["incoming"]:
        st.caption("Chưa có văn bản nào trong chỉ mục trích dẫn văn bản này.")
    parts = []
    for e in view["incoming"]:
        parts.append(f'<div class="vb-line">{link(e["citation"], doc_link(e["document"]["id"]))}</div>')
        for p in e["passages"]:
            body = highlight(p["text"], "", [(p["quote_start"], p["quote_end"], "quote")], strip_markup=True)
            parts.append(f'<div class="vb-card vb-text">{body}</div>')
    if parts:
        show("".join(parts))


def full_text(view: dict, query: str) -> None:
    st.subheader("Toàn văn", anchor=False)
    try:
        selected = int(st.query_params.get("p") or -1)
    except ValueError:
        selected = -1
    chosen = next((p for p in view["passages"] if p["passage_id"] == selected), None)
    if chosen:
        where = chosen["label"] or f"đoạn {chosen['ord'] + 1}"
        st.caption(md(f"Đoạn đang xem ({where}) được tô nền xanh trong toàn văn; "
                      "các văn bản được trích dẫn được gạch chân."))
    show(f'<div class="vb-full">{document_html(view, query, selected if chosen else None)}</div>')
    if chosen:  # bring the passage into view; our own fixed script, no document content in it
        st.html(f"<script>setTimeout(() => {{const el = document.getElementById('passage-{int(selected)}');"
                "if (el) el.scrollIntoView({block: 'center'});}, 300);</script>", unsafe_allow_javascript=True)


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
