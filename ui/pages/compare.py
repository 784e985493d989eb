"""So sánh tỉnh: provinces (or single documents) side by side: the central documents each cites, a
timeline and the themes of their passages."""
from __future__ import annotations

import functools

import streamlit as st

from ui import charts as rv
from ui import shell
from ui.render import card_html, doc_link, highlight
from ui.safe import esc, link, md, show
from ui.pages.network import keep_choice


def on_matrix_select(rows: list[str]) -> None:
    cell = rv.selected_cell(st.session_state.get("c_matrix"))
    if cell and 0 <= cell[0] < len(rows):
        st.session_state["c_row"] = rows[cell[0]]


def on_theme_select() -> None:
    points = rv.selection_values(st.session_state.get("c_theme_chart"), rv.THEME_SELECTION)
    if points and points[0].get("theme"):
        st.session_state["c_theme"] = points[0]["theme"]
        st.session_state["c_theme_col"] = points[0]["column"]


def render(ctx: shell.Context) -> None:
    facets = ctx.lib.facets(ctx.who)
    doc_names = rv.document_options(ctx.lib.documents(ctx.who)["documents"])
    c1, c2 = st.columns(2)
    provinces = c1.multiselect("Tỉnh/thành", facets["province"], default=facets["province"][:2],
                               key="c_provinces", placeholder="Chọn tỉnh/thành")
    doc_ids = c2.multiselect("Văn bản (thêm cột cho từng văn bản)", list(doc_names), format_func=doc_names.get,
                             key="c_docs", placeholder="Chọn văn bản")
    if len(provinces) + len(doc_ids) < 2:
        st.info("Chọn ít nhất hai tỉnh/thành hoặc văn bản để so sánh.")
        return
    with st.spinner("Đang so sánh…"):
        r = shell.compare(ctx, provinces, doc_ids)
    columns = r["columns"]
    st.caption(md(" · ".join(f"{c['label']}: {len(c['doc_ids'])} văn bản" for c in columns)))
    central(r, columns)

    st.subheader("Dòng thời gian", anchor=False)
    timeline = rv.timeline_frame(r)
    if timeline.empty:
        st.caption("Các văn bản đã chọn không ghi ngày ban hành.")
    else:
        st.altair_chart(rv.timeline_chart(timeline), width="stretch")
    undated = [t["number"] or "?" for t in r["timeline"] if not t["date"]]
    if undated:
        show(f'<div class="vb-small">Không rõ ngày ban hành: {esc("; ".join(undated))}</div>')
    themes(ctx, r, columns)


def central(r: dict, columns: list[dict]) -> None:
    st.subheader("Văn bản trung ương được trích dẫn", anchor=False)
    matrix = rv.central_matrix_frame(r)
    if matrix.empty:
        st.caption("Các cột đã chọn không trích dẫn văn bản trung ương nào.")
        return
    rows = matrix["Văn bản trung ương"].tolist()
    st.caption("Mỗi ô ghi số hiệu các văn bản trích dẫn; bấm vào một ô để xem đoạn trích dẫn.")
    st.dataframe(matrix, hide_index=True, key="c_matrix", on_select=functools.partial(on_matrix_select, rows),
                 selection_mode="single-cell", width="stretch")
    keep_choice("c_row", rows)
    row = st.selectbox("Đoạn trích dẫn của", rows, key="c_row", placeholder="Chọn…")
    cells = rv.central_cell(r, row)
    for col, c in zip(st.columns(len(columns)), columns):
        parts = [f"<p><b>{esc(c['label'])}</b></p>"]
        if not cells[c["id"]]:
            parts.append('<div class="vb-small">Không trích dẫn văn bản này.</div>')
        parts += [card_html(link(x["number"] or "văn bản", x["link"]), x["html"]) for x in cells[c["id"]]]
        show("".join(parts), col)


def themes(ctx: shell.Context, r: dict, columns: list[dict]) -> None:
    st.subheader("Chủ đề", anchor=False)
    st.caption("Số đoạn văn bản thuộc mỗi chủ đề; bấm vào một ô để xem các đoạn đó.")
    st.altair_chart(rv.theme_chart(rv.theme_frame(r)), key="c_theme_chart", on_select=on_theme_select,
                    selection_mode=rv.THEME_SELECTION, width="stretch")
    names = [t["theme"] for t in r["theme_matrix"]]
    col_ids = [c["id"] for c in columns]
    first = rv.default_theme_cell(r) or (names[0], col_ids[0])
    keep_choice("c_theme", names, first[0])
    keep_choice("c_theme_col", col_ids, first[1])
    t1, t2 = st.columns(2)
    theme = t1.selectbox("Chủ đề", names, key="c_theme", placeholder="Chọn…")
    column = t2.selectbox("Cột", col_ids, key="c_theme_col", placeholder="Chọn…")
    cell = rv.theme_cell(r, theme, column)
    parts = [f"<p><b>{esc(theme)} · {esc(column)}: {cell['count']} đoạn</b></p>"]
    for p in ctx.lib.passages(ctx.who, cell["passage_ids"]):
        where = " · ".join(x for x in [p["label"] or "", f"trang {p['page']}" if p["page"] else ""] if x)
        head = link(p["number"] or "văn bản", doc_link(p["doc_id"], p["passage_id"]))
        parts.append(card_html(head + (f" · {esc(where)}" if where else ""),
                               highlight(p["text"], "", strip_markup=True)))
    show("".join(parts))


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
