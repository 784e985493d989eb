"""Tài khoản: who is signed in, with which role and groups; sign-out."""
from __future__ import annotations

import streamlit as st

from ui import shell
from ui.safe import md

ROLE_NAMES = {"admin": "quản trị viên", "reader": "người đọc"}


def render(ctx: shell.Context) -> None:
    who = ctx.who
    st.title("Tài khoản", anchor=False)
    rows = [("Tên đăng nhập", who.name or ""), ("Vai trò", ROLE_NAMES.get(who.role, who.role)),
            ("Nhóm", "mọi văn bản (quản trị viên)" if who.is_admin else
             ", ".join(sorted(who.groups)) or "không thuộc nhóm nào: chỉ văn bản công khai"),
            ("Cách đăng nhập", "tài khoản một cửa của tỉnh" if ctx.sso else "tài khoản của hệ thống")]
    st.table({"Mục": [k for k, _ in rows], "Giá trị": [md(v) for _, v in rows]})
    if st.button("Đăng xuất", type="primary"):
        shell.sign_out(ctx)
        shell.go_home_after_sign_out(ctx)


if __name__ == "__main__":  # run by st.navigation as a page script
    shell.run_page(render)
