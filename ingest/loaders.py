"""Read a PDF, DOCX, DOC, TXT or MD file into a ``SourceText`` (NFC-normalised text).

Every failure raises ``IngestError(path, reason)`` with a Vietnamese, user-facing reason;
unsupported formats raise its subclass ``UnsupportedFile``.

Real documents: PDF pages without a text layer are read by OCR (``ingest.ocr``) when Tesseract is
installed; legacy TCVN3/VNI text (in .txt files and in DOCX runs set in ".VnTime"/"VNI-" fonts) is
converted to Unicode (``ingest.legacy``); .doc goes through LibreOffice when it is installed.
Hostile input is bounded: size limit; before a DOCX is unpacked, every zip member is inflated through a
counting stream that stops one byte past its declared size (headers that lie are refused); pypdf's
per-stream decompression limits, a budget of decoded bytes per page, and a time and character budget
per PDF.
"""
from __future__ import annotations

import contextvars
import errno
import io
import logging
import math
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import unicodedata
import zipfile
import zlib
from pathlib import Path

from . import legacy
from .model import IngestError, SourceText

__all__ = ["load", "UnsupportedFile", "SUPPORTED", "MAX_BYTES", "MACHINE_REASONS", "os_reason", "soffice_path"]

log = logging.getLogger(__name__)

SUPPORTED = {".txt", ".md", ".pdf", ".docx", ".doc"}
MAX_BYTES = 50 * 1024 * 1024
# DOCX: refuse before unpacking when the zip declares more than this, or expands too steeply
DOCX_MAX_UNZIPPED = 200 * 1024 * 1024
DOCX_MAX_RATIO = 100
DOCX_MAX_ENTRIES = 10_000
# PDF: text extraction budget per file
PDF_MAX_SECONDS = 120.0
PDF_MAX_CHARS = 20_000_000
PDF_MAX_PAGES = 5_000
PDF_MAX_DECODED = 100 * 1024 * 1024  # bytes of decoded streams per page (and for opening the file)
DOC_TIMEOUT = 120

_MB = 1024 * 1024
_ONLY = "(chỉ nhận PDF, DOCX, TXT, MD)"
R_EMPTY = "tệp rỗng, không có nội dung"
R_ENCODING = "không đọc được mã hoá ký tự (không phải UTF-8, UTF-16 hay Windows-1258)"
R_BINARY = "tệp nhị phân, không phải văn bản (chứa byte NUL hoặc ký tự điều khiển)"
R_PDF_ENCRYPTED = "PDF được mã hoá (có mật khẩu)"
R_PDF_CORRUPT = "PDF hỏng hoặc không đọc được"
R_PDF_SCAN = "PDF không có lớp văn bản, cần OCR (có thể là bản quét)"
R_OCR_MISSING = "máy chưa cài Tesseract với gói tiếng Việt (tesseract-ocr, tesseract-ocr-vie)"
R_OCR_EMPTY = "PDF không có lớp văn bản và OCR không nhận ra chữ nào"
R_PDF_BOMB = "PDF có luồng dữ liệu giải nén vượt giới hạn (có thể là bom giải nén)"
R_DOCX_BOMB = "DOCX giải nén ra quá lớn (có thể là bom zip)"
R_DOCX_LIE = "DOCX khai báo sai kích thước giải nén (có thể là bom zip)"
R_DOCX = "DOCX hỏng hoặc không phải tệp Word hợp lệ"
R_DOC = "định dạng .doc cũ: hãy chuyển sang DOCX hoặc PDF"
R_NO_SOFFICE = "máy chưa cài LibreOffice để tự chuyển"
R_NO_CRYPTO = "PDF được mã hoá bằng AES, cần cài gói cryptography để đọc"
# failures that depend on this machine's set-up rather than on the file: worth another try unchanged
MACHINE_REASONS = (R_OCR_MISSING, R_NO_SOFFICE, R_NO_CRYPTO, "OCR thất bại", "không chạy được LibreOffice",
                   "LibreOffice chuyển .doc quá")


class UnsupportedFile(IngestError):
    """The file's format (suffix) is not one the loaders read."""


def load(path: str | Path) -> SourceText:
    """Read ``path`` into a SourceText; raise IngestError naming the reason on any failure."""
    name = str(path)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED:
        if not suffix:
            raise UnsupportedFile(name, f"tệp không có phần mở rộng, không xác định được định dạng {_ONLY}")
        raise UnsupportedFile(name, f"định dạng {suffix} không được hỗ trợ {_ONLY}")
    data = _read_bytes(name, p)
    if suffix == ".pdf":
        return _load_pdf(name, data)
    if suffix == ".docx":
        return _load_docx(name, data)
    if suffix == ".doc":
        return _load_doc(name, data)
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
        raise IngestError(name, f"không đọc được tệp ({os_reason(e)})") from None
    if not data:
        raise IngestError(name, R_EMPTY)
    return data


_ERRNO_REASONS = {errno.EACCES: "không có quyền đọc", errno.EPERM: "không có quyền đọc",
                  errno.ENOENT: "không tìm thấy", errno.ELOOP: "liên kết vòng",
                  errno.EIO: "lỗi đọc ổ đĩa", errno.ENAMETOOLONG: "tên quá dài", errno.EISDIR: "là thư mục",
                  errno.ENOSPC: "ổ đĩa đầy", errno.EMFILE: "mở quá nhiều tệp cùng lúc",
                  errno.ENOEXEC: "không chạy được tệp thực thi"}


def os_reason(e: OSError) -> str:
    """A Vietnamese reason for an operating-system error (its English text is not shown)."""
    return _ERRNO_REASONS.get(e.errno, f"lỗi hệ điều hành, mã {e.errno}" if e.errno else "lỗi hệ điều hành")


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


# pypdf's English messages, in the words a user reads; anything else is "PDF hỏng" alone (logged)
_PDF_REASONS = (
    ("stream has ended unexpectedly", "dữ liệu kết thúc đột ngột, tệp bị cắt cụt hoặc không phải PDF"),
    ("eof marker not found", "thiếu dấu kết thúc tệp, tệp có thể bị cắt cụt"),
    ("startxref", "không tìm thấy bảng vị trí các đối tượng, tệp có thể bị cắt cụt"),
    ("xref", "bảng vị trí các đối tượng bị hỏng"),
    ("trailer", "phần cuối tệp bị hỏng"),
    ("cannot read an empty file", R_EMPTY),
    ("illegal character", "chứa ký tự không hợp lệ trong dữ liệu PDF"),
    ("invalid elementary object", "chứa đối tượng PDF không hợp lệ"),
    ("could not read", "chứa đối tượng PDF không hợp lệ"),
    ("unexpected end", "dữ liệu kết thúc đột ngột, tệp bị cắt cụt"),
    ("not been decrypted", R_PDF_ENCRYPTED),
    ("password", R_PDF_ENCRYPTED),
    ("unsupported filter", "dùng kiểu nén dữ liệu không được hỗ trợ"),
    ("not implemented", "dùng tính năng PDF chưa được hỗ trợ"),
)


def _pdf_reason(e: Exception) -> str:
    """A Vietnamese clause for a pypdf failure ("" when unknown); the English text only goes to the log."""
    log.info("pypdf: %s: %s", type(e).__name__, e)
    msg = str(e).lower()
    if isinstance(e, (MemoryError, RecursionError)):
        return "cấu trúc quá phức tạp"
    for needle, reason in _PDF_REASONS:
        if needle in msg:
            return reason
    return ""


def _pdf_corrupt(e: Exception) -> str:
    return _clause(R_PDF_CORRUPT, _pdf_reason(e))


def _clause(head: str, why: str) -> str:
    return f"{head}: {why}" if why else head


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
    raw = legacy.decode_8bit(data)
    enc = legacy.detect(raw)
    try:
        text = _nfc(data.decode("cp1258"))
    except UnicodeDecodeError:
        text = ""
    if enc:  # TCVN3 / VNI bytes, unless Windows-1258 reads better
        converted = legacy.convert(raw, enc)
        if not (text and _looks_vietnamese(text) and legacy.syllable_share(text) >= legacy.syllable_share(converted)):
            return converted, enc
    if not text:
        raise IngestError(name, R_ENCODING)
    if _looks_vietnamese(text):
        return text, "cp1258"
    if sum(1 for c in text if _is_control(c)) > 0.1 * len(text):
        raise IngestError(name, R_BINARY)
    raise IngestError(name, R_ENCODING)


def _load_text(name: str, data: bytes) -> SourceText:
    text, encoding = _decode(name, data)
    if encoding not in ("tcvn3", "vni"):
        text, enc = legacy.fix(text)  # legacy text pasted into a Unicode file shows as mojibake
        if enc:
            encoding = f"{encoding}+{enc}"
    text = _nfc(text)
    if not text.strip():
        raise IngestError(name, R_EMPTY)
    return SourceText(path=name, text=text, encoding=encoding)


# ---------------------------------------------------------------- PDF

def _load_pdf(name: str, data: bytes) -> SourceText:
    _count_pdf_decoding()
    budget = _DecodeBudget()
    token = _DECODE_BUDGET.set(budget)
    try:
        return _read_pdf(name, data, budget)
    finally:
        _DECODE_BUDGET.reset(token)
        budget.release()


def _read_pdf(name: str, data: bytes, budget: "_DecodeBudget") -> SourceText:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except DependencyError:
                raise IngestError(name, R_NO_CRYPTO) from None
            except Exception:
                ok = 0
            if not ok:
                raise IngestError(name, R_PDF_ENCRYPTED)
        pages = list(reader.pages)
        if budget.exceeded:
            raise LimitReachedError("decoding budget")
    except IngestError:
        raise
    except LimitReachedError:
        raise IngestError(name, R_PDF_BOMB) from None
    except Exception as e:
        reason = _pdf_corrupt(e)
        if b"%PDF-" not in data[:1024]:
            reason = f"{R_PDF_CORRUPT}: không phải tệp PDF (thiếu phần đầu %PDF-)"
        raise IngestError(name, reason) from None
    if not pages:
        raise IngestError(name, f"{R_PDF_CORRUPT}: không có trang nào")
    if len(pages) > PDF_MAX_PAGES:
        raise IngestError(name, f"PDF có {len(pages)} trang, vượt giới hạn {PDF_MAX_PAGES} trang")

    texts: list[str] = []
    blank: list[int] = []
    failed: list[tuple[int, str]] = []
    deadline = time.monotonic() + PDF_MAX_SECONDS
    chars = 0
    for i, page in enumerate(pages, 1):
        if time.monotonic() > deadline:
            raise IngestError(name, f"PDF quá phức tạp: trích xuất văn bản vượt {int(PDF_MAX_SECONDS)} giây "
                                    f"(mới xong {i - 1}/{len(pages)} trang)")
        budget.release()  # a page's decoded streams are dropped, each page gets the whole budget
        try:
            t = _nfc(page.extract_text() or "").strip()
            if budget.exceeded:
                raise LimitReachedError("decoding budget")
        except LimitReachedError:
            raise IngestError(name, f"{R_PDF_BOMB} ở trang {i}") from None
        except (MemoryError, RecursionError):
            raise IngestError(name, f"PDF quá phức tạp, không trích xuất được trang {i}") from None
        except Exception as e:
            failed.append((i, _pdf_reason(e)))
            t = ""
        chars += len(t)
        if chars > PDF_MAX_CHARS:
            raise IngestError(name, f"PDF chứa quá nhiều văn bản (hơn {PDF_MAX_CHARS:,} ký tự)".replace(",", "."))
        if not t:
            blank.append(i)
        texts.append(t)

    warnings: list[str] = []
    failed_pages = {i for i, _ in failed}
    scan_pages = [i for i in blank if i not in failed_pages]
    ocr_failed: list[tuple[int, str]] = []
    if scan_pages:
        from .ocr import ocr_available, ocr_pages

        for i in scan_pages:  # a blank page may be a bomb pypdf skipped; pdfium has no limits
            budget.release()
            _check_before_render(name, pages[i - 1], i)
            if budget.exceeded:
                raise IngestError(name, f"{R_PDF_BOMB} ở trang {i}")
        budget.release()
        if ocr_available():
            read: list[int] = []
            for i, result in ocr_pages(data, scan_pages).items():
                if isinstance(result, Exception):
                    ocr_failed.append((i, str(result)))
                    continue
                t = _nfc(result).strip()
                if t:
                    texts[i - 1] = t
                    read.append(i)
            if read:
                warnings.append(f"trang {_page_list(read)} không có lớp văn bản, đã đọc bằng OCR "
                                "(có thể sai chính tả)")
            if not any(texts):
                if ocr_failed:
                    raise IngestError(name, f"{R_PDF_SCAN}; OCR thất bại: {ocr_failed[0][1]}")
                if failed:
                    raise IngestError(name, _clause(R_PDF_CORRUPT, failed[0][1]))
                raise IngestError(name, R_OCR_EMPTY)
            empty = [i for i in scan_pages if i not in read and i not in dict(ocr_failed)]
            if empty:
                warnings.append(f"trang {_page_list(empty)} không có lớp văn bản và OCR không nhận ra chữ nào")
            for i, why in ocr_failed:
                warnings.append(f"trang {i} không có lớp văn bản, OCR thất bại: {why}")
        else:
            if len(blank) == len(pages):
                if failed:
                    raise IngestError(name, _clause(R_PDF_CORRUPT, failed[0][1]))
                raise IngestError(name, f"{R_PDF_SCAN}; {R_OCR_MISSING}")
            warnings.append(f"trang {_page_list(scan_pages)} không có lớp văn bản (có thể là ảnh quét), "
                            f"nội dung chưa được lấy, cần OCR: {R_OCR_MISSING}")
    elif len(blank) == len(pages):
        raise IngestError(name, _clause(R_PDF_CORRUPT, failed[0][1]))
    for i, why in failed:
        warnings.append(_clause(f"trang {i} không trích xuất được văn bản", why))

    page_starts: list[int] = []
    pos = 0
    for t in texts:
        page_starts.append(pos)
        pos += len(t) + 2
    return SourceText(path=name, text="\n\n".join(texts), page_starts=page_starts, warnings=warnings)


class _DecodeBudget:
    """Bytes pypdf may still decode, and the streams whose decoded data it caches. pypdf bounds each
    stream (75 MB) but not how many it decodes and keeps: a 1.4 MB page drawing twenty 70 MB forms
    held 1.5 GB. ``release`` drops the cached data and restores the budget."""

    def __init__(self, limit: int = PDF_MAX_DECODED):
        self.limit = self.left = limit
        self.streams: list = []
        self.exceeded = False  # pypdf logs and skips a form that fails to decode: ask after each page

    def spend(self, stream, size: int) -> None:
        from pypdf.errors import LimitReachedError

        self.left -= size
        if self.left < 0 or self.exceeded:
            self.exceeded = True
            raise LimitReachedError(f"decoded more than {self.limit} bytes")
        if size:
            self.streams.append(stream)

    def release(self) -> None:
        for stream in self.streams:
            stream.decoded_self = None
        self.streams.clear()
        self.left = self.limit


_DECODE_BUDGET: contextvars.ContextVar[_DecodeBudget | None] = contextvars.ContextVar("vanban_pdf_budget",
                                                                                        default=None)
_COUNTING = threading.Lock()


def _count_pdf_decoding() -> None:
    """Route pypdf's stream decoding (every ``EncodedStreamObject.get_data`` looks up
    ``pypdf.filters.decode_stream_data`` when called) through the budget of the current load, once
    per process; outside a load nothing changes."""
    import pypdf.filters as filters

    with _COUNTING:
        if getattr(filters.decode_stream_data, "vanban_counted", False):
            return
        decode = filters.decode_stream_data

        def decode_stream_data(stream):
            budget = _DECODE_BUDGET.get()
            if budget is None:
                return decode(stream)
            budget.spend(stream, 0)  # spent already: refuse before decoding again
            data = decode(stream)
            budget.spend(stream, len(data))
            return data

        decode_stream_data.vanban_counted = True
        filters.decode_stream_data = decode_stream_data


OCR_MAX_IMAGE_PIXELS = 150_000_000  # a 600 dpi A3 scan is about 70 million


def _check_before_render(name: str, page, number: int) -> None:
    """Refuse a page whose content stream or images would expand without bound when rendered."""
    from pypdf.errors import LimitReachedError

    try:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()
        xobjects = page.get("/Resources", {}).get("/XObject", {}) or {}
        for key in list(xobjects)[:1000]:
            x = xobjects[key].get_object()
            w, h = x.get("/Width", 0), x.get("/Height", 0)
            if isinstance(w, int) and isinstance(h, int) and w * h > OCR_MAX_IMAGE_PIXELS:
                raise IngestError(name, f"ảnh ở trang {number} quá lớn để OCR ({w}×{h} điểm ảnh)")
    except LimitReachedError:
        raise IngestError(name, f"{R_PDF_BOMB} ở trang {number}") from None
    except IngestError:
        raise
    except Exception:
        pass  # unreadable here: pdfium reports it per page


def _page_list(nums: list[int]) -> str:
    return ", ".join(map(str, nums))


# ---------------------------------------------------------------- DOCX

def _load_docx(name: str, data: bytes) -> SourceText:
    import docx

    _check_zip(name, data)
    try:
        document = docx.Document(io.BytesIO(data))
        fonts = _Fonts(document)
        lines = list(_block_lines(document.element.body, fonts))
    except IngestError:
        raise
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
    text, enc = legacy.fix("\n".join(out))  # legacy text whose font is not declared on the runs
    encoding = enc or fonts.converted
    text = _nfc(text)
    if not text.strip():
        raise IngestError(name, R_EMPTY)
    return SourceText(path=name, text=text, encoding=encoding)


def _mb(n: int) -> str:
    return f"{math.ceil(n / _MB * 10) / 10:.1f}".replace(".", ",")


def _check_zip(name: str, data: bytes) -> None:
    """Refuse a zip bomb before python-docx unpacks anything: first from the declared sizes, then by
    inflating every member through ``_member_size``, which counts the bytes really produced and stops
    one byte past the declared size. zipfile (and so python-docx) reads each member up to its declared
    size but inflates the whole stored stream first, so a member that inflates to more than it
    declares is refused here; once every member is verified, unpacking is bounded by the declared
    total (at most DOCX_MAX_UNZIPPED)."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except Exception:
        return  # not a zip: python-docx refuses it with the usual message
    if len(infos) > DOCX_MAX_ENTRIES:
        raise IngestError(name, f"{R_DOCX_BOMB}: {len(infos)} tệp con, vượt giới hạn {DOCX_MAX_ENTRIES}")
    total = sum(i.file_size for i in infos)
    if total > DOCX_MAX_UNZIPPED:
        raise IngestError(name, f"{R_DOCX_BOMB}: {_mb(total)} MB khi giải nén, vượt giới hạn "
                                f"{DOCX_MAX_UNZIPPED // _MB} MB")
    if total > 10 * _MB and total > DOCX_MAX_RATIO * len(data):
        raise IngestError(name, f"{R_DOCX_BOMB}: nén {total // max(len(data), 1)} lần, vượt giới hạn "
                                f"{DOCX_MAX_RATIO} lần")
    for info in infos:
        member = _member_label(info.filename)
        size = _member_size(data, info, info.file_size + 1)
        if size is None:
            raise IngestError(name, f"{R_DOCX}: không đọc được tệp con {member}")
        if size > info.file_size:
            raise IngestError(name, f"{R_DOCX_LIE}: tệp con {member} giải nén ra hơn "
                                    f"{info.file_size:,} byte đã khai báo".replace(",", "."))
        if size < info.file_size:
            raise IngestError(name, f"{R_DOCX}: tệp con {member} ngắn hơn kích thước khai báo")


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature ... file name length, extra field length
_ZIP_CHUNK = 1 << 16


def _member_size(data: bytes, info: zipfile.ZipInfo, limit: int) -> int | None:
    """How many bytes one zip member really inflates to, reading its stored bytes in pieces of
    64 KiB and stopping once ``limit`` is reached; None when it cannot be read (encrypted, an
    unknown compression method, a broken header or stream). The headers' sizes are not trusted."""
    if info.flag_bits & 0x61 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None  # encrypted (bits 0, 6), patched data (bit 5), or a method Word never writes
    offset = info.header_offset
    header = data[offset:offset + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        return None
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != b"PK\x03\x04":
        return None
    start = offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    stored = memoryview(data)[start:start + info.compress_size]  # what zipfile reads too
    if info.compress_type == zipfile.ZIP_STORED:
        return min(len(stored), limit)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size, pos, pending = 0, 0, b""
    try:
        while not inflater.eof:
            if not pending and pos < len(stored):
                pending = stored[pos:pos + _ZIP_CHUNK]
                pos += _ZIP_CHUNK
            out = inflater.decompress(pending, _ZIP_CHUNK)
            pending = inflater.unconsumed_tail
            size += len(out)
            if size >= limit:
                return limit
            if not out and not pending and pos >= len(stored):
                break  # input spent, nothing buffered: a stream without its end
    except zlib.error:
        return None
    return size


def _member_label(filename: str) -> str:
    """A zip member's name fit for a message: printable, at most 80 characters."""
    clean = "".join(c if c.isprintable() else "?" for c in filename)
    return clean if len(clean) <= 80 else clean[:79] + "…"


# ---------------------------------------------------------------- DOC (Word 97-2003)

def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _load_doc(name: str, data: bytes) -> SourceText:
    """Convert with LibreOffice (headless, own profile, timeout), then read as DOCX."""
    exe = soffice_path()
    if not exe:
        raise UnsupportedFile(name, f"{R_DOC} ({R_NO_SOFFICE})")
    with tempfile.TemporaryDirectory(prefix="vanban-doc-") as tmp:
        src = Path(tmp) / "in.doc"
        src.write_bytes(data)
        cmd = [exe, f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}", "--headless", "--norestore",
               "--convert-to", "docx", "--outdir", tmp, str(src)]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as e:
            raise IngestError(name, f"không chạy được LibreOffice để chuyển .doc ({os_reason(e)}); {R_DOC}") from None
        try:
            proc.wait(timeout=DOC_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise IngestError(name, f"LibreOffice chuyển .doc quá {DOC_TIMEOUT} giây; {R_DOC}") from None
        out = Path(tmp) / "in.docx"
        if not out.is_file() or out.stat().st_size == 0:
            raise IngestError(name, f"LibreOffice không chuyển được tệp .doc (có thể hỏng hoặc có mật khẩu); {R_DOC}")
        result = _load_docx(name, out.read_bytes())
    result.warnings.append("tệp .doc đã được chuyển sang DOCX bằng LibreOffice")
    return result


def _kill_group(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


# ---------------------------------------------------------------- DOCX text, fonts


class _Fonts:
    """The font of a run (run, character style, paragraph style, document default), mapped to a
    legacy encoding: runs set in ".VnTime" (TCVN3) or "VNI-Times" (VNI) are converted."""

    def __init__(self, document):
        self.styles: dict[str, tuple[str | None, str | None]] = {}  # id -> (font, based on)
        self.default_para: str | None = None
        self.default_font: str | None = None
        self.converted: str | None = None
        self._cache: dict = {}
        root = document.styles.element
        rpr = root.find(f"{_w('docDefaults')}/{_w('rPrDefault')}/{_w('rPr')}")
        self.default_font = _rfont(rpr)
        for st in root.iterchildren(_w("style")):
            sid = st.get(_w("styleId"))
            based = st.find(_w("basedOn"))
            self.styles[sid] = (_rfont(st.find(_w("rPr"))), based.get(_w("val")) if based is not None else None)
            if st.get(_w("type")) == "paragraph" and st.get(_w("default")) in ("1", "true"):
                self.default_para = sid

    def _style_font(self, sid: str | None) -> str | None:
        seen = set()
        while sid and sid not in seen:
            seen.add(sid)
            font, based = self.styles.get(sid, (None, None))
            if font:
                return font
            sid = based
        return None

    def encoding(self, run, pstyle: str | None) -> tuple[str | None, bool]:
        rpr = run.find(_w("rPr"))
        font = _rfont(rpr)
        rstyle = None
        if rpr is not None and rpr.find(_w("rStyle")) is not None:
            rstyle = rpr.find(_w("rStyle")).get(_w("val"))
        key = (font, rstyle, pstyle)
        if key not in self._cache:
            f = font or self._style_font(rstyle) or self._style_font(pstyle or self.default_para) or self.default_font
            self._cache[key] = legacy.font_encoding(f)
        return self._cache[key]

    def paragraph_text(self, p) -> str:
        ppr = p.find(_w("pPr"))
        pstyle = None
        if ppr is not None and ppr.find(_w("pStyle")) is not None:
            pstyle = ppr.find(_w("pStyle")).get(_w("val"))
        parts = []
        for el in p.xpath("w:r | w:hyperlink/w:r"):
            t = el.text
            if t:
                enc, upper = self.encoding(el, pstyle)
                if enc and (upper or any(ord(c) > 127 for c in t)):
                    t = legacy.convert(t, enc, upper=upper)
                    self.converted = self.converted or enc
            parts.append(t)
        return "".join(parts)


def _rfont(rpr) -> str | None:
    if rpr is None:
        return None
    rf = rpr.find(_w("rFonts"))
    if rf is None:
        return None
    return rf.get(_w("hAnsi")) or rf.get(_w("ascii"))


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT = map(_w, ("p", "tbl", "tr", "tc", "sdt", "sdtContent"))


def _block_lines(container, fonts: _Fonts):
    """Paragraph and table text of a body or cell element, in reading order."""
    for el in container.iterchildren():
        if el.tag == _P:
            yield fonts.paragraph_text(el)
        elif el.tag == _TBL:
            yield from _table_lines(el, fonts)
        elif el.tag == _SDT:
            content = el.find(_SDT_CONTENT)
            if content is not None:
                yield from _block_lines(content, fonts)


def _table_lines(tbl, fonts: _Fonts):
    """Each cell's text on its own line, row by row; continued vertical merges and empty cells skipped."""
    for tr in _children(tbl, _TR):
        for tc in _children(tr, _TC):
            if tc.vMerge == "continue":
                continue
            cell_lines = [ln for ln in _block_lines(tc, fonts) if ln.strip()]
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
