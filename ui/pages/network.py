"""Mạng trích dẫn: the documents of the index and the documents they cite; a click on a node opens it."""
from __future__ import annotations

import streamlit as st

from index import research

from ui import charts as rv
from ui import shell
from ui.render import card_html
from ui.safe import esc, link, md, show

ALL = "Tất cả"


def keep_choice(key: str, options: list, default=None) -> None:
    """A picker's remembered value must be one of its current options (filters change them)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else (options[0] if options else None)


def on_graph_select() -> None:
    points = rv.selection_values(st.session_state.get("g_chart"), rv.NODE_SELECTION)
    if points and points[0].get("id"):
        st.session_state["g_node"] = points[0]["id"]


def render(ctx: shell.Context) -> None:
    st.caption("Các văn bản trong chỉ mục (ô vuông) và các văn bản chúng trích dẫn (chấm tròn); nút càng lớn "
               "càng được nhiều văn bản trích dẫn. Bấm vào một nút để xem văn bản và các đoạn trích dẫn nó.")
    facets = ctx.lib.facets(ctx.who)
    c1, c2, c3, c4 = st.columns([2, 3, 3, 2])
    province = c1.selectbox("Tỉnh/thành của văn bản trích dẫn", [ALL] + facets["province"], key="g_province", placeholder="Chọn…")
    years = facets["year"]
    year_from = year_to = None
    if len(years) >= 2:
        lo, hi = c2.slider("Năm ban hành", min_value=years[0], max_value=years[-1], value=(years[0], years[-1]),
                           key="g_years")
        if (lo, hi) != (years[0], years[-1]):
            year_from, year_to = lo, hi
    reference = c3.text_input("Văn bản được trích dẫn", key="g_ref", placeholder="Ví dụ: 114-KL/TW, Chỉ thị 16")
    color_by = c4.radio("Tô màu theo", list(rv.COLOR_BY), format_func=rv.COLOR_BY.get, key="g_color")
    g = shell.graph(ctx, None if province == ALL else province, year_from, year_to, reference.strip() or None)
    if g.number_of_edges() == 0:
        st.info("Không có trích dẫn nào khớp bộ lọc.")
        return
    nodes, edges = rv.graph_frames(g)
    n_docs = int((nodes["kind"] == "indexed").sum())
    st.caption(f"{len(nodes)} nút ({n_docs} văn bản trong chỉ mục), {len(edges)} quan hệ trích dẫn.")
    st.altair_chart(rv.graph_chart(nodes, edges, color_by), key="g_chart", on_select=on_graph_select,
                    selection_mode=rv.NODE_SELECTION, width="content")

    options = rv.node_options(g)
    keep_choice("g_node", options)
    labels = dict(zip(nodes["id"], nodes["label"]))
    node = st.selectbox("Văn bản đang xem (hoặc bấm vào nút trên mạng)", options, key="g_node", placeholder="Chọn…",
                        format_func=lambda n: f"{labels[n]} — {g.nodes[n].get('cited_by', 0)} văn bản trích dẫn")
    det = rv.node_detail(g, node)
    st.subheader(md(det["label"]), anchor=False)
    facts = [f"cấp {det['level']}" if det["level"] else "", det["province"] or "",
             "có trong chỉ mục" if det["kind"] == "indexed" else "chưa có trong chỉ mục"]
    show('<div class="vb-line">' + esc(" · ".join(f for f in facts if f))
         + (f" · {link('Mở văn bản', det['link'])}" if det["link"] else "")
         + (f"<br><i>{esc(det['title'])}</i>" if det["title"] else "") + "</div>")
    st.subheader(f"Được {len(det['citing'])} văn bản trích dẫn", anchor=False)
    if not det["citing"]:
        st.caption("Không có văn bản nào trong mạng trích dẫn văn bản này.")
    cards = []
    for c in det["citing"]:
        for p in c["passages"]:
            head = link(c["label"], c["link"]) + (f" · {esc(c['province'])}" if c["province"] else "")
            if p["link"]:
                head += f" · {link('mở đoạn văn', p['link'])}"
            cards.append(card_html(head, p["html"]))
    if cards:
        show("".join(cards))
    if det["cites"]:
        show(f'<div class="vb-line"><b>Văn bản này trích dẫn {len(det["cites"])} văn bản:</b> '
             + "; ".join(link(c["label"], c["link"]) for c in det["cites"]) + "</div>")

    st.subheader("Tải về", anchor=False)
    d1, d2 = st.columns(2)
    d1.download_button("Tải mạng trích dẫn (GraphML)", data=research.graph_graphml(g).encode("utf-8"),
                       file_name="mang-trich-dan.graphml", mime="application/xml")
    d2.download_button("Tải danh sách cạnh (CSV)", data=research.graph_csv(g).encode("utf-8-sig"),
                       file_name="mang-trich-dan-canh.csv", mime="text/csv")


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
