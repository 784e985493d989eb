"""Metadata extraction measured on real data: ``python -m bench.extract_meta``.

(a) per-field accuracy on the five seeds in corpus/ against SEED_TRUTH (read by hand from each file;
    tests/test_metadata.py imports this table);
(b) doc_type and date accuracy on the congbot documents against their metadata/<doc_id>.json.
    Some congbot files are empty (a lone newline): nothing can be extracted from them, so figures
    are given both over the files with text and over all files;
(c) a third layout, held out (never tuned on field by field): the phapluat Công báo PDF extracts
    against index.json. Its labels are loose (so_hieu is often the slug, loai "QĐ"/"VB HN"/"Khác",
    nam 0), so the number and year are read from the slug and "Khác" types are not scored.
Mismatches go to bench/out/meta_misses.txt.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingest.metadata import extract_metadata
from ingest.model import Metadata
from ingest.normalize import clean
from vn.text import fold, nfc

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CONGBOT = SHARED / "corpora" / "congbot"
PHAPLUAT = SHARED / "corpora" / "phapluat"
OUT = ROOT / "bench" / "out"
FIELDS = list(Metadata.__dataclass_fields__)

# The truth for each seed, field by field. What a seed does not say is None.
SEED_TRUTH: dict[str, dict] = {
    "daklak_1321-UBND-KGVX_2019.txt": dict(
        number="1321/UBND-KGVX", doc_type="Công văn", type_code="CV",
        # no header block: UBND from the number, Đắk Lắk from the place-date line
        issuer="UBND tỉnh Đắk Lắk", issuer_code="UBND", level="tỉnh", province="Đắk Lắk",
        date="2019-02-19", title="tăng cường thực hiện công tác “Năm dân vận chính quyền” 2019",
        recipients=["Các sở, ban, ngành", "UBND các huyện, thị xã, thành phố"],
        signer=None, signer_title=None),  # the file stops mid-sentence: no signature
    "daklak_5500-UBND-KGVX_2017.txt": dict(
        number="5500/UBND-KGVX", doc_type="Công văn", type_code="CV",
        issuer="UBND tỉnh Đắk Lắk", issuer_code="UBND", level="tỉnh", province="Đắk Lắk",
        date="2017-07-14", title="đẩy mạnh thực hiện phong trào thi đua “Dân vận khéo”",
        recipients=["Thủ trưởng các Sở, ban, ngành", "Chủ tịch UBND các huyện, thị xã, thành phố",
                    "Như trên", "CT, các PCT UBND tỉnh", "Lãnh đạo VP UBND tỉnh", "Sở Nội vụ",
                    "Lưu VT, KGVX (N - 46b)"],
        signer="Võ Văn Cảnh", signer_title="KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"),
    "daknong_2071-UBND-NC_2022.txt": dict(
        number="2071/UBND-NC", doc_type="Công văn", type_code="CV",
        issuer="UBND tỉnh Đắk Nông", issuer_code="UBND", level="tỉnh", province="Đắk Nông",
        date="2022-04-25",
        title="nâng cao hiệu quả công tác dân vận của cơ quan Nhà nước các cấp trên địa bàn tỉnh Đắk Nông",
        recipients=["Các Sở, Ban, ngành", "Các đơn vị sự nghiệp cấp tỉnh", "UBND các huyện, thành phố Gia Nghĩa",
                    "Như trên", "Bộ Nội vụ (báo cáo)", "Thường trực Tỉnh ủy (báo cáo)", "CT, các PCT UBND tỉnh",
                    "UB MTTQ Việt Nam tỉnh", "Ban Dân vận Tỉnh ủy", "CVP, các PCVP UBND tỉnh", "Sở Nội vụ",
                    "Lưu: VT, NC (Lg)"],
        signer="Lê Trọng Yên", signer_title="KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"),
    "huyen-uy_307-CV-HU_khong-ro-nam.txt": dict(
        number="307-CV/HU", doc_type="Công văn", type_code="CV",
        # names no district or province and gives no date
        issuer="Huyện ủy", issuer_code="HU", level="huyện", province=None, date=None,
        title="Tiếp tục thực hiện công tác dân vận của cơ quan nhà nước các cấp",
        recipients=["Thường trực Huyện ủy, HĐND, UBND, UBMTTQVN huyện", "Các cơ quan tham mưu, giúp việc Huyện ủy",
                    "Các cơ quan, ban, ngành và đoàn thể huyện", "Các tổ chức cơ sở Đảng", "Như trên", "Lưu VPHU"],
        signer="Trương Văn Bình", signer_title=None),
    "quangtri_1225-UBND-NC_2020.txt": dict(
        number="1225/UBND-NC", doc_type="Công văn", type_code="CV",
        issuer="UBND tỉnh Quảng Trị", issuer_code="UBND", level="tỉnh", province="Quảng Trị",
        date="2020-03-24", title="tiếp tục đẩy mạnh thực hiện công tác dân vận chính quyền",
        recipients=["Các Sở, ban, ngành cấp tỉnh", "UBND các huyện, thành phố, thị xã", "Như trên", "Bộ Nội vụ",
                    "Thường trực Tỉnh ủy", "TT HĐND tỉnh, UBMTTQVN tỉnh", "Ban Dân vận Tỉnh ủy", "Sở Nội vụ",
                    "PCT UBND tỉnh", "Lưu: VT, NC"],
        signer="Hoàng Nam", signer_title="TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"),
}


def extract_file(path: Path) -> Metadata:
    return extract_metadata(clean(nfc(path.read_text(encoding="utf-8"))), str(path))


def seed_results() -> tuple[dict[str, float], list[str]]:
    """Per-field accuracy over the seeds and the list of mismatches."""
    right = {f: 0 for f in FIELDS}
    misses = []
    for name, truth in SEED_TRUTH.items():
        got = asdict(extract_file(ROOT / "corpus" / name))
        for f in FIELDS:
            if got[f] == truth[f]:
                right[f] += 1
            else:
                misses.append(f"seed {name} {f}: got {got[f]!r}, expected {truth[f]!r}")
    return {f: right[f] / len(SEED_TRUTH) for f in FIELDS}, misses


def _iso(ddmmyyyy: str | None) -> str | None:
    if not ddmmyyyy:
        return None
    d, m, y = ddmmyyyy.split("-")
    return f"{y}-{m}-{d}"


def _same_type(got: str | None, label: str | None, doc_id: str) -> bool:
    """Labels are type words; a consolidated text (VBHN) is labelled either "Văn bản hợp nhất" or
    with the type of the text it consolidates, so both count."""
    if got is None or label is None:
        return False
    if fold(got) == fold(label):
        return True
    return got == "Văn bản hợp nhất" and "VBHN" in doc_id.upper()


@dataclass
class CongbotResult:
    files: int = 0
    with_text: int = 0
    type_right: int = 0
    date_right: int = 0
    type_right_text: int = 0
    date_right_text: int = 0
    misses: list[str] = field(default_factory=list)

    def rates(self) -> dict[str, float]:
        return {
            "doc_type (files with text)": self.type_right_text / max(self.with_text, 1),
            "date (files with text)": self.date_right_text / max(self.with_text, 1),
            "doc_type (all files)": self.type_right / max(self.files, 1),
            "date (all files)": self.date_right / max(self.files, 1),
        }


def congbot_results() -> CongbotResult | None:
    docs = CONGBOT / "documents"
    if not docs.is_dir():
        return None
    r = CongbotResult()
    for path in sorted(docs.glob("*.md")):
        meta_path = CONGBOT / "metadata" / f"{path.stem}.json"
        if not meta_path.exists():
            continue
        gold = json.loads(meta_path.read_text(encoding="utf-8"))
        text = path.read_text(encoding="utf-8")
        has_text = bool(text.strip())
        md = extract_metadata(clean(nfc(text)), str(path))
        r.files += 1
        r.with_text += has_text
        t_ok = _same_type(md.doc_type, gold.get("doc_type"), path.stem)
        d_ok = md.date is not None and md.date == _iso(gold.get("issue_date"))
        r.type_right += t_ok
        r.date_right += d_ok
        r.type_right_text += t_ok and has_text
        r.date_right_text += d_ok and has_text
        note = "" if has_text else " (empty file)"
        if not t_ok:
            r.misses.append(f"congbot {path.stem} doc_type: got {md.doc_type!r}, label {gold.get('doc_type')!r}{note}")
        if not d_ok:
            r.misses.append(f"congbot {path.stem} date: got {md.date!r}, label {_iso(gold.get('issue_date'))!r}{note}")
    return r


_LOAI = {"qd": "Quyết định", "nq": "Nghị quyết", "vb hn": "Văn bản hợp nhất", "tt": "Thông tư",
         "nd": "Nghị định", "ct": "Chỉ thị"}


def _slug_number(slug: str) -> str | None:
    m = re.match(r"^.*?-so-(.+)-\d+$", slug)
    return m and m[1]


def _number_slug(number: str | None) -> str | None:
    """"09/2022/TT-BLĐTBXH" -> "9-2022-tt-bldtbxh", the slug's spelling."""
    if not number:
        return None
    s = re.sub(r"[^a-z0-9]+", "-", fold(number)).strip("-")
    return re.sub(r"^0+(?=\d)", "", s)


def phapluat_results() -> dict | None:
    index = PHAPLUAT / "index.json"
    if not index.exists():
        return None
    files = {p.stem: p for p in (PHAPLUAT / "docs").glob("*/*.txt")}
    n = typed = dated = 0
    right = {"number": 0, "doc_type": 0, "year": 0}
    found = {f: 0 for f in ("number", "date", "issuer", "title", "signer")}
    misses = []
    for e in json.loads(index.read_text(encoding="utf-8")):
        path = files.get(e["slug"])
        if path is None:
            continue
        n += 1
        md = extract_file(path)
        for f in found:
            found[f] += getattr(md, f) is not None
        want_num = _slug_number(e["slug"])
        want_num = want_num and re.sub(r"^0+(?=\d)", "", want_num)
        if _number_slug(md.number) == want_num:
            right["number"] += 1
        else:
            misses.append(f"phapluat {e['slug']} number: got {md.number!r}")
        loai = _LOAI.get(fold(e["loai"]), e["loai"])
        if loai != "Khác":
            typed += 1
            if md.doc_type == loai:
                right["doc_type"] += 1
            else:
                misses.append(f"phapluat {e['slug']} doc_type: got {md.doc_type!r}, label {loai!r}")
        # the year segment of the number ("...-so-09-2022-tt-..."), else the label's year
        years = re.findall(r"^.*?-so-\d+-((?:19|20)\d\d)-", e["slug"])
        if not years and 1945 <= (e.get("nam") or 0) <= 2100:   # "nam" sometimes holds the number
            years = [str(e["nam"])]
        if years:
            dated += 1
            if md.date and md.date[:4] == years[0]:
                right["year"] += 1
            else:
                misses.append(f"phapluat {e['slug']} year: got {md.date!r}, label {years[0]}")
    return {"files": n, "typed": typed, "dated": dated, "right": right, "found": found, "misses": misses}


def main() -> int:
    seeds, misses = seed_results()
    print(f"Seeds ({len(SEED_TRUTH)} files in corpus/), per-field accuracy:")
    for f, v in seeds.items():
        print(f"  {f:<13} {v:6.1%}")
    cb = congbot_results()
    if cb is None:
        print(f"congbot: {CONGBOT} not found, skipped")
    else:
        print(f"congbot ({cb.files} files, {cb.with_text} with text, {cb.files - cb.with_text} empty):")
        for k, v in cb.rates().items():
            print(f"  {k:<28} {v:6.1%}")
        misses += cb.misses
    pl = phapluat_results()
    if pl is None:
        print(f"phapluat: {PHAPLUAT} not found, skipped")
    else:
        r, fd = pl["right"], pl["found"]
        print(f"phapluat, held out ({pl['files']} Công báo PDF extracts; some are scans without text):")
        print(f"  {'number (slug)':<28} {r['number'] / pl['files']:6.1%}")
        print(f"  {'doc_type':<28} {r['doc_type'] / max(pl['typed'], 1):6.1%}  of {pl['typed']} typed")
        print(f"  {'year of date':<28} {r['year'] / max(pl['dated'], 1):6.1%}  of {pl['dated']} with a year")
        print("  found: " + ", ".join(f"{k} {v / pl['files']:.0%}" for k, v in fd.items()))
        misses += pl["misses"]
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / "meta_misses.txt"
    out.write_text("\n".join(misses) + ("\n" if misses else ""), encoding="utf-8")
    print(f"{len(misses)} mismatches written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
