"""Streamlit front end: search and cited answers for staff, research views, and (for administrators)
ingest and status.

    streamlit run app.py [--server.port 8502]

A short entry point: the style sheet first (before the slow imports), then the caller (signed in or anonymous) and the pages that caller may open, one
module per page in ui/pages/ (st.navigation). Every read goes through index.library with the caller's
Principal; settings come from the environment (index/settings.py: VANBAN_INDEX_DIR, VANBAN_CORPUS_DIR,
VANBAN_UPLOAD_DIR, VANBAN_ANONYMOUS, ...).
"""
import streamlit as st

st.set_page_config(page_title="Tra cứu văn bản chỉ đạo", page_icon="📜", layout="wide")

from ui.style import page_css  # noqa: E402  (light; the slow imports come after the style sheet)

st.html(page_css())

from ui import shell  # noqa: E402

ctx = shell.start()
st.navigation(shell.pages(ctx), position="top").run()
