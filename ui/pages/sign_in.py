"""Đăng nhập: local accounts (``python -m index users add``) or the province's single sign-on."""
from __future__ import annotations

import streamlit as st

from index.errors import Unauthorized

from ui import shell
from ui.safe import md


def render(ctx: shell.Context) -> None:
    st.title("Đăng nhập", anchor=False)
    if ctx.settings.anonymous == "none":
        st.caption("Cần đăng nhập để tra cứu văn bản.")
    else:
        st.caption("Khách chưa đăng nhập tra cứu được các văn bản công khai; đăng nhập để xem văn bản của nhóm "
                   "mình và (với quản trị viên) nạp văn bản.")
    if shell.sso_configured():
        if st.button("Đăng nhập bằng tài khoản một cửa của tỉnh", type="primary"):
            st.login()
        st.caption("Hoặc dùng tài khoản riêng của hệ thống:")
    with st.form("dang-nhap", clear_on_submit=False, border=True, width=420):
        name = st.text_input("Tên đăng nhập", key="si_name", autocomplete="username")
        password = st.text_input("Mật khẩu", type="password", key="si_password", autocomplete="current-password")
        submitted = st.form_submit_button("Đăng nhập", type="primary")
    if not submitted:
        return
    if not name.strip() or not password:
        st.error("Hãy nhập tên đăng nhập và mật khẩu.")
        return
    try:
        who = shell.sign_in(ctx, name.strip(), password)
    except Unauthorized as e:
        st.error(md(e.message))
        return
    st.session_state.pop("si_password", None)
    st.toast(md(f"Đã đăng nhập: {who.name}"))
    shell.go("search")


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
