"""Header metadata of a directive: số hiệu, loại, cơ quan ban hành, tỉnh, ngày, trích yếu, nơi nhận, người ký.

Works on ``CleanText.clean`` (no markdown, table cells on their own lines). Two layouts are
handled: plain text where each header item has its own line, and tables flattened by
``clean()`` where one line may hold several items ("Số: 1040/LĐTBXH-NCC V/v ...") or a whole
signature block ("KT. BỘ TRƯỞNG THỨ TRƯỞNG Bùi Hồng Lĩnh"). A field the document does not
state stays None: nothing is guessed from the file name.
"""
from __future__ import annotations

import datetime as _dt
import re

from vn.numbers import _PSEUDO, TYPE_WORDS, is_central, parse_number
from vn.places import CITIES, find_province, fold_aligned, province_loose
from vn.text import LOWER, UPPER, fold

from .model import CleanText, Metadata

__all__ = ["extract_metadata", "TYPE_CODES_OF"]

# --------------------------------------------------------------------------- tables

# type word -> type code, from the one table in vn.numbers (pseudo-codes LUAT, BLUAT, HP for kinds
# without a code)
TYPE_CODES_OF: dict[str, str] = {}
for _c, _w in TYPE_WORDS.items():
    TYPE_CODES_OF.setdefault(_w, _c)
# header type words, longest first so "THÔNG TƯ LIÊN TỊCH" wins over "THÔNG TƯ"
_HEADER_TYPES = sorted({w.upper() for w in TYPE_WORDS.values() if w != "Công văn"}, key=len, reverse=True)


# issuer codes of central bodies -> name (digits stripped: "UBTVQH14" -> "UBTVQH")
_CENTRAL: dict[str, str] = {
    "TTg": "Thủ tướng Chính phủ", "CP": "Chính phủ", "VPCP": "Văn phòng Chính phủ",
    "QH": "Quốc hội", "UBTVQH": "Ủy ban Thường vụ Quốc hội", "TW": "Trung ương Đảng",
    "LĐTBXH": "Bộ Lao động - Thương binh và Xã hội", "BLĐTBXH": "Bộ Lao động - Thương binh và Xã hội",
    "BXD": "Bộ Xây dựng", "BTC": "Bộ Tài chính", "TCT": "Tổng cục Thuế", "BNV": "Bộ Nội vụ",
    "BYT": "Bộ Y tế", "BQP": "Bộ Quốc phòng", "BCA": "Bộ Công an", "BTP": "Bộ Tư pháp",
    "BGDĐT": "Bộ Giáo dục và Đào tạo", "BKHĐT": "Bộ Kế hoạch và Đầu tư",
    "BTNMT": "Bộ Tài nguyên và Môi trường", "BNNPTNT": "Bộ Nông nghiệp và Phát triển nông thôn",
    "BCT": "Bộ Công Thương", "BGTVT": "Bộ Giao thông vận tải",
    "BVHTTDL": "Bộ Văn hóa, Thể thao và Du lịch", "BTTTT": "Bộ Thông tin và Truyền thông",
    "BKHCN": "Bộ Khoa học và Công nghệ", "BNG": "Bộ Ngoại giao", "TTCP": "Thanh tra Chính phủ",
    "NHNN": "Ngân hàng Nhà nước Việt Nam", "UBDT": "Ủy ban Dân tộc", "KTNN": "Kiểm toán Nhà nước",
    "TANDTC": "Tòa án nhân dân tối cao", "VKSNDTC": "Viện kiểm sát nhân dân tối cao",
}
_CENTRAL_KEY = {fold(k).upper(): v for k, v in _CENTRAL.items()}
# folded header openings of central bodies
_CENTRAL_HEADS = ("bo ", "chinh phu", "thu tuong", "quoc hoi", "uy ban thuong vu quoc hoi",
                  "van phong chinh phu", "tong cuc", "ban chi dao quoc gia", "ban chap hanh trung uong",
                  "bo chinh tri", "ban bi thu", "ngan hang nha nuoc", "thanh tra chinh phu", "kiem toan nha nuoc")

# signature roles, longest first; an optional "PHÓ " makes the deputy
_ROLES = ("TỔNG CỤC TRƯỞNG", "CỤC TRƯỞNG", "VỤ TRƯỞNG", "BỘ TRƯỞNG", "THỨ TRƯỞNG", "THỦ TƯỚNG",
          "CHỦ TỊCH", "CHỦ NHIỆM", "TỔNG GIÁM ĐỐC", "GIÁM ĐỐC", "TRƯỞNG BAN", "BÍ THƯ",
          "CHÁNH VĂN PHÒNG", "CHÁNH THANH TRA", "TỔNG THANH TRA", "TỔNG KIỂM TOÁN", "THỐNG ĐỐC",
          "TRƯỞNG PHÒNG", "VIỆN TRƯỞNG", "CHÁNH ÁN", "TỔNG THƯ KÝ")
_ROLE_RE = re.compile(r"(?<![^\s,.])(?:PHÓ\s+)?(?:" + "|".join(_ROLES) + r")(?![^\s,.])")
_SIGN_PREFIX = re.compile(r"(?<![^\s])(?:TM|KT|TL|TUQ|Q|QUYỀN)\s*\.\s*")

# --------------------------------------------------------------------------- regexes

_U, _L = UPPER, LOWER
_CODE = rf"[{_U}][{_U}{_L}0-9]*"
# "1321/UBND-KGVX", "04/2001/TT-BXD", "307-CV/HU", "3210/QĐ - UBND", "47/2009/TTLT-BTC-BLĐTBXH"
_NUMBER_RE = re.compile(
    rf"(?<![\w/])(?:Số\s*[:.]?|(?:Luật|Bộ luật|Nghị quyết|Pháp lệnh|Lệnh)\s+số\s*:)"
    rf"\s*(?P<num>\d+[a-z]?(?:[ \t]*/[ \t]*\d{{4}})?(?:[ \t]*[/-]\s*{_CODE})+)")
# the authentication block closing a consolidated text: its number, date and issuer are the document's
_VBHN_RE = re.compile(r"XÁC THỰC VĂN BẢN HỢP NHẤT")
_VV_RE = re.compile(r"(?:^|\s)V/[vV]\s*[:.]?\s*(?P<t>.+)$")
_DATE_RE = re.compile(
    r"ngày\s*(?P<d>\d(?:\s?\d)?)\s*(?:tháng\s*(?P<m>\d(?:\s?\d)?)\s*năm\s*(?P<y>\d{4})"
    r"|[/.-]\s*(?P<m2>\d{1,2})\s*[/.-]\s*(?P<y2>\d{4}))")
_PLACE_DATE_RE = re.compile(rf"^(?P<place>[^\n,;:]{{2,60}}?)\s*,\s*(?={_DATE_RE.pattern})", re.M)
_BULLET_SPLIT = re.compile(r"(?:^|(?<=[;.)]))\s*[-–+•]\s+")
_NAME_WORD = rf"[{_U}][{_L}]+"
_NAME_RE = re.compile(rf"^{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,5}}$")
_PAREN = re.compile(r"\([^()]*\)")
_STOP_TITLE = re.compile(r"^(?:Căn cứ|Kính gửi|Điều\s+1|CỘNG H|Độc lập|Số\s*:|Nơi nhận|Chương\s+I\b)")
_HEAD_CHARS = 4000          # the header lives in the first few thousand characters


# --------------------------------------------------------------------------- lines

def _lines(ct: CleanText) -> list[str]:
    """Clean lines; a leading markdown "# heading" (a site's caption, not the document) is blanked."""
    out = []
    pos = 0
    for line in ct.clean.split("\n"):
        o = ct.offsets[pos] if pos < len(ct.offsets) else len(ct.original)
        start = ct.original.rfind("\n", 0, o) + 1
        heading = ct.original[start:o].lstrip().startswith("#")
        out.append("" if heading else line.strip())
        pos += len(line) + 1
    return out


def _is_upper_line(s: str) -> bool:
    return bool(s) and any(c.isalpha() for c in s) and not re.search(f"[{_L}]", s)


# --------------------------------------------------------------------------- fields

def _parse_number(num: str) -> tuple[str, str | None, str | None, bool]:
    """(number, type_code, issuer_code, code_present) from a cleaned số hiệu (vn.numbers grammar)."""
    num = re.sub(r"\s+", "", num)
    dn = parse_number(num)
    if dn is None:
        return num, None, None, False
    return num, dn.type_code if dn.typed else None, dn.issuer_code, dn.typed


def _issuer_key(code: str | None) -> str | None:
    return fold(re.sub(r"\d+$", "", code)).upper() if code else None


def _header_org(lines: list[str]) -> str:
    """Upper-case lines at the top naming the issuing body ("ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK")."""
    out = []
    for s in lines[:12]:
        if not s:
            if out:
                break
            continue
        s = re.split(r"CỘNG\s*H[OÒ]À|ĐẢNG CỘNG SẢN", s)[0].strip()
        if not _is_upper_line(s) or s.startswith("SỐ") or s in _HEADER_TYPES:
            break
        out.append(s)
    return " ".join(out)


_ORG_WORDS = ("ủy ban nhân dân", "uỷ ban nhân dân", "hội đồng nhân dân", "tổng cục", "văn phòng",
              "ban chỉ đạo", "ủy ban", "bộ", "sở", "cục", "ban", "vụ", "huyện ủy", "tỉnh ủy", "thành ủy")


def _format_org(upper: str) -> str:
    """"BAN CHỈ ĐẠO QUỐC GIA VỀ ..." -> "Ban Chỉ đạo quốc gia về ...": type word and first syllable
    of the name capitalised, province names restored."""
    low = " ".join(upper.lower().split())
    for w in _ORG_WORDS:
        if low.startswith(w + " "):
            rest = low[len(w) + 1:]
            low = w + " " + rest[:1].upper() + rest[1:]
            break
    low = low[:1].upper() + low[1:]
    p = find_province(low)
    if p:
        low = re.sub(re.escape(p.lower()), p, low, flags=re.I) if p.lower() in low else low
    return low


def _place_date(head: str) -> tuple[str | None, str | None]:
    for m in _PLACE_DATE_RE.finditer(head):
        dm = _DATE_RE.match(head, m.end())
        d, mo, y = dm["d"], dm["m"] or dm["m2"], dm["y"] or dm["y2"]
        try:
            iso = _dt.date(int(y), int(mo.replace(" ", "")), int(d.replace(" ", ""))).isoformat()
        except ValueError:
            continue
        place = m["place"].strip()
        if re.search(r"\d", place) or len(place.split()) > 8:
            continue
        return place, iso
    return None, None


def _items(first: str, following: list[str]) -> list[str]:
    """Recipient items: text after the colon plus following bullet lines, split on inline bullets."""
    chunks = [first] if first else []
    for s in following:
        if not s:
            continue
        if re.match(r"^[-–+•]\s*", s) or (not chunks and len(s) < 160 and not _STOP_TITLE.match(s)):
            chunks.append(s)
            continue
        break
    items = []
    for c in chunks:
        for it in _BULLET_SPLIT.split(c):
            it = re.sub(r"\s*;\s*(?=\()", " ", it).strip().rstrip(";,.").strip()
            if it and it not in items:
                items.append(it)
    return items


def _block_after(lines: list[str], i: int, label: str) -> tuple[list[str], int]:
    """Items of the block opened by line i ("Kính gửi:", "Nơi nhận:") and the index of its last line."""
    first = re.sub(rf"^{label}\s*:?\s*", "", lines[i], flags=re.I).strip()
    items = _items(first, lines[i + 1:i + 60])
    end = i
    for k in range(i + 1, min(len(lines), i + 60)):
        if re.match(r"^[-–+•]", lines[k]):
            end = k
        elif lines[k] and (end > i or first):
            break
    return items, end


def _split_title(line: str) -> list[str]:
    """"TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH" -> three lines."""
    cuts = {m.start() for m in _SIGN_PREFIX.finditer(line)}
    after_prefix = {m.end() for m in _SIGN_PREFIX.finditer(line)}
    for m in _ROLE_RE.finditer(line):
        before = line[:m.start()].rstrip()
        if m.start() in after_prefix or not before or before.endswith(","):
            continue
        cuts.add(m.start())
    cuts |= {0}
    bounds = sorted(cuts) + [len(line)]
    parts = [line[a:b].strip(" ,") for a, b in zip(bounds, bounds[1:])]
    parts = [re.sub(r"^(TM|KT|TL|TUQ|Q)\s*\.\s*", r"\1. ", p) for p in parts if p]
    return parts


def _title_part(s: str) -> tuple[str, str]:
    """Split a line into its upper-case leading part and the rest ("PHÓ CHỦ TỊCH tu" -> junk "tu")."""
    toks = s.split()
    k = 0
    while k < len(toks) and not re.search(f"[{_L}]", toks[k]):
        k += 1
    return " ".join(toks[:k]), " ".join(toks[k:])


def _name(s: str) -> str | None:
    s = _PAREN.sub(" ", s)
    s = " ".join(s.split()).strip(" .,;")
    if not _NAME_RE.match(s):
        # broken spacing in converted files: "Đặ ng Văn Minh" -> "Đặng Văn Minh"
        s = re.sub(rf"(?<=[{_U}{_L}])\s+(?=[{_L}]+(?:\s|$))", "", s)
    return s if _NAME_RE.match(s) and len(s) <= 40 else None


def _signature(lines: list[str], near: int | None) -> tuple[str | None, str | None]:
    cands = []
    i = 0
    while i < len(lines):
        up, rest = _title_part(lines[i])
        if up and (_ROLE_RE.search(up) or _SIGN_PREFIX.match(up)) and len(up) < 150:
            block, j = [up], i
            while not rest and j + 1 < len(lines):
                up2, rest2 = _title_part(lines[j + 1])
                if not up2 or not (_ROLE_RE.search(up2) or _SIGN_PREFIX.match(up2)):
                    break
                block.append(up2)
                j, rest = j + 1, rest2
            name = _name(rest) if rest else None
            k = j + 1
            while name is None and not (rest and _name(rest) is None and not _is_junk(rest)) and k < min(len(lines), j + 6):
                s = lines[k]
                k += 1
                if not s or _is_junk(s):
                    continue
                name = _name(s)
                break
            if name:
                cands.append((i, name, " / ".join(p for b in block for p in _split_title(b))))
            i = j + 1
            continue
        i += 1
    if cands:
        pick = min(cands, key=lambda c: abs(c[0] - near)) if near is not None else cands[0]
        return pick[1], pick[2]
    return None, None


def _is_junk(s: str) -> bool:
    """Short lower-case leftovers and signature notes: "tu", "(Đã ký)", "Đã ký", "(Ký, ghi rõ họ tên)"."""
    s2 = _PAREN.sub("", s).strip()
    return not s2 or bool(re.fullmatch(rf"[{_L}\s.]{{1,6}}|(?:Đã\s+)?[Kk]ý(?:\s+tên)?\.?", s2))


def extract_metadata(ct: CleanText, path: str | None = None) -> Metadata:
    """Header metadata of one document. ``path`` is accepted for the pipeline's sake and never
    used to infer a field: a value not written in the text stays None."""
    lines = _lines(ct)
    head_lines, size = [], 0
    for s in lines:
        head_lines.append(s)
        size += len(s) + 1
        if size > _HEAD_CHARS:
            break
    head = "\n".join(head_lines)
    md = Metadata()
    vbhn = _vbhn_block(ct.clean)
    if vbhn is not None:
        head = vbhn + "\n" + head

    # number, type code, issuer code
    code_present = False
    num_line = None
    m = _NUMBER_RE.search(head)
    if m:
        md.number, md.type_code, md.issuer_code, code_present = _parse_number(m["num"])
        num_line = None if vbhn is not None else head.count("\n", 0, m.start())

    # type word in the header, before the body starts
    header_type, type_line = None, None
    for k, s in enumerate(head_lines[:40]):
        if _STOP_TITLE.match(s) and not s.startswith(("CỘNG H", "Độc lập", "Số")):
            break
        if not _is_upper_line(s):
            continue
        for w in _HEADER_TYPES:
            if s == w or s.startswith(w + " "):
                header_type, type_line = w, k
                break
        if header_type:
            break

    # trích yếu: the V/v line (công văn) or the line(s) after the type word
    vv_title = None
    for k, s in enumerate(head_lines[:30]):
        vm = _VV_RE.search(s)
        if vm and (k == num_line or s.startswith(("V/v", "V/V")) or s.startswith("Số")):
            parts = [vm["t"].strip()]
            for s2 in head_lines[k + 1:k + 4]:
                if not s2 or _STOP_TITLE.match(s2) or _PLACE_DATE_RE.match(s2) or _is_upper_line(s2):
                    break
                parts.append(s2)
            vv_title = _trim_title(" ".join(parts))
            break
    type_title = _title_after_type(head_lines, header_type, type_line) if header_type else None
    if vbhn is not None:
        # a consolidated text: the header is that of the text it consolidates
        md.doc_type, md.title = TYPE_WORDS["VBHN"], vv_title or type_title
    elif header_type:
        md.doc_type = next(w for w in TYPE_WORDS.values() if w.upper() == header_type)
        md.title = vv_title or type_title
    elif vv_title is not None:
        md.doc_type, md.title = "Công văn", vv_title
    elif code_present and md.type_code not in _PSEUDO:
        md.doc_type = TYPE_WORDS[md.type_code]
    if md.doc_type:
        md.type_code = TYPE_CODES_OF.get(md.doc_type, md.type_code if code_present else None)
    else:
        md.type_code = None

    # issuer, level, province
    org = _header_org([s for s in lines[:14]])
    org_f = " ".join(fold_aligned(org).split())
    key = _issuer_key(md.issuer_code)
    place, md.date = _place_date(head)
    central = key in _CENTRAL_KEY or is_central(md.issuer_code) or org_f.startswith(_CENTRAL_HEADS)
    if central:
        md.level = "trung ương"
        md.issuer = _CENTRAL_KEY.get(key) or (_format_org(org) if org else None)
    else:
        _local_issuer(md, key, org, org_f, place)
    md.title = md.title or None

    # recipients: Kính gửi + Nơi nhận
    recipients: list[str] = []
    nn_index = None
    nn_end = None
    for k, s in enumerate(lines):
        if re.match(r"^Kính\s*gửi\b", s) and not recipients:
            items, _ = _block_after(lines, k, r"Kính\s*gửi")
            recipients.extend(items)
        elif re.match(r"^Nơi\s*nhận\s*:", s) and nn_index is None:
            nn_index = k
            items, nn_end = _block_after(lines, k, r"Nơi\s*nhận")
            recipients.extend(x for x in items if x not in recipients)
    md.recipients = recipients

    # signer
    md.signer, md.signer_title = _signature(lines, nn_index)
    if md.signer is None:
        # a name without a title: after the Nơi nhận list, or closing the document
        tail = lines[nn_end + 1:nn_end + 8] if nn_end is not None else [s for s in lines if s][-1:]
        for s in tail:
            if s and not _is_junk(s):
                md.signer = _name(s)
                break
    return md


def _title_after_type(head_lines: list[str], header_type: str, type_line: int) -> str | None:
    """The trích yếu of a decision etc.: the rest of the type line and the lines under it."""
    rest = head_lines[type_line][len(header_type):].strip()
    parts = [rest] if rest else []
    for s2 in head_lines[type_line + 1:type_line + 8]:
        if not s2:
            if parts:
                break
            continue
        if _STOP_TITLE.match(s2) or len(parts) >= 4 or re.fullmatch(r"[A-Z]{2,}\.?|-+|_+", s2):
            break
        if parts and _is_upper_line(parts[-1]) != _is_upper_line(s2):
            break
        parts.append(s2)
    return _trim_title(" ".join(parts)) if parts else None


def _vbhn_block(text: str) -> str | None:
    """The "XÁC THỰC VĂN BẢN HỢP NHẤT" block with its number (lines around it), or None."""
    for m in _VBHN_RE.finditer(text):
        block = text[max(0, m.start() - 200):m.end() + 200]
        n = _NUMBER_RE.search(block)
        if n and "VBHN" in fold(n["num"]).upper():
            return block[n.start():]
    return None


def _trim_title(t: str) -> str | None:
    t = " ".join(t.split()).strip().rstrip(".;,").strip()
    pairs = {"“": "”", '"': '"', "‘": "’", "'": "'"}
    if len(t) >= 2 and t[0] in pairs and t.endswith(pairs[t[0]]):
        inner = t[1:-1]
        if t[0] not in inner and pairs[t[0]] not in inner:
            t = inner.strip().rstrip(".;,").strip()
    return t or None


def _local_issuer(md: Metadata, key: str | None, org: str, org_f: str, place: str | None) -> None:
    """Issuer, level and province of a provincial or district body."""
    province = province_loose(org) if org else None
    if province is None and place:
        province = province_loose(place)
    unit = None          # "tỉnh" | "thành phố" | "huyện" | "quận" | "thị xã" after ỦY BAN NHÂN DÂN
    unit_name = None
    um = re.match(r"^(?:uy ban nhan dan|ubnd|hoi dong nhan dan|hdnd)\s+(tinh|thanh pho|tp|huyen|quan|thi xa|xa|phuong|thi tran)\b\s*(.*)$",
                  org_f)
    if um:
        unit = {"tinh": "tỉnh", "thanh pho": "thành phố", "tp": "thành phố", "huyen": "huyện", "quan": "quận",
                "thi xa": "thị xã", "xa": "xã", "phuong": "phường", "thi tran": "thị trấn"}[um[1]]
        words = org.split()
        n_name = len(um[2].split())
        unit_name = " ".join(w[:1] + w[1:].lower() for w in words[len(words) - n_name:]) if n_name else None
    body = None
    if key in ("UBND", "HĐND", "HDND") or org_f.startswith(("uy ban nhan dan", "ubnd", "hoi dong nhan dan")):
        body = "HĐND" if (key in ("HĐND", "HDND") or org_f.startswith("hoi dong")) else "UBND"
    if body:
        if unit in ("huyện", "quận", "thị xã") or (unit == "thành phố" and unit_name and
                                                   province_loose(f"thành phố {unit_name}") is None):
            md.level = "huyện"
            md.issuer = f"{body} {unit} {unit_name}" if unit_name else None
            # a district header may name its province on a second line ("HUYỆN X TỈNH Y")
            tm = re.search(r"\btinh\s+(.+)$", org_f[len("uy ban nhan dan"):]) if unit != "tỉnh" else None
            md.province = find_province(tm[1]) if tm else None
        elif unit in ("xã", "phường", "thị trấn"):
            md.level = None
            md.issuer = f"{body} {unit} {unit_name}" if unit_name else None
        elif province:
            md.level, md.province = "tỉnh", province
            if province in CITIES:
                md.issuer = f"{body} {province}" if province.startswith("TP.") else f"{body} thành phố {province}"
            else:
                md.issuer = f"{body} tỉnh {province}"
        return
    if key and (key == "HU" or key.endswith("HU") or key == "QU") or org_f.startswith(("huyen uy", "quan uy")):
        md.level = "huyện"
        hm = re.match(r"^(HUYỆN|QUẬN)\s+ỦY\s*(.*)$", org) if org else None
        name = hm and hm[2].strip()
        tm = re.search(r"\btinh\s+(.+?)(?:\s+huyen uy|$)", org_f)
        md.province = find_province(tm[1]) if tm else None
        md.issuer = ("Huyện ủy" if not hm or hm[1] == "HUYỆN" else "Quận ủy") + (
            " " + " ".join(w[:1] + w[1:].lower() for w in name.split()) if name else "")
        return
    if key and (key == "TU" or key.endswith("TU")) or org_f.startswith(("tinh uy", "thanh uy")):
        md.level, md.province = "tỉnh", province
        if key == "BDVTU":
            md.issuer = "Ban Dân vận Tỉnh ủy" + (f" {province}" if province else "")
        elif key == "TU" or not key:
            word = "Thành ủy" if org_f.startswith("thanh uy") else "Tỉnh ủy"
            md.issuer = word + (f" {province}" if province else "")
        else:
            md.issuer = _format_org(org) if org else None
        return
    if org_f.startswith("so "):
        md.level, md.province = "tỉnh", province
        md.issuer = _format_org(org)
