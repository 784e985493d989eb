"""Quản trị (administrators only): upload files, update from the document folders, index status.

Every ingest runs as the signed-in administrator (recorded in the audit under that name). Upload limits
are the settings VANBAN_MAX_UPLOAD_MB and VANBAN_MAX_UPLOAD_FILES; a file the ingest refuses is removed
from the upload folder, so later updates from the folders do not read it again.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from index.errors import VanbanError
from index.uploads import UPLOAD_TYPES
from index.users import check_name

from ui import jobs, shell
from ui.render import report_rows, report_summary, status_rows
from ui.safe import md


@st.fragment(run_every=1.0)
def ingest_progress(runner: jobs.IngestRunner) -> None:
    job = runner.job
    if job is None or not job.running:
        st.rerun()  # the whole page, to show the report and the new facets
    st.progress(job.fraction, text=md(job.message))


def render(ctx: shell.Context) -> None:
    if not ctx.who.is_admin:   # the page is not in a reader's navigation; this guards a stale session
        st.error("Chỉ quản trị viên được mở trang này.")
        return
    runner, s = ctx.runner, ctx.settings
    st.subheader("Thêm văn bản", anchor=False)
    st.caption("Tải lên tệp PDF, DOCX, TXT hoặc MD. Trong khi nạp, tra cứu vẫn dùng chỉ mục trước đó.")
    n = st.session_state.setdefault("uploader_n", 0)
    files = st.file_uploader("Tệp văn bản", type=list(UPLOAD_TYPES), accept_multiple_files=True,
                             key=f"uploader-{n}")
    group = st.text_input("Nhóm được xem (để trống: văn bản công khai)", key="a_group",
                          placeholder="Ví dụ: noi-bo-vp (chỉ thành viên nhóm và quản trị viên xem được)")
    c1, c2 = st.columns(2)
    if c1.button("Nạp các tệp đã chọn", type="primary", disabled=runner.running or not files):
        try:
            if group.strip():
                check_name(group.strip(), "nhóm")
            paths = ctx.lib.upload(ctx.who, files)  # limits checked there, before anything is written
            runner.start(ctx.who, paths, group=group.strip() or None, label="upload", discard_refused=True)
            st.session_state["uploader_n"] = n + 1
            st.rerun()
        except (jobs.BusyError, VanbanError, OSError, ValueError) as e:
            st.error(md(f"Không nạp được: {e}"))
    with c2:
        prune = st.checkbox("Xoá khỏi chỉ mục các tệp không còn trong thư mục", value=False)
        if st.button(md(f"Cập nhật từ thư mục văn bản “{s.corpus_dir}”"), disabled=runner.running):
            try:
                runner.start(ctx.who, [p for p in (s.corpus_dir, ctx.upload_dir) if Path(p).is_dir()],
                             prune=prune, label="corpus")
                st.rerun()
            except jobs.BusyError as e:
                st.error(md(str(e)))

    job = runner.job
    if job is not None and job.running:
        ingest_progress(runner)
    elif job is not None:
        st.subheader("Kết quả lần nạp gần nhất", anchor=False)
        if job.state == "failed":
            st.error(md(f"Nạp dữ liệu thất bại: {job.error}"))
        else:
            report = job.report or {}
            (st.warning if report.get("failed") else st.success)(md(report_summary(report)))
            rows = report_rows(report)
            if rows:
                st.table([{k: md(v) for k, v in r.items()} for r in rows])
        if job.discarded:
            st.caption(md("Đã xoá khỏi thư mục tải lên các tệp không nạp được: "
                          + "; ".join(Path(p).name for p in job.discarded)))

    st.subheader("Trạng thái chỉ mục", anchor=False)
    rows = status_rows(ctx.lib.stats(ctx.who))
    cols = st.columns(5)
    for col, (label, value) in zip(cols, rows[:5]):
        col.metric(label, value)
    st.table({"Mục": [k for k, _ in rows[5:]], "Giá trị": [md(v) for _, v in rows[5:]]})


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
