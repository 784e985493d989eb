"""Read a PDF, DOCX, TXT or MD file into a ``SourceText`` (NFC-normalised text).

Every failure raises ``IngestError(path, reason)`` with a Vietnamese, user-facing reason;
unsupported formats raise its subclass ``UnsupportedFile``.
"""
from __future__ import annotations

import io
import math
import unicodedata
from pathlib import Path

from .model import IngestError, SourceText

__all__ = ["load", "UnsupportedFile", "SUPPORTED", "MAX_BYTES"]

SUPPORTED = {".txt", ".md", ".pdf", ".docx"}
MAX_BYTES = 50 * 1024 * 1024

_MB = 1024 * 1024
_ONLY = "(chỉ nhận PDF, DOCX, TXT, MD)"
R_EMPTY = "tệp rỗng, không có nội dung"
R_ENCODING = "không đọc được mã hoá ký tự (không phải UTF-8, UTF-16 hay Windows-1258)"
R_BINARY = "tệp nhị phân, không phải văn bản (chứa byte NUL hoặc ký tự điều khiển)"
R_PDF_ENCRYPTED = "PDF được mã hoá (có mật khẩu)"
R_PDF_CORRUPT = "PDF hỏng hoặc không đọc được"
R_PDF_SCAN = "PDF không có lớp văn bản, cần OCR (có thể là bản quét)"
R_DOCX = "DOCX hỏng hoặc không phải tệp Word hợp lệ"
R_DOC = "định dạng .doc cũ: hãy chuyển sang DOCX hoặc PDF"


class UnsupportedFile(IngestError):
    """The file's format (suffix) is not one the loaders read."""


def load(path: str | Path) -> SourceText:
    """Read ``path`` into a SourceText; raise IngestError naming the reason on any failure."""
    name = str(path)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".doc":
        raise UnsupportedFile(name, R_DOC)
    if suffix not in SUPPORTED:
        if not suffix:
            raise UnsupportedFile(name, f"tệp không có phần mở rộng, không xác định được định dạng {_ONLY}")
        raise UnsupportedFile(name, f"định dạng {suffix} không được hỗ trợ {_ONLY}")
    data = _read_bytes(name, p)
    if suffix == ".pdf":
        return _load_pdf(name, data)
    if suffix == ".docx":
        return _load_docx(name, data)
    return _load_text(name, data)


def _read_bytes(name: str, p: Path) -> bytes:
    try:
        if p.is_dir():
            raise IngestError(name, "đây là thư mục, không phải tệp")
        size = p.stat().st_size
        if size > MAX_BYTES:
            mb = f"{math.ceil(size / _MB * 10) / 10:.1f}".replace(".", ",")  # rounded up
            raise IngestError(name, f"tệp quá lớn: {mb} MB, vượt giới hạn {MAX_BYTES // _MB} MB")
        data = p.read_bytes()
    except FileNotFoundError:
        raise IngestError(name, "không tìm thấy tệp") from None
    except PermissionError:
        raise IngestError(name, "không có quyền đọc tệp") from None
    except OSError as e:
        raise IngestError(name, f"không đọc được tệp: {e.strerror or e}") from None
    if not data:
        raise IngestError(name, R_EMPTY)
    return data


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _short(e: Exception, limit: int = 120) -> str:
    msg = " ".join(str(e).split()) or type(e).__name__
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"


# ---------------------------------------------------------------- text files

_WS_CONTROLS = set("\t\n\r\f\v")
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
_VIET_LETTERS = frozenset(
    _nfc(base + tone)
    for b in "aăâeêioôơuưy"
    for base in (b, b.upper())
    for tone in ("",) + tuple(_TONES)
) | set("đĐ")


def _is_control(c: str) -> bool:
    return unicodedata.category(c) == "Cc" and c not in _WS_CONTROLS


def _looks_like_text(s: str) -> bool:
    """No NUL, no stray controls, no unassigned/private code points."""
    if not s:
        return False
    bad = sum(1 for c in s if _is_control(c) or unicodedata.category(c) in ("Cn", "Co", "Cs"))
    return bad == 0


def _looks_vietnamese(s: str) -> bool:
    """Heuristic for a cp1258 decoding: no controls, letters dominate, accented letters are Vietnamese."""
    if any(_is_control(c) for c in s):
        return False
    visible = [c for c in s if not c.isspace()]
    if not visible or sum(c.isalpha() for c in visible) < 0.5 * len(visible):
        return False
    # non-ASCII letters/marks/symbols (typographic punctuation like “ ” – … is neutral)
    accented = [c for c in visible if ord(c) > 127 and not unicodedata.category(c).startswith(("P", "Z"))]
    viet = sum(c in _VIET_LETTERS for c in accented)
    return viet > 0 and viet >= 0.8 * len(accented)


def _utf16_guess(data: bytes) -> str | None:
    """BOM-less UTF-16: ASCII-range characters put NULs on one side of every byte pair."""
    if len(data) % 2:
        return None
    pairs = len(data) // 2
    nul_even = data[0::2].count(0)
    nul_odd = data[1::2].count(0)
    if nul_odd >= 0.3 * pairs and nul_even <= 0.05 * nul_odd:
        return "utf-16-le"
    if nul_even >= 0.3 * pairs and nul_odd <= 0.05 * nul_even:
        return "utf-16-be"
    return None


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """Return (text, encoding) or raise IngestError."""
    boms = ((b"\xef\xbb\xbf", "utf-8-sig", data[3:], "utf-8"),
            (b"\xff\xfe", "utf-16-le", data[2:], "utf-16-le"),
            (b"\xfe\xff", "utf-16-be", data[2:], "utf-16-be"))
    for bom, label, body, codec in boms:
        if data.startswith(bom):
            try:
                return body.decode(codec), label
            except UnicodeDecodeError:
                raise IngestError(name, R_ENCODING) from None
    if b"\x00" in data:
        codec = _utf16_guess(data)
        if codec:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                text = ""
            if _looks_like_text(text):
                return text, codec
        raise IngestError(name, R_BINARY)
    data = data.rstrip(b"\x1a")  # DOS end-of-file marker
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        controls = sum(1 for c in text if _is_control(c))
        if controls > 0.1 * len(text):
            raise IngestError(name, R_BINARY)
        return text, "utf-8"
    try:
        text = _nfc(data.decode("cp1258"))
    except UnicodeDecodeError:
        raise IngestError(name, R_ENCODING) from None
    if _looks_vietnamese(text):
        return text, "cp1258"
    if sum(1 for c in text if _is_control(c)) > 0.1 * len(text):
        raise IngestError(name, R_BINARY)
    raise IngestError(name, R_ENCODING)


def _load_text(name: str, data: bytes) -> SourceText:
    text, encoding = _decode(name, data)
    text = _nfc(text)
    if not text.strip():
        raise IngestError(name, R_EMPTY)
    return SourceText(path=name, text=text, encoding=encoding)


# ---------------------------------------------------------------- PDF

def _load_pdf(name: str, data: bytes) -> SourceText:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except DependencyError:
                raise IngestError(name, "PDF được mã hoá bằng AES, cần cài gói cryptography để đọc") from None
            except Exception:
                ok = 0
            if not ok:
                raise IngestError(name, R_PDF_ENCRYPTED)
        pages = list(reader.pages)
    except IngestError:
        raise
    except Exception as e:
        raise IngestError(name, f"{R_PDF_CORRUPT}: {_short(e)}") from None
    if not pages:
        raise IngestError(name, f"{R_PDF_CORRUPT}: không có trang nào")

    texts: list[str] = []
    blank: list[int] = []
    failed: list[tuple[int, str]] = []
    for i, page in enumerate(pages, 1):
        try:
            t = _nfc(page.extract_text() or "").strip()
        except Exception as e:
            failed.append((i, _short(e, 80)))
            t = ""
        if not t:
            blank.append(i)
        texts.append(t)

    if len(blank) == len(pages):
        if failed:
            raise IngestError(name, f"{R_PDF_CORRUPT}: {failed[0][1]}")
        raise IngestError(name, R_PDF_SCAN)

    warnings: list[str] = []
    failed_pages = {i for i, _ in failed}
    scan_pages = [i for i in blank if i not in failed_pages]
    if scan_pages:
        warnings.append(f"trang {_page_list(scan_pages)} không có lớp văn bản (có thể là ảnh quét), "
                        "nội dung chưa được lấy, cần OCR")
    for i, why in failed:
        warnings.append(f"trang {i} không trích xuất được văn bản: {why}")

    page_starts: list[int] = []
    pos = 0
    for t in texts:
        page_starts.append(pos)
        pos += len(t) + 2
    return SourceText(path=name, text="\n\n".join(texts), page_starts=page_starts, warnings=warnings)


def _page_list(nums: list[int]) -> str:
    return ", ".join(map(str, nums))


# ---------------------------------------------------------------- DOCX

def _load_docx(name: str, data: bytes) -> SourceText:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        lines = list(_block_lines(document.element.body))
    except Exception:
        reason = R_DOCX
        if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: an old .doc (or encrypted Office file)
            reason += f" (thực chất là tệp Word cũ hoặc được mã hoá; {R_DOC})"
        raise IngestError(name, reason) from None

    # drop leading/trailing blank lines and collapse runs of blank lines
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    text = _nfc("\n".join(out))
    if not text.strip():
        raise IngestError(name, R_EMPTY)
    return SourceText(path=name, text=text)


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT = map(_w, ("p", "tbl", "tr", "tc", "sdt", "sdtContent"))


def _block_lines(container):
    """Paragraph and table text of a body or cell element, in reading order."""
    from docx.text.paragraph import Paragraph

    for el in container.iterchildren():
        if el.tag == _P:
            yield Paragraph(el, None).text
        elif el.tag == _TBL:
            yield from _table_lines(el)
        elif el.tag == _SDT:
            content = el.find(_SDT_CONTENT)
            if content is not None:
                yield from _block_lines(content)


def _table_lines(tbl):
    """Each cell's text on its own line, row by row; continued vertical merges and empty cells skipped."""
    for tr in _children(tbl, _TR):
        for tc in _children(tr, _TC):
            if tc.vMerge == "continue":
                continue
            cell_lines = [ln for ln in _block_lines(tc) if ln.strip()]
            yield from cell_lines


def _children(el, tag):
    """Direct children with ``tag``, looking through content controls (w:sdt)."""
    for child in el.iterchildren():
        if child.tag == tag:
            yield child
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _children(content, tag)
