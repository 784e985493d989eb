"""The page's style sheet, sent first by app.py, before anything slow. Streamlit's English "Running… /
Stop" widget (shown 0.5 s into a script run) is off through .streamlit/config.toml (ui.hideTopBar: a
style sheet sent by the script can come too late on a busy first run); the rule here only backs it up."""
from __future__ import annotations

__all__ = ["css", "page_css"]

_CSS = """
<style>
/* the English "Running… / Stop" widget; the pages show their own Vietnamese spinners and progress bars */
[data-testid="stStatusWidget"] {visibility: hidden;}
#MainMenu {visibility: hidden;}
/* "Press Enter to apply" / "Press Enter to submit form" under text boxes: English */
[data-testid="InputInstructions"] {display: none;}
.vb-card {border: 1px solid rgba(49,51,63,.15); border-radius: .5rem; padding: .75rem 1rem; margin-bottom: .8rem;}
.vb-card .vb-head {font-weight: 600; margin-bottom: .15rem;}
.vb-card .vb-meta, .vb-small {color: #555; font-size: .88rem; margin-bottom: .4rem;}
.vb-text {white-space: pre-wrap; line-height: 1.55;}
.vb-full {white-space: pre-wrap; line-height: 1.55; max-height: 70vh; overflow-y: auto;
          border: 1px solid rgba(49,51,63,.15); border-radius: .5rem; padding: .75rem 1rem;}
.vb-line {margin: .2rem 0 .5rem 0; line-height: 1.5;}
mark.hl {background: #ffe58f; padding: 0 1px;}
mark.quote {background: #ffd591; font-weight: 600;}
.ans {background: #e6f4ea; border-bottom: 2px solid #34a853;}
.psg {background: #e8f0fe;}
.ref {text-decoration: underline dotted;}
.vb-legend span, .vb-legend mark {padding: 0 .3rem; margin-right: .6rem; font-size: .85rem;}
.vb-hints ul {margin: .2rem 0 .6rem 1.2rem;}
table.vb-tasks {width: 100%; table-layout: fixed; border-collapse: collapse; font-size: .9rem;}
table.vb-tasks th, table.vb-tasks td {border: 1px solid rgba(49,51,63,.15); padding: .35rem .5rem; vertical-align: top;
  overflow-wrap: anywhere; text-align: left;}
table.vb-tasks th {background: rgba(49,51,63,.04); font-weight: 600;}
/* Streamlit's uploader is in English; staff read Vietnamese only */
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {font-size: 0;}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "Chọn tệp"; font-size: .9rem;}
[data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0;}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "Kéo thả tệp vào đây · PDF, DOCX, TXT, MD · tối đa {max_mb} MB mỗi tệp"; font-size: .85rem;}
</style>
"""


def css(max_upload_mb: int = 50) -> str:
    return _CSS.replace("{max_mb}", str(int(max_upload_mb)))


def page_css() -> str:
    """The style sheet with the upload limit of the settings (the default if they cannot be read: the
    app reports that itself)."""
    try:
        from index.settings import settings
        return css(settings().max_upload_mb)
    except Exception:
        return css()
