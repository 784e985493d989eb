"""The one way untrusted text reaches a page.

Document text, titles, file names, error messages and the address bar's parameters meet two renderers:

- HTML blocks, shown with ``show`` (``st.html``: HTML only, no markdown pass): text goes through ``esc``;
- Streamlit's own elements whose text is markdown (``st.title``/``subheader``/``caption``, ``st.error``/
  ``warning``/``info``/``success``, button labels, ``st.table`` cells): text goes through ``md``, which
  escapes markdown and breaks the patterns the renderer would turn into links, images, emoji or icons
  (``http://``, ``www.``, e-mail addresses, ``:name:``) with an invisible word joiner.

``link`` builds the only links: relative addresses of the app's own pages. ``st.markdown(...,
unsafe_allow_html=True)`` is used nowhere (tests/test_safe.py reads the sources); HTML goes through ``show``.
"""
from __future__ import annotations

import html
import re

__all__ = ["esc", "md", "link", "show", "hide_paths", "is_app_link", "WJ"]

WJ = "\u2060"  # word joiner: zero width, no line break; not part of a URL, e-mail or shortcode pattern

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>$~|&])")
_COLON = re.compile(r":(?=\S)")          # "http://", "mailto:", ":smile:", ":material/home:", ":red[...]"
_WWW = re.compile(r"(?i)\b(www)(?=\.)")
_LINE_START = re.compile(r"^(?:([#>+\-=])|(\d+)([.)]))")


def esc(text) -> str:
    """Text for an HTML block: every character that HTML would read as markup is escaped."""
    return html.escape("" if text is None else str(text), quote=True).replace("\r", "")


def md(text) -> str:
    """Text for an element that renders markdown: one line, shown as written, nothing it can make.

    Whitespace runs (newlines too) become one space, so no line can start a heading, list or quote;
    markdown's special characters are backslash-escaped ("&" too, so no character reference turns
    back into a URL); a word joiner after a colon, inside "www." and before "@" leaves no pattern for
    the renderer's autolinks, emoji shortcodes and icons.
    """
    s = " ".join(("" if text is None else str(text)).split())
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _COLON.sub(":" + WJ, s)
    s = _WWW.sub(r"\1" + WJ, s)
    s = s.replace("@", WJ + "@")
    return _LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), s, count=1)


_APP_LINK = re.compile(r"^(?:\.?/?)?[a-z0-9\-]*(?:\?[^\s\"'<>\\]*)?(?:#[a-z0-9\-]*)?$")


def is_app_link(href: str) -> bool:
    """A relative address of this app ("?q=…", "van-ban?doc=3&p=16", "./?q=…"): no scheme, no host."""
    return isinstance(href, str) and bool(href) and "//" not in href and ":" not in href.split("?")[0] \
        and bool(_APP_LINK.match(href))


def link(text, href: str | None) -> str:
    """An HTML link to one of the app's own pages; the text alone when there is no address.
    Anything but an app-relative address raises ValueError: links the app makes are the only links."""
    if not href:
        return esc(text)
    if not is_app_link(href):
        raise ValueError(f"not an address of this app: {href!r}")
    return f'<a href="{esc(href)}" target="_self">{esc(text)}</a>'


def show(fragment: str, container=None) -> None:
    """Put an HTML fragment built from ``esc``/``link`` on the page (``st.html``: no markdown pass)."""
    import streamlit as st
    (container or st).html(fragment)


# An absolute server path ("/srv/vanban/uploads/a.pdf", "C:\\data\\a.pdf"), not a document number
# ("5500/UBND-KGVX") or a URL ("http://host/a"): the first separator follows a space, a quote or the start.
_ABS_PATH = re.compile(r"(?<![\w:/\\.-])(?:[A-Za-z]:)?[/\\](?:[^\s/\\\"'“”<>|]+[/\\])+([^\s/\\\"'“”<>|]*)")


def hide_paths(text) -> str:
    """``text`` with absolute paths cut to their last part (what readers may see of a server path)."""
    return _ABS_PATH.sub(lambda m: m.group(1) or "…", "" if text is None else str(text))
