"""ui/safe.py, the one way untrusted text reaches a page, and the sources that must use it (no Streamlit run)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ui import safe
from ui.safe import WJ

REPO = Path(__file__).resolve().parents[1]
PROBE = "V/v họp ![x](http://host/t.png) [Đăng nhập](http://host/p) <img src=x> www.host.vn a@b.vn :smile: :material/home:"


def test_md_leaves_no_link_image_html_emoji_or_icon_pattern_in_a_title():
    out = safe.md(PROBE)
    assert "](" not in out.replace("\\](", "")                 # every bracket escaped
    assert "http://" not in out and "www." not in out and "a@" not in out   # autolinks broken
    assert ":smile:" not in out and ":material/" not in out
    assert "<" not in out.replace("\\<", "") and "\\<img src=x\\>" in out
    assert out.replace(WJ, "").replace("\\", "") == PROBE       # shown as written


@pytest.mark.parametrize("text, expected", [
    ("1. một", "1\\. một"), ("- hai", "\\- hai"), ("# ba", "\\# ba"), ("> bốn", "\\> bốn"),
    ("a\n\n# b", "a # b"), ("**đậm** _nghiêng_ `mã` $x$ ~gạch~ |ô|", "\\*\\*đậm\\*\\* \\_nghiêng\\_ \\`mã\\` \\$x\\$ \\~gạch\\~ \\|ô\\|"),
    ("&#58; &lt;", "\\&#58; \\&lt;"), ("2 văn bản trích dẫn Chỉ thị 16/CT-TTg: 5500/UBND-KGVX.",
                                       "2 văn bản trích dẫn Chỉ thị 16/CT-TTg: 5500/UBND-KGVX."),
])
def test_md_escapes_what_markdown_would_read(text, expected):
    assert safe.md(text) == expected


def test_esc_escapes_html_and_keeps_the_text():
    assert safe.esc('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert safe.esc(None) == ""


def test_link_makes_only_links_to_the_apps_own_pages():
    assert safe.link("Mở <b>", "van-ban?doc=3&p=4") == '<a href="van-ban?doc=3&amp;p=4" target="_self">Mở &lt;b&gt;</a>'
    assert safe.link("tìm", "./?q=a") .startswith('<a href="./?q=a"')
    assert safe.link("văn bản", None) == "văn bản"
    for bad in ("http://host/p", "//host/p", "javascript:alert(1)", "host.vn/p", " van-ban", "data:text/html,x"):
        with pytest.raises(ValueError):
            safe.link("x", bad)


def test_hide_paths_keeps_file_names_numbers_and_urls():
    text = "Không đọc được /srv/vanban/uploads/a b.pdf; C:\\du lieu\\c.docx; số 5500/UBND-KGVX; http://h/p; /x"
    assert safe.hide_paths("Không mở được /srv/vanban/.index/store.sqlite") == "Không mở được store.sqlite"
    out = safe.hide_paths(text)
    assert "/srv" not in out and "5500/UBND-KGVX" in out and "http://h/p" in out


# --- the sources -------------------------------------------------------------------------------------

def _front_end_files() -> list[Path]:
    return [REPO / "app.py", *sorted((REPO / "ui").rglob("*.py"))]


def test_no_page_renders_html_through_markdown():
    """HTML goes through safe.show (st.html: no markdown pass), never st.markdown(unsafe_allow_html=True)."""
    offenders = [f"{f.relative_to(REPO)}:{node.lineno}" for f in _front_end_files() for node in ast.walk(ast.parse(f.read_text()))
                 if isinstance(node, ast.Call) and any(k.arg == "unsafe_allow_html" for k in node.keywords)]
    assert offenders == []


def test_only_the_apps_own_scripts_run_javascript():
    """st.html(..., unsafe_allow_javascript=True) appears only for the sign-in cookie and the scroll to a
    passage, whose scripts hold no document text."""
    calls = []
    for f in _front_end_files():
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Call) and any(k.arg == "unsafe_allow_javascript" for k in node.keywords):
                calls.append((f.name, ast.unparse(node.args[0])))
    assert sorted(n for n, _ in calls) == ["document.py", "shell.py", "shell.py"], calls
    assert all(re.search(r"cookie_script|passage-", a) for _, a in calls), calls


def test_pages_put_untrusted_text_in_markdown_elements_only_through_md():
    """Every st.title/subheader/caption/error/warning/info/success/button/table argument in the pages is a
    string literal, an f-string of numbers and literals, or a call of md(): nothing else reaches markdown."""
    loose = []
    names = {"title", "subheader", "caption", "error", "warning", "info", "success", "button", "toast"}
    for f in sorted((REPO / "ui" / "pages").glob("*.py")) + [REPO / "ui" / "shell.py"]:
        for node in ast.walk(ast.parse(f.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names
                    and node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) or (isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "md"):
                continue
            if re.fullmatch(r"([a-z]+\.)?[A-Z_]+", ast.unparse(arg)):   # the app's own constants (APP_TITLE)
                continue
            if isinstance(arg, ast.JoinedStr) and all(
                    isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue) and _numeric(v.value))
                    for v in arg.values):
                continue
            loose.append(f"{f.name}:{node.lineno} {ast.unparse(node)[:80]}")
    assert loose == [], "\n".join(loose)


def _numeric(expr) -> bool:
    """len(...), a count or score field, or an int(...): numbers, no text."""
    src = ast.unparse(expr)
    return bool(re.fullmatch(r"len\(.*\)|int\(.*\)|.*\[['\"](count|score|n_documents|similarity)['\"]\]|i|n|n_docs|pages", src))
