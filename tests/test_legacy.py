"""Legacy Vietnamese encodings (TCVN3/ABC, VNI) reach Unicode, in .txt files and in DOCX runs."""
from __future__ import annotations

import shutil
import subprocess
import unicodedata

import docx
import pytest

from ingest.legacy import detect, fix, is_syllable
from ingest.loaders import load
from ingest.pipeline import process_file

HEADER = ("Uỷ ban nhân dân tỉnh Đắk Lắk\nCộng hoà xã hội chủ nghĩa Việt Nam\nĐộc lập - Tự do - Hạnh phúc\n"
          "Số: 1321/UBND-KGVX\nĐắk Lắk, ngày 19 tháng 02 năm 2019\n"
          "V/v tăng cường công tác dân vận, phòng chống dịch bệnh\n")
LOWER_LETTERS = "".join(unicodedata.normalize("NFC", b + t) for b in "aăâeêioôơuưy"
                        for t in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")) + "đ"

# VNI Windows, typed by hand: base letter + modifier ("aâ" = â, "eá" = ế, "ö" = ư, "ñ" = Đ/đ)
VNI_TEXT = ("UÛy ban nhaân daân tænh Ñaék Laék\nCOÄNG HOØA XAÕ HOÄI CHUÛ NGHÓA VIEÄT NAM\n"
            "Ñoäc laäp - Töï do - Haïnh phuùc\nSoá: 1321/UBND-KGVX\nÑaék Laék, ngaøy 19 thaùng 02 naêm 2019\n"
            "Quyeát ñònh veà vieäc taêng cöôøng phoøng, choáng dòch; Tröôûng phoøng")
VNI_UNICODE = ("Ủy ban nhân dân tỉnh Đắk Lắk\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
               "Độc lập - Tự do - Hạnh phúc\nSố: 1321/UBND-KGVX\nĐắk Lắk, ngày 19 tháng 02 năm 2019\n"
               "Quyết định về việc tăng cường phòng, chống dịch; Trưởng phòng")


def tcvn3_bytes(text: str) -> bytes:
    """Encode with glibc's iconv (TCVN5712-1), an encoder independent of ours."""
    if not shutil.which("iconv"):
        pytest.skip("iconv không có trên máy")
    out = subprocess.run(["iconv", "-f", "UTF-8", "-t", "TCVN5712-1"], input=text.encode("utf-8"),
                         capture_output=True, timeout=30)
    if out.returncode != 0:
        pytest.skip(f"iconv không hỗ trợ TCVN5712-1: {out.stderr.decode(errors='replace')}")
    return out.stdout


def test_the_example_from_the_issue_reads_as_unicode():
    assert fix("Uû ban nh©n d©n") == ("Uỷ ban nhân dân", "tcvn3")


def test_every_lowercase_vietnamese_letter_survives_tcvn3_as_encoded_by_iconv():
    data = tcvn3_bytes(LOWER_LETTERS)
    assert len(data) == len(LOWER_LETTERS)  # one byte per letter: the VN3 range
    from ingest.legacy import convert, decode_8bit
    assert convert(decode_8bit(data), "tcvn3") == LOWER_LETTERS


def test_a_tcvn3_text_file_is_converted_and_its_metadata_extracted(tmp_path):
    path = tmp_path / "cv_tcvn3.txt"
    path.write_bytes(tcvn3_bytes(HEADER + "Thực hiện Chỉ thị số 16/CT-TTg ngày 31/3/2020 của Thủ tướng.\n"))
    src = load(path)
    assert src.encoding == "tcvn3"
    assert src.text.startswith(HEADER)
    doc = process_file(path)
    assert doc.metadata.number == "1321/UBND-KGVX"
    assert doc.metadata.date == "2019-02-19"
    assert any(r.key.startswith("CT|16|TTg") for r in doc.references)


def test_tcvn3_capitals_typed_in_an_uppercase_font_come_back_as_capitals(tmp_path):
    path = tmp_path / "heading.txt"
    path.write_bytes("UBND TØNH §¾K L¾K\nCéng hoµ x· héi chñ nghÜa ViÖt Nam\nQUYÕT §ÞNH\n".encode("latin-1"))
    assert load(path).text == "UBND TỈNH ĐẮK LẮK\nCộng hoà xã hội chủ nghĩa Việt Nam\nQUYẾT ĐỊNH\n"


def test_tcvn3_mojibake_pasted_into_a_utf8_file_is_converted(tmp_path):
    path = tmp_path / "pasted.txt"
    path.write_text("Uû ban nh©n d©n tØnh §¾k L¾k yªu cÇu c¸c së, ngµnh", encoding="utf-8")
    src = load(path)
    assert src.text == "Uỷ ban nhân dân tỉnh Đắk Lắk yêu cầu các sở, ngành"
    assert src.encoding == "utf-8+tcvn3"


def test_a_vni_text_file_is_converted(tmp_path):
    path = tmp_path / "cv_vni.txt"
    path.write_bytes(VNI_TEXT.encode("latin-1"))
    src = load(path)
    assert src.encoding == "vni"
    assert src.text == VNI_UNICODE


def test_vni_mojibake_in_a_utf8_file_is_converted(tmp_path):
    path = tmp_path / "vni_utf8.txt"
    path.write_text(VNI_TEXT, encoding="utf-8")
    src = load(path)
    assert src.text == VNI_UNICODE and src.encoding == "utf-8+vni"


@pytest.mark.parametrize("text", [
    HEADER,
    "Tôi là ai",  # Unicode Vietnamese using only Latin-1 letters
    "café crème brûlée à la française, déjà vu",
    "Größe und Übermaß sind schön",
    "Ngày 19/02/2019 — “trích dẫn” © 2019 ¶ § 3",
])
def test_unicode_vietnamese_and_other_languages_are_left_alone(text):
    assert detect(text) is None
    assert fix(text) == (text, None)


def test_a_windows_1258_file_is_still_read_as_windows_1258(tmp_path):
    from tests.test_loaders import VIET, cp1258_bytes

    path = tmp_path / "cp1258.txt"
    path.write_bytes(cp1258_bytes(VIET))
    src = load(path)
    assert src.encoding == "cp1258" and src.text == VIET


def test_docx_runs_in_legacy_fonts_are_converted_and_unicode_runs_kept(tmp_path):
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("uû ban nh©n d©n tØnh ®¾k l¾k").font.name = ".VnTimeH"  # uppercase font
    p = d.add_paragraph()
    p.add_run("Sè: 1321/UBND-KGVX").font.name = ".VnTime"
    p = d.add_paragraph()
    p.add_run("Thực hiện ").font.name = "Times New Roman"
    p.add_run("ChØ thÞ sè 16/CT-TTg").font.name = ".VnTime"
    p.add_run(" cuûa Thuû töôùng").font.name = "VNI-Times"
    p = d.add_paragraph()
    p.add_run("Giá trị ©, ¸ giữ nguyên").font.name = "Arial"  # a Unicode font: no conversion
    path = tmp_path / "legacy.docx"
    d.save(path)
    src = load(path)
    assert src.text.splitlines() == ["UỶ BAN NHÂN DÂN TỈNH ĐẮK LẮK", "Số: 1321/UBND-KGVX",
                                     "Thực hiện Chỉ thị số 16/CT-TTg của Thủ tướng", "Giá trị ©, ¸ giữ nguyên"]
    assert src.encoding == "tcvn3"


def test_a_docx_whose_normal_style_is_a_tcvn3_font_is_converted(tmp_path):
    d = docx.Document()
    d.styles["Normal"].font.name = ".VnTime"
    d.add_paragraph("Uû ban nh©n d©n huyÖn")
    d.add_paragraph("KÕ ho¹ch sè 45/KH-UBND")
    path = tmp_path / "style.docx"
    d.save(path)
    assert load(path).text == "Uỷ ban nhân dân huyện\nKế hoạch số 45/KH-UBND"


@pytest.mark.parametrize("word,ok", [("người", True), ("nghiêng", True), ("quyết", True), ("gì", True),
                                     ("khuya", True), ("nh©n", False), ("caùc", False), ("nhaân", False),
                                     ("cáuc", False), ("ảá", False)])
def test_the_syllable_check_knows_vietnamese_words(word, ok):
    assert is_syllable(word) is ok
