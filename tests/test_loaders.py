"""Loaders read real files written in tmp_path: PDF (fpdf2), DOCX (python-docx), text encodings."""
from __future__ import annotations

import re
import unicodedata

import docx
import pytest
from fpdf import FPDF

from ingest.loaders import MAX_BYTES, SUPPORTED, UnsupportedFile, load
from ingest.model import IngestError

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PAGE1 = "ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK\nSố: 5500/UBND-KGVX\nV/v triển khai thực hiện Chỉ thị"
PAGE2 = "Chỉ thị số 16/CT-TTg của Thủ tướng Chính phủ về thực hiện cách ly xã hội"
VIET = ("ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        "Độc lập - Tự do - Hạnh phúc\nKính gửi: Sở Nội vụ; Công an tỉnh.\n"
        "Thực hiện Chỉ thị số 16/CT-TTg ngày 31/3/2020 của Thủ tướng Chính phủ, "
        "ủy ban yêu cầu các đơn vị nghiêm túc triển khai.\n")


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def pdf_bytes(pages: list[str | None], *, password: str | None = None) -> bytes:
    """A PDF with one page per item: text in DejaVuSans, or (None) only a drawn rectangle."""
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_font("DejaVu", size=12)
    if password is not None:
        pdf.set_encryption(owner_password="owner-secret", user_password=password)
    for content in pages:
        pdf.add_page()
        if content is None:
            pdf.set_fill_color(40, 40, 40)
            pdf.rect(20, 20, 150, 200, style="F")
        else:
            pdf.multi_cell(0, 8, content)
    return bytes(pdf.output())


def cp1258_bytes(text: str) -> bytes:
    """Encode as Windows-1258: precomposed where the code page has it, else base + tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
        out += (base + tones).encode("cp1258")
    return bytes(out)


def assert_refused(path, reason_part: str, error_type=IngestError):
    with pytest.raises(error_type) as info:
        load(path)
    assert str(path) in str(info.value)
    assert info.value.path == str(path)
    assert reason_part in info.value.reason
    return info.value


# ---------------------------------------------------------------- PDF

def test_a_two_page_vietnamese_pdf_round_trips_with_page_numbers(tmp_path):
    path = tmp_path / "cv.pdf"
    path.write_bytes(pdf_bytes([PAGE1, PAGE2]))
    src = load(path)
    assert src.text == nfc(src.text)
    for line in PAGE1.splitlines() + [PAGE2]:
        assert " ".join(line.split()) in " ".join(src.text.split())
    assert len(src.page_starts) == 2 and src.page_starts[0] == 0
    assert src.text[src.page_starts[1] - 2:src.page_starts[1]] == "\n\n"
    assert src.page_at(src.text.index("5500/UBND-KGVX")) == 1
    assert src.page_at(src.text.index("16/CT-TTg")) == 2
    assert src.warnings == [] and src.encoding is None


@pytest.fixture()
def bare_path(tmp_path, monkeypatch):
    """An empty PATH: no Tesseract, no LibreOffice, as on a machine without them."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_a_pdf_with_only_images_is_refused_as_needing_ocr_without_tesseract(tmp_path, bare_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf_bytes([None, None]))
    err = assert_refused(path, "không có lớp văn bản, cần OCR")
    assert "tesseract-ocr-vie" in err.reason


def test_a_pdf_with_only_drawings_is_refused_when_ocr_finds_no_letters(tmp_path):
    from ingest.ocr import ocr_available

    if not ocr_available():
        pytest.skip("Tesseract với gói tiếng Việt chưa được cài (apt-get install tesseract-ocr tesseract-ocr-vie)")
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf_bytes([None, None]))
    assert_refused(path, "PDF không có lớp văn bản và OCR không nhận ra chữ nào")


def test_a_pdf_with_some_image_only_pages_is_kept_with_a_warning_naming_them(tmp_path, bare_path):
    path = tmp_path / "mixed.pdf"
    path.write_bytes(pdf_bytes([PAGE1, None, PAGE2]))
    src = load(path)
    assert src.page_at(src.text.index("16/CT-TTg")) == 3
    assert len(src.warnings) == 1 and "trang 2 " in src.warnings[0] and "OCR" in src.warnings[0]


def test_a_pdf_with_a_user_password_is_refused_as_encrypted(tmp_path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(pdf_bytes([PAGE1], password="1234"))
    assert_refused(path, "PDF được mã hoá (có mật khẩu)")


def test_a_pdf_encrypted_with_an_empty_user_password_is_read(tmp_path):
    path = tmp_path / "owner-only.pdf"
    path.write_bytes(pdf_bytes([PAGE1], password=""))
    assert "5500/UBND-KGVX" in load(path).text


def test_a_truncated_pdf_is_refused_as_corrupt(tmp_path):
    data = pdf_bytes([PAGE1, PAGE2])
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    err = assert_refused(path, "PDF hỏng hoặc không đọc được")
    assert len(err.reason) > len("PDF hỏng hoặc không đọc được: ")


def test_a_text_file_named_pdf_is_refused_as_corrupt(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_text("không phải PDF", encoding="utf-8")
    assert_refused(path, "PDF hỏng hoặc không đọc được: ")


ENGLISH = re.compile(r"\b(stream|has|ended|unexpectedly|not|found|invalid|object|error|failed|the|eof|"
                     r"startxref|xref|trailer|cannot|could|read|expected)\b", re.I)


@pytest.mark.parametrize("name, cut, reason", [
    ("cut.pdf", lambda d: d[: len(d) // 2], "dữ liệu kết thúc đột ngột, tệp bị cắt cụt hoặc không phải PDF"),
    ("no-xref.pdf", lambda d: d.replace(b"startxref", b"startxxxx"), "không tìm thấy bảng vị trí các đối tượng"),
    ("junk.pdf", lambda d: d[:9] + bytes(range(256)) * 40, "dữ liệu kết thúc đột ngột"),
    ("text.pdf", lambda d: "không phải PDF".encode(), "không phải tệp PDF (thiếu phần đầu %PDF-)"),
])
def test_pypdf_english_messages_become_vietnamese_reasons(tmp_path, name, cut, reason):
    path = tmp_path / name
    path.write_bytes(cut(pdf_bytes([PAGE1, PAGE2])))
    err = assert_refused(path, f"PDF hỏng hoặc không đọc được: {reason}")
    assert not ENGLISH.search(err.reason), err.reason


def test_a_failing_tesseract_is_reported_in_vietnamese_without_its_own_output(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tesseract"  # an outside tool that lists Vietnamese, then fails on every page
    fake.write_text('#!/bin/sh\nif [ "$1" = "--list-langs" ]; then echo vie; exit 0; fi\n'
                    'echo "Error: Image too large for the engine" >&2; exit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf_bytes([None]))
    err = assert_refused(path, "OCR thất bại: tesseract báo lỗi (mã thoát 1)")
    assert not ENGLISH.search(err.reason) and "Image" not in err.reason, err.reason


# ---------------------------------------------------------------- DOCX

def test_a_docx_yields_header_table_paragraphs_and_signature_in_reading_order(tmp_path):
    d = docx.Document()
    header = d.add_table(rows=2, cols=2)
    header.cell(0, 0).text = "ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ"
    header.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    header.cell(1, 0).text = "Số: 1225/UBND-NC"
    header.cell(1, 1).text = "Quảng Trị, ngày 24 tháng 3 năm 2020"
    d.add_paragraph("Kính gửi: Các sở, ban, ngành cấp tỉnh.")
    d.add_paragraph("Thực hiện Chỉ thị số 16/CT-TTg của Thủ tướng Chính phủ.")
    sign = d.add_table(rows=2, cols=2)
    sign.cell(0, 0).text = "Nơi nhận:\n- Như trên;"
    sign.cell(0, 1).text = "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    sign.cell(1, 0).merge(sign.cell(1, 1)).text = "Hà Sỹ Đồng"
    path = tmp_path / "cv.docx"
    d.save(path)

    src = load(path)
    assert src.text.splitlines() == [
        "ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Số: 1225/UBND-NC",
        "Quảng Trị, ngày 24 tháng 3 năm 2020",
        "Kính gửi: Các sở, ban, ngành cấp tỉnh.",
        "Thực hiện Chỉ thị số 16/CT-TTg của Thủ tướng Chính phủ.",
        "Nơi nhận:",
        "- Như trên;",
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        "Hà Sỹ Đồng",
    ]
    assert src.page_starts == [] and src.page_at(0) is None


def test_a_vertically_merged_docx_cell_is_emitted_once(tmp_path):
    d = docx.Document()
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).merge(t.cell(1, 0)).text = "UBND TỈNH"
    t.cell(0, 1).text = "Số: 1"
    t.cell(1, 1).text = "Ngày 2"
    path = tmp_path / "merged.docx"
    d.save(path)
    assert load(path).text.splitlines() == ["UBND TỈNH", "Số: 1", "Ngày 2"]


def test_a_docx_text_is_nfc_even_when_written_decomposed(tmp_path):
    d = docx.Document()
    d.add_paragraph(unicodedata.normalize("NFD", "Quảng Trị"))
    path = tmp_path / "nfd.docx"
    d.save(path)
    assert load(path).text == nfc("Quảng Trị")


def test_a_file_that_is_not_a_zip_is_refused_as_an_invalid_docx(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    assert_refused(path, "DOCX hỏng hoặc không phải tệp Word hợp lệ")


def test_an_old_word_file_renamed_to_docx_is_refused_with_advice(tmp_path):
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    err = assert_refused(path, "DOCX hỏng hoặc không phải tệp Word hợp lệ")
    assert "hãy chuyển sang DOCX hoặc PDF" in err.reason


def test_a_docx_without_text_is_refused_as_empty(tmp_path):
    d = docx.Document()
    d.add_paragraph("   ")
    path = tmp_path / "blank.docx"
    d.save(path)
    assert_refused(path, "tệp rỗng, không có nội dung")


def test_a_doc_file_is_refused_as_the_old_format_without_libreoffice(tmp_path, bare_path):
    path = tmp_path / "cv.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    err = assert_refused(path, "định dạng .doc cũ: hãy chuyển sang DOCX hoặc PDF", UnsupportedFile)
    assert "chưa cài LibreOffice" in err.reason


# ---------------------------------------------------------------- text encodings

def test_a_windows_1258_text_is_decoded_to_nfc_vietnamese(tmp_path):
    data = cp1258_bytes(VIET)
    assert nfc(data.decode("cp1258")) == VIET  # the fixture itself round-trips
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = tmp_path / "cv1258.txt"
    path.write_bytes(data)
    src = load(path)
    assert src.text == VIET
    assert src.encoding == "cp1258"


def test_a_utf8_text_is_read_as_utf8_and_normalised_to_nfc(tmp_path):
    path = tmp_path / "cv.md"
    path.write_bytes(unicodedata.normalize("NFD", VIET).encode("utf-8"))
    src = load(path)
    assert src.text == VIET and src.encoding == "utf-8" and src.page_starts == []


def test_a_utf8_text_with_a_bom_loses_the_bom(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + VIET.encode("utf-8"))
    src = load(path)
    assert src.text == VIET and src.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec, expected", [("utf-16", None), ("utf-16-le", "utf-16-le"),
                                             ("utf-16-be", "utf-16-be")])
def test_utf16_text_with_or_without_a_bom_is_decoded(tmp_path, codec, expected):
    path = tmp_path / "u16.txt"
    path.write_bytes(VIET.encode(codec))
    src = load(path)
    assert src.text == VIET
    assert src.encoding.startswith("utf-16")
    if expected:
        assert src.encoding == expected


def test_a_dos_end_of_file_marker_is_dropped(tmp_path):
    path = tmp_path / "dos.txt"
    path.write_bytes(cp1258_bytes("Quảng Trị\r\n") + b"\x1a")
    assert load(path).text == "Quảng Trị\r\n"


def test_an_empty_text_file_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert_refused(path, "tệp rỗng, không có nội dung")


def test_a_whitespace_only_text_file_is_refused_as_empty(tmp_path):
    path = tmp_path / "blank.md"
    path.write_text(" \n\t\r\n  \n", encoding="utf-8")
    assert_refused(path, "tệp rỗng, không có nội dung")


def test_binary_junk_named_txt_is_refused(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(4096)))
    assert_refused(path, "tệp nhị phân, không phải văn bản")


def test_control_characters_without_nul_are_refused_as_binary(tmp_path):
    path = tmp_path / "ctrl.txt"
    path.write_bytes(bytes(range(1, 9)) * 100 + b"abc")
    assert_refused(path, "tệp nhị phân, không phải văn bản")


def test_a_non_vietnamese_legacy_encoding_is_refused_as_unreadable(tmp_path):
    path = tmp_path / "russian.txt"
    path.write_bytes("Приказ министерства о введении карантина".encode("cp1251"))
    assert_refused(path, "không đọc được mã hoá ký tự (không phải UTF-8, UTF-16 hay Windows-1258)")


# ---------------------------------------------------------------- dispatch and guards

def test_an_unsupported_suffix_is_refused_naming_the_format(tmp_path):
    path = tmp_path / "data.xyz"
    path.write_text("nội dung", encoding="utf-8")
    assert_refused(path, "định dạng .xyz không được hỗ trợ (chỉ nhận PDF, DOCX, TXT, MD)", UnsupportedFile)


def test_suffixes_are_matched_case_insensitively(tmp_path):
    path = tmp_path / "CV.TXT"
    path.write_text(VIET, encoding="utf-8")
    assert load(str(path)).text == VIET
    assert SUPPORTED == {".txt", ".md", ".pdf", ".docx", ".doc"}


def test_a_missing_file_is_refused(tmp_path):
    assert_refused(tmp_path / "missing.pdf", "không tìm thấy tệp")


def test_a_file_over_the_size_limit_is_refused_with_size_and_limit(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: nothing is written or read
    err = assert_refused(path, "tệp quá lớn")
    assert "50,1 MB" in err.reason and "giới hạn 50 MB" in err.reason
