"""Scanned PDFs are read by Tesseract (Vietnamese model), page by page, with page numbers kept.

The scans are made here: Vietnamese text drawn with a Unicode font into an image, saved as an
image-only PDF (no text layer).
"""
from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.loaders import load
from ingest.ocr import ocr_available
from ingest.pipeline import process_file

pytestmark = pytest.mark.skipif(
    not ocr_available(),
    reason="Tesseract với gói tiếng Việt chưa được cài (apt-get install tesseract-ocr tesseract-ocr-vie)")

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
PAGE1 = ["ỦY BAN NHÂN DÂN", "TỈNH ĐẮK LẮK", "Số: 1321/UBND-KGVX", "",
         "Đắk Lắk, ngày 19 tháng 02 năm 2019", "",
         "V/v triển khai thực hiện Chỉ thị số 16/CT-TTg",
         "của Thủ tướng Chính phủ về công tác dân vận."]
PAGE2 = ["Kế hoạch số 45/KH-UBND về chuyển đổi số năm 2020.", "Nơi nhận: Sở Nội vụ; Công an tỉnh."]


def scan(lines: list[str]) -> Image.Image:
    """An A4-wide page at 300 dpi, as tall as the lines need, drawn in black on white."""
    img = Image.new("L", (2480, 400 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 48)
    y = 200
    for line in lines:
        draw.text((200, y), line, font=font, fill=0)
        y += 90
    return img


def scanned_pdf(path, pages: list[list[str]]) -> None:
    images = [scan(p) for p in pages]
    images[0].save(path, "PDF", resolution=300, save_all=True, append_images=images[1:])


def squash(s: str) -> str:
    return " ".join(s.split())


def test_a_scanned_pdf_is_read_by_ocr_with_its_number_date_and_pages(tmp_path):
    path = tmp_path / "scan.pdf"
    scanned_pdf(path, [PAGE1, PAGE2])
    src = load(path)
    text = squash(src.text)
    for phrase in ["ỦY BAN NHÂN DÂN", "TỈNH ĐẮK LẮK", "Số: 1321/UBND-KGVX", "ngày 19 tháng 02 năm 2019",
                   "Chỉ thị số 16/CT-TTg", "Thủ tướng Chính phủ", "Kế hoạch số 45/KH-UBND"]:
        assert phrase in text, phrase
    assert len(src.page_starts) == 2
    assert src.page_at(src.text.index("1321/UBND-KGVX")) == 1
    assert src.page_at(src.text.index("45/KH-UBND")) == 2
    assert any("trang 1, 2" in w and "OCR" in w for w in src.warnings)

    doc = process_file(path)
    assert doc.metadata.number == "1321/UBND-KGVX"
    assert doc.metadata.date == "2019-02-19"
    assert any(r.key.startswith("CT|16|TTg") for r in doc.references)
    assert {p.page for p in doc.passages} <= {1, 2}


def test_only_the_pages_without_a_text_layer_go_through_ocr(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Trang một có lớp văn bản: Công văn số 5500/UBND-KGVX")
    image_path = tmp_path / "page.png"
    scan(PAGE2).save(image_path)
    pdf.add_page()
    pdf.image(str(image_path), x=0, y=0, w=210)
    path = tmp_path / "mixed.pdf"
    pdf.output(str(path))
    src = load(path)
    assert src.page_at(src.text.index("5500/UBND-KGVX")) == 1
    assert src.page_at(src.text.index("45/KH-UBND")) == 2
    assert [w for w in src.warnings if "OCR" in w] == [
        "trang 2 không có lớp văn bản, đã đọc bằng OCR (có thể sai chính tả)"]
