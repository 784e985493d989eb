"""OCR for scanned PDF pages: pypdfium2 renders a page, Tesseract (Vietnamese model) reads it.

Tesseract runs as a subprocess (``tesseract - - -l vie``), one page at a time, with a timeout;
pages are handed over as 8-bit greyscale PGM, so no imaging library is needed.
"""
from __future__ import annotations

import functools
import logging
import math
import os
import shutil
import subprocess
import time

__all__ = ["ocr_available", "ocr_pages", "OcrError", "LANG", "DPI"]

log = logging.getLogger(__name__)
R_RENDER = "không dựng được ảnh trang để OCR"

LANG = "vie"
DPI = 300
MAX_PIXELS = 40_000_000      # about A3 at 300 dpi; bigger pages are rendered at a lower resolution
PAGE_TIMEOUT = 120           # seconds for one page
FILE_BUDGET = 900            # seconds of OCR for one file


class OcrError(Exception):
    """OCR could not run on a page (reason in Vietnamese)."""


def ocr_available() -> bool:
    """Tesseract is on PATH and has the Vietnamese model."""
    return _available(os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=8)
def _available(path_env: str) -> bool:
    exe = shutil.which("tesseract", path=path_env)
    if not exe:
        return False
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return LANG in (out.stdout + out.stderr).split()


def _pgm(page, dpi: int) -> bytes:
    w, h = page.get_size()  # points
    scale = dpi / 72
    if w * h * scale * scale > MAX_PIXELS:
        scale = math.sqrt(MAX_PIXELS / max(w * h, 1))
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        width, height, stride = bitmap.width, bitmap.height, bitmap.stride
        buf = bytes(bitmap.buffer)
    finally:
        bitmap.close()
    if stride != width:
        buf = b"".join(buf[r * stride:r * stride + width] for r in range(height))
    return f"P5\n{width} {height}\n255\n".encode() + buf


def _tesseract(image: bytes, timeout: float) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")  # one core per page: other work shares the machine
    try:
        out = subprocess.run(["tesseract", "-", "-", "-l", LANG, "--psm", "3"], input=image,
                             capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise OcrError(f"OCR quá thời gian ({int(timeout)} giây)") from None
    except OSError as e:
        from .loaders import os_reason

        raise OcrError(f"không chạy được tesseract ({os_reason(e)})") from None
    if out.returncode != 0:  # tesseract's own (English) message goes to the log only
        log.info("tesseract exited %s: %s", out.returncode, out.stderr.decode("utf-8", "replace")[:500])
        raise OcrError(f"tesseract báo lỗi (mã thoát {out.returncode})")
    return out.stdout.decode("utf-8", "replace")


def ocr_pages(data: bytes, pages: list[int], dpi: int = DPI, budget: float = FILE_BUDGET) -> dict[int, str | OcrError]:
    """OCR the given 1-based pages of a PDF; each page maps to its text or the OcrError it met."""
    import pypdfium2 as pdfium

    results: dict[int, str | OcrError] = {}
    deadline = time.monotonic() + budget
    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as e:  # pdfium cannot open what pypdf could: report per page
        log.info("pdfium cannot open the PDF: %s", e)
        err = OcrError(R_RENDER)
        return {i: err for i in pages}
    try:
        for i in pages:
            left = deadline - time.monotonic()
            if left <= 0:
                results[i] = OcrError("hết thời gian OCR dành cho tệp")
                continue
            try:
                page = pdf[i - 1]
                try:
                    image = _pgm(page, dpi)
                finally:
                    page.close()
                results[i] = _tesseract(image, min(PAGE_TIMEOUT, left))
            except OcrError as e:
                results[i] = e
            except Exception as e:
                log.info("pdfium cannot render page %s: %s", i, e)
                results[i] = OcrError(R_RENDER)
    finally:
        pdf.close()
    return results
