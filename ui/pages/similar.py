"""Văn bản tương tự: for one document, the closest documents of other provinces and their matching passages."""
from __future__ import annotations

import streamlit as st

from ui import charts as rv
from ui import shell
from ui.render import card_html, doc_link
from ui.safe import esc, link, show


def render(ctx: shell.Context) -> None:
    doc_names = rv.document_options(ctx.lib.documents(ctx.who)["documents"])
    if not doc_names:
        st.info("Chỉ mục chưa có văn bản nào.")
        return
    c1, c2 = st.columns([4, 1])
    doc_id = c1.selectbox("Văn bản", list(doc_names), format_func=doc_names.get, key="s_doc", placeholder="Chọn…")
    k = c2.number_input("Số văn bản", min_value=1, max_value=20, value=5, key="s_k")
    cards = rv.similar_cards(shell.similar(ctx, int(doc_id), int(k)))
    show(f'<div class="vb-line">Văn bản ở tỉnh/thành khác giống nhất với '
         f'{link(doc_names[doc_id], doc_link(doc_id))}:</div>')
    if not cards:
        st.info("Không có văn bản nào của tỉnh/thành khác để so sánh.")
    for i, c in enumerate(cards, 1):
        show(f'<div class="vb-line"><b>{i}. {link(c["citation"], c["link"])}</b> · độ tương đồng {c["score"]}%'
             + (f"<br><i>{esc(c['title'])}</i>" if c["title"] else "") + "</div>")
        for p in c["pairs"]:
            left, right = st.columns(2)
            # passages as escaped HTML in an HTML block: their blank lines cannot end the block and
            # let the rest be read as markdown
            show(card_html("Văn bản đang xem", esc(p["text"])), left)
            head = f"{p['similarity']}% · " + link(p["other_label"] or "đoạn tương ứng", p["link"])
            show(card_html(head, esc(p["other_text"])), right)


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
