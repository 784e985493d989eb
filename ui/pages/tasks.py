"""Nhiệm vụ & thời hạn: agencies, tasks, deadlines and the source sentence, as a table that fits the page."""
from __future__ import annotations

import streamlit as st

from index import research

from ui import charts as rv
from ui import shell
from ui.safe import esc, link, show

ALL = "Tất cả"
PAGE_ROWS = 100


def render(ctx: shell.Context) -> None:
    facets = ctx.lib.facets(ctx.who)
    c1, c2, c3 = st.columns([2, 3, 2])
    province = c1.selectbox("Tỉnh/thành", [ALL] + facets["province"], key="t_province", placeholder="Chọn…")
    agency = c2.text_input("Cơ quan", key="t_agency", placeholder="Ví dụ: Sở Nội vụ (có dấu hoặc không dấu)")
    dated = c3.checkbox("Chỉ nhiệm vụ có thời hạn", key="t_dated")
    items = shell.tasks(ctx, None if province == ALL else province, agency.strip() or None, dated)
    deadlines = rv.deadline_list(items)
    st.caption(f"{len(items)} nhiệm vụ, {len(deadlines)} có hạn cụ thể.")
    if not items:
        st.info("Không tìm thấy nhiệm vụ nào khớp bộ lọc.")
        return
    shown = items
    if len(items) > PAGE_ROWS:
        pages = (len(items) + PAGE_ROWS - 1) // PAGE_ROWS
        n = st.number_input(f"Trang (mỗi trang {PAGE_ROWS} nhiệm vụ)", 1, pages, 1, key="t_page")
        ordered = sorted(items, key=lambda t: (t.get("deadline") or "9999", t.get("number") or "",
                                               t.get("passage_id") or 0))
        shown = ordered[(int(n) - 1) * PAGE_ROWS:int(n) * PAGE_ROWS]
    show(rv.task_table_html(shown))
    d1, d2 = st.columns(2)
    d1.download_button("Tải bảng nhiệm vụ (CSV)", data=research.tasks_csv(items).encode("utf-8-sig"),
                       file_name="nhiem-vu.csv", mime="text/csv")
    d2.download_button("Tải lịch các thời hạn (iCalendar)", data=research.tasks_ics(items).encode("utf-8"),
                       file_name="han-nhiem-vu.ics", mime="text/calendar", disabled=not deadlines)
    st.subheader("Các thời hạn", anchor=False)
    if not deadlines:
        st.caption("Không có nhiệm vụ nào ghi ngày hạn cụ thể.")
        return
    show("".join(f'<div class="vb-line"><b>{esc(d["date_text"])}</b> — {esc(d["agency"])} — '
                 f'{link(d["number"] or "văn bản", d["link"])}: {esc(d["task"])}</div>' for d in deadlines))


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
