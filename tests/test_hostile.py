"""Hostile input: each bad file gets a message naming it and the reason, in bounded time and
memory, and the index stays exactly as it was. All files are real, made here."""
from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import docx
import pytest

from index.catalog.sqlite import SqliteCatalog
from ingest.loaders import load
from ingest.model import IngestError
from tests.test_loaders import PAGE1, PAGE2, pdf_bytes

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
GOOD = ["daklak_5500-UBND-KGVX_2017.txt", "quangtri_1225-UBND-NC_2020.txt"]
MB = 1024 * 1024


FONT = b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"


def write_pdf(objs: list[bytes]) -> bytes:
    """A PDF around the given objects (numbered from 1; object 1 is the catalogue)."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def raw_pdf(content: bytes, fonts: bool = True) -> bytes:
    """A one-page PDF written by hand around a Flate-compressed content stream."""
    res = FONT if fonts else b"<< >>"
    return write_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                      b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources " + res + b" >>",
                      b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream"])


def pdf_with_cmaps(fonts: int = 20, megabytes: int = 40) -> bytes:
    """One page using ``fonts`` fonts whose /ToUnicode maps are ``megabytes`` MB of spaces each: every
    stream is under pypdf's 75 MB limit, together they are 800 MB (the file is about 0.8 MB)."""
    block = b" " * MB
    check = 1
    for _ in range(megabytes):
        check = zlib.adler32(block, check)
    body = (b"\x78\xda" + deflate_blocks(block, zlib.Z_FULL_FLUSH) * megabytes + deflate_blocks(b"")
            + check.to_bytes(4, "big"))  # a zlib stream: header, deflate blocks, Adler-32
    names = b" ".join(b"/F%d %d 0 R" % (i, 5 + 2 * i) for i in range(fonts))
    draw = b"BT " + b" ".join(b"/F%d 12 Tf 72 %d Td (Noi dung) Tj" % (i, 700 - 20 * i) for i in range(fonts)) + b" ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << "
            + names + b" >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream"]
    for i in range(fonts):
        objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode %d 0 R >>" % (6 + 2 * i))
        objs.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream")
    return write_pdf(objs)


def deflate_blocks(data: bytes, mode: int = zlib.Z_FINISH) -> bytes:
    """Raw deflate of ``data``; full-flushed blocks of the same data repeat byte for byte."""
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush(mode)


def deflate_bomb(megabytes: int, head: bytes = b"") -> bytes:
    c = zlib.compressobj(9)
    block = b" " * MB
    return c.compress(head) + b"".join(c.compress(block) for _ in range(megabytes)) + c.flush()


def docx_bytes(text: str = "Công văn số 12/UBND-VP về việc họp giao ban") -> bytes:
    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def docx_with_member(name: str, megabytes: int) -> bytes:
    """A valid DOCX plus one member of ``megabytes`` MB of zeros (compresses about 1000 times)."""
    buf = io.BytesIO(docx_bytes())
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as fh:
            block = b"\0" * MB
            for _ in range(megabytes):
                fh.write(block)
    return buf.getvalue()


def raw_zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written field by field: (name, stored bytes, method, CRC, declared uncompressed size)."""
    out, central = bytearray(), bytearray()
    for name, raw, method, crc, size in members:
        n = name.encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, len(raw), size,
                               len(n), 0, 0, 0, 0, 0, len(out)) + n
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(raw), size, len(n), 0) + n + raw
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


def docx_lying_about_size(megabytes: int = 1024, declared: int = 1000) -> bytes:
    """A DOCX whose word/document.xml inflates to its text plus ``megabytes`` MB of spaces while both zip
    headers declare ``declared`` bytes (with the CRC of those first bytes, so a reader that trusts the
    headers sees a consistent member). Full-flushed deflate blocks repeat byte for byte, so the file is
    about 1 MB and nothing is ever inflated here."""
    src = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    deflate = deflate_blocks
    members = []
    for info in src.infolist():
        data = src.read(info.filename)
        if info.filename == "word/document.xml":
            stream = deflate(data, zlib.Z_FULL_FLUSH) + deflate(b" " * MB, zlib.Z_FULL_FLUSH) * megabytes + deflate(b"")
            first = (data + b" " * declared)[:declared]
            members.append((info.filename, stream, zipfile.ZIP_DEFLATED, zlib.crc32(first), declared))
        else:
            members.append((info.filename, deflate(data), zipfile.ZIP_DEFLATED, zlib.crc32(data), len(data)))
    return raw_zip(members)


def docx_billion_laughs() -> bytes:
    src = zipfile.ZipFile(io.BytesIO(docx_bytes("PLACEHOLDER")))
    out = io.BytesIO()
    dtd = '<!DOCTYPE lolz [<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{k} "{("&lol%d;" % (k - 1)) * 10}">' for k in range(1, 10)) + "]>"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                head, body = data.decode("utf-8").split("?>", 1)
                data = (head + "?>" + dtd + body.replace("PLACEHOLDER", "&lol9;")).encode("utf-8")
            z.writestr(info, data)
    return out.getvalue()


# name -> (bytes or a callable that writes the file, a fragment of the expected reason)
def hostile_files(folder: Path) -> dict[str, str]:
    """Write every hostile file into ``folder``; return {file name: expected reason fragment}."""
    cases: dict[str, tuple[object, str]] = {
        "rong.txt": (b"", "tệp rỗng"),
        "rong.pdf": (b"", "tệp rỗng"),
        "rong.docx": (b"", "tệp rỗng"),
        "cut.pdf": (pdf_bytes([PAGE1, PAGE2])[:900], "PDF hỏng hoặc không đọc được"),
        "junk-header.pdf": (b"%PDF-1.7\n" + os.urandom(20_000), "PDF hỏng hoặc không đọc được"),
        "locked.pdf": (pdf_bytes([PAGE1], password="mat-khau"), "PDF được mã hoá (có mật khẩu)"),
        "stream-bomb.pdf": (raw_pdf(deflate_bomb(200, b"BT /F1 12 Tf 72 700 Td (Noi dung) Tj ET\n")),
                            "vượt giới hạn (có thể là bom giải nén)"),
        "cmap-bomb.pdf": (pdf_with_cmaps(), "vượt giới hạn (có thể là bom giải nén) ở trang 1"),
        "stream-bomb-no-font.pdf": (raw_pdf(deflate_bomb(200), fonts=False), "vượt giới hạn"),
        "zip-bomb.docx": (docx_with_member("word/media/bomb.bin", 250), "DOCX giải nén ra quá lớn"),
        "ratio-bomb.docx": (docx_with_member("customXml/item9.xml", 30), "DOCX giải nén ra quá lớn"),
        "lying-size.docx": (docx_lying_about_size(), "DOCX khai báo sai kích thước giải nén (có thể là bom zip)"),
        "laughs.docx": (docx_billion_laughs(), "DOCX hỏng hoặc không phải tệp Word hợp lệ"),
        "fake.docx": (b"PK\x03\x04" + os.urandom(5000), "DOCX hỏng hoặc không phải tệp Word hợp lệ"),
        "junk.txt": (bytes(range(256)) * 64 + os.urandom(4096), "tệp nhị phân"),
        "junk-no-nul.txt": (bytes(b % 255 + 1 for b in os.urandom(16384)), "không"),
        "elf.txt": (Path(sys.executable).read_bytes()[:65536], "tệp nhị phân"),
        "cu.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096, "hãy chuyển sang DOCX hoặc PDF"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (data, reason) in cases.items():
        (folder / name).write_bytes(data)
        expected[name] = reason
    with open(folder / "qua-lon.pdf", "wb") as fh:  # 200 MB, sparse: refused before it is read
        fh.truncate(200 * MB)
    expected["qua-lon.pdf"] = "tệp quá lớn: 200,0 MB, vượt giới hạn 50 MB"
    return expected


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile") / "bad"
    return folder, hostile_files(folder)


@pytest.fixture()
def no_office(tmp_path, monkeypatch):
    """PATH without LibreOffice (the .doc case must say how to convert)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("tesseract",):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bin_dir / tool)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_every_hostile_file_is_refused_naming_the_file_and_the_reason_quickly(hostile_dir, no_office):
    folder, expected = hostile_dir
    for name, reason in sorted(expected.items()):
        path = folder / name
        start = time.monotonic()
        with pytest.raises(IngestError) as info:
            load(path)
        elapsed = time.monotonic() - start
        assert info.value.path == str(path) and str(path) in str(info.value), name
        assert reason in info.value.reason, (name, info.value.reason)
        assert elapsed < 15, (name, elapsed)


LOAD_IN_CHILD = (
    "import json, sys\n"
    "from ingest.loaders import load\n"
    "from ingest.model import IngestError\n"
    "out = {}\n"
    "for path in sys.argv[1:]:\n"
    "    try:\n"
    "        load(path); out[path] = 'loaded'\n"
    "    except IngestError as e:\n"
    "        out[path] = e.reason\n"
    # VmHWM is this program's own peak; ru_maxrss would carry over the forking pytest process's peak
    "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]\n"
    "print(json.dumps({'reasons': out, 'maxrss_mb': int(hwm) / 1024}))\n")


def load_in_child(paths: list[str], bin_dir: Path) -> dict:
    """Load ``paths`` in a fresh Python (no LibreOffice, no Tesseract); its reasons and peak memory."""
    res = subprocess.run([sys.executable, "-c", LOAD_IN_CHILD, *paths], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, PATH=str(bin_dir)))
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_hostile_files_are_refused_in_a_process_whose_memory_stays_bounded(hostile_dir, tmp_path):
    folder, expected = hostile_dir
    paths = [str(folder / n) for n in sorted(expected)]
    report = load_in_child(paths, tmp_path)
    for path in paths:
        assert expected[Path(path).name] in report["reasons"][path], (path, report["reasons"][path])
    assert report["maxrss_mb"] < 700, report["maxrss_mb"]  # the bombs alone would need gigabytes


@pytest.mark.parametrize("kind", ["docx", "pdf"])
def test_a_file_that_lies_about_what_it_inflates_to_is_refused_within_300_mb_of_a_clean_load(kind, tmp_path):
    if kind == "docx":  # 1 GiB of spaces declared as 1,000 bytes
        clean, hostile = docx_bytes(), docx_lying_about_size()
        reason = "DOCX khai báo sai kích thước giải nén (có thể là bom zip): tệp con word/document.xml"
    else:  # twenty character maps of 40 MB, each under pypdf's limit for one stream
        clean, hostile = pdf_bytes([PAGE1]), pdf_with_cmaps()
        reason = "PDF có luồng dữ liệu giải nén vượt giới hạn (có thể là bom giải nén) ở trang 1"
    assert len(hostile) < 2 * MB
    (tmp_path / f"clean.{kind}").write_bytes(clean)
    (tmp_path / f"hostile.{kind}").write_bytes(hostile)
    before = load_in_child([str(tmp_path / f"clean.{kind}")], tmp_path)
    after = load_in_child([str(tmp_path / f"hostile.{kind}")], tmp_path)
    assert list(before["reasons"].values()) == ["loaded"]
    assert reason in after["reasons"][str(tmp_path / f"hostile.{kind}")]
    assert after["maxrss_mb"] - before["maxrss_mb"] < 300, (before["maxrss_mb"], after["maxrss_mb"])


def test_html_and_script_in_a_document_are_kept_as_text_and_escaped_when_shown(tmp_path):
    from ui.render import highlight

    path = tmp_path / "xss.txt"
    path.write_text("Công văn số 9/UBND-VP <script>alert('x')</script> <img src=x onerror=alert(1)> "
                    "&amp; <b>đậm</b>", encoding="utf-8")
    text = load(path).text
    assert "<script>alert('x')</script>" in text  # the source is quoted exactly
    html = highlight(text, "công văn")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;amp;" in html


def test_upload_names_with_dot_dot_and_control_characters_stay_inside_the_upload_folder(tmp_path):
    from index.uploads import save_uploads

    dest = tmp_path / "uploads"
    names = ["../../etc/passwd.txt", "..\\..\\win.ini.txt", "a\x00b\x1b[31mc\r\n.txt", "..", ".hidden.txt",
             "/abs/path/cv.txt", "ổn định\u202e.txt"]
    paths = save_uploads([(n, "Công văn số 1/UBND-VP về việc kiểm tra".encode("utf-8")) for n in names], dest)
    root = dest.resolve()
    assert len(paths) == len(names) and len(set(paths)) == len(names)
    for p in paths:
        assert p.parent == root and p.exists()
        assert not any(ord(c) < 32 or c in "/\\\u202e" for c in p.name) and not p.name.startswith(".")
    assert sorted(os.listdir(tmp_path)) == ["uploads"]  # nothing written outside


def test_an_ingest_over_hostile_files_reports_each_and_leaves_the_index_as_it_was(hostile_dir, tmp_path):
    folder, expected = hostile_dir
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in GOOD:
        shutil.copy(CORPUS / name, docs / name)
    idx = tmp_path / "idx"
    cmd = [sys.executable, "-m", "ingest", str(docs), "--index-dir", str(idx), "--json", "--quiet"]
    first = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = _snapshot(idx)

    for name in expected:  # the hostile files join the good ones
        src = folder / name
        if name == "qua-lon.pdf":
            with open(docs / name, "wb") as fh:
                fh.truncate(src.stat().st_size)
        else:
            shutil.copy(src, docs / name)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))  # no LibreOffice
    second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    failed = {Path(f["path"]).name: f["error"] for f in summary["failed"]}
    assert set(failed) == set(expected)
    for name, reason in expected.items():
        assert reason in failed[name], (name, failed[name])
    assert sorted(Path(p).name for p in summary["unchanged"]) == sorted(GOOD)
    assert not summary["added"] and not summary["updated"] and not summary["removed"]
    assert _snapshot(idx) == before


def _snapshot(idx: Path) -> dict:
    store = SqliteCatalog(idx, readonly=True)
    try:
        docs = [(d["number"], d["sha256"], tuple(d["paths"])) for d in store.documents(None)]
        counts = store.counts(None)
        version = store.data_version
    finally:
        store.close()
    return {"docs": sorted(docs), "documents": counts["documents"], "passages": counts["passages"],
            "references": counts["references"], "data_version": version,
            "current": (idx / "CURRENT").read_text()}
