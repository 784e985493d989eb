"""References from one document to others: every reference in a cleaned text, resolved to a key.

``extract_references`` finds each số ký hiệu (and named law) in a document and resolves it by
number + type + issuer with the grammar of ``vn.numbers`` (the code wins over the type word; swapped
letters are undone; the date confirms, it does not decide).
"""
from __future__ import annotations

import bisect
import re

from vn.numbers import (NAME_STOP_WORDS, TYPE_WORDS, WORD_CODES, DocNumber, _CODE, _D, _PSEUDO, _TOP_ISSUERS,
                        _issuer_base, _party_style, _type_of, is_central, name_key, number_key, parse_number)
from vn.text import LOWER, UPPER, fold

from .model import CleanText, Reference

__all__ = ["extract_references"]

# --- extraction ------------------------------------------------------------------------------

_W = rf"[{LOWER}{UPPER}\d]"
# a số ký hiệu in running text (spaces tolerated around separators, not line breaks)
_NUM_RE = re.compile(
    rf"(?<![\w/.\-])(?:"
    rf"(?P<p_n>\d{{1,5}}[a-z]?)[ ]?-[ ]?(?P<p_t>{_CODE})[ ]?/[ ]?(?P<p_i>{_CODE}(?:[ ]?-[ ]?{_CODE}){{0,4}})"
    rf"|(?P<s_n>\d{{1,5}}[a-z]?)(?:[ ]?/[ ]?(?P<s_y>(?:19|20)\d\d))?[ ]?/[ ]?(?P<s_c>{_CODE}(?:[ ]?[-/][ ]?{_CODE}){{0,5}})"
    rf"|(?P<d_n>\d{{1,5}})-(?P<d_i>[A-Z{_D}][A-Z{_D}]+\d*)"
    rf")(?![\w/])"
)
_TYPE_ALT = "|".join(sorted((w for w in WORD_CODES), key=len, reverse=True))
_TYPE_WORD_RE = re.compile(r"\b(" + _TYPE_ALT + r")\s+(?:so\s*(?:hieu\s*)?:?\s*)?$")
_LAW_NAME_RE = re.compile(r"\b(bo luat|luat|phap lenh)\s+([a-z0-9 ,\-]{2,120}?)\s+so\s*:?\s*$")
_DATE_RE = re.compile(
    r"[ ,]*(?:\(|ban hành\s+)?ngày\s*(\d{1,2})\s*(?:/|-|\.|\s+tháng\s+)\s*(\d{1,2})\s*(?:/|-|\.|\s+năm\s+)\s*(\d{4})",
    re.I)
_OF_RE = re.compile(r"[ ,)]*(?:của|do)\s+")
_BODY_STOP = re.compile(
    r"\s*(?:[,;:.()“”\"\n\d]|\s+và\s+(?=[a-zđ]|Kế|Nghị|Quyết|Chỉ|Chương|Công|Thông|Luật|Pháp|Kết|Quy|Tờ|Văn|Báo)|\b(?:về|v/v|V/v|quy định|hướng dẫn|ban hành|sửa đổi|thông báo|phê duyệt|"
    r"triển khai|thực hiện|tiếp tục|tại|theo|ngày|đã|được|và việc|là|nhằm|đối với|khóa|khoá|thì|tăng cường|"
    r"[Qq]uy định|[Qq]ui định|[Nn]ghị định|hỗ trợ|như sau|chỉ|để|Xét|Căn cứ|gửi|trình)\b)")
_OWN_HEADER = re.compile(r"(?:^|\n)[ ]*Số[ ]*:?[ ]*$")
_PLACE_RE = re.compile(
    rf"(?:tỉnh|Tỉnh ủy|Tỉnh uỷ|thành phố|Thành phố|Thành ủy|Thành uỷ|TP\.?)\s+"
    rf"([{UPPER}][{LOWER}]*(?:\s+[{UPPER}][{LOWER}]*){{0,3}})")
_LIST_GAP = re.compile(r"^\s*(?:,|;|và|hoặc|và các)?\s*(?:số\s*)?$")
_SENT_END = re.compile(rf"\n|;|[.!?](?=\s+[{UPPER}\d\-–•+])")


def _sentence_bounds(text: str) -> list[int]:
    return [m.end() for m in _SENT_END.finditer(text)]


def _sentence(ct: CleanText, bounds: list[int], start: int, end: int) -> str:
    i = bisect.bisect_right(bounds, start)
    s = bounds[i - 1] if i else 0
    j = bisect.bisect_left(bounds, end)
    e = bounds[j] if j < len(bounds) else len(ct.clean)
    while s < e and ct.clean[s].isspace():
        s += 1
    os_, oe = ct.to_original(s, e)
    return ct.original[os_:oe].strip()


def _word_before(clean: str, start: int) -> tuple[bool, str | None, int, str | None]:
    """Type word right before a number: (found, code or None, clean start of the word, law name).

    "văn bản số ..." is found with no code; "Pháp lệnh ưu đãi ... số ..." also returns the name.
    The caller guarantees that folding keeps the length, so folded offsets are clean offsets.
    """
    before = clean[max(0, start - 160):start]
    fb = fold(before)
    m = _TYPE_WORD_RE.search(fb)
    if m:
        return True, WORD_CODES[m.group(1)], start - len(before) + m.start(1), None
    m = _LAW_NAME_RE.search(fb)
    if m and not re.search(r"\b(ngay|nam \d|so \d)", m.group(2)) and not _TYPE_WORD_RE.search(m.group(2) + " "):
        return True, WORD_CODES[m.group(1)], start - len(before) + m.start(1), before[m.start(1):m.end(2)]
    return False, None, start, None


def _safe_fold_ok(s: str) -> bool:
    return len(fold(s)) == len(s)


def _iso(d: str, mth: str, y: str) -> str | None:
    di, mi, yi = int(d), int(mth), int(y)
    if 1 <= di <= 31 and 1 <= mi <= 12 and 1900 <= yi <= 2100:
        return f"{yi:04d}-{mi:02d}-{di:02d}"
    return None


def _tail(clean: str, end: int) -> tuple[str | None, str | None, int]:
    """Date and issuing body written after a number: (iso date, body, clean end of the tail)."""
    date, body, pos = None, None, end
    m = _DATE_RE.match(clean, pos)
    if m:
        date, pos = _iso(*m.groups()), m.end()
        if clean[pos:pos + 1] == ")":
            pos += 1
    m = _OF_RE.match(clean, pos)
    if m:
        s = m.end()
        stop = _BODY_STOP.search(clean, s, min(len(clean), s + 120))
        e = stop.start() if stop else min(len(clean), s + 80)
        cand = clean[s:e].strip()
        if cand and len(cand.split()) <= 14 and cand[0].isupper():
            body, pos = cand, s + len(cand)
        if date is None:
            m2 = _DATE_RE.match(clean, pos)
            if m2:
                date, pos = _iso(*m2.groups()), m2.end()
    return date, body, pos


def _is_plausible_bare(dn: DocNumber, m: re.Match) -> bool:
    """A number with no type word before it: require a real code, not "3/A"."""
    if m.group("d_n"):
        return False
    if dn.type_code and dn.type_code != "CV" and _type_of(dn.type_code):
        return bool(dn.issuer_code)
    iss = _issuer_base(dn.issuer_code or "")
    return bool(dn.unit) and (iss in _TOP_ISSUERS or is_central(dn.issuer_code) or len(iss) >= 3)


def _same_number(a: DocNumber, b: DocNumber) -> bool:
    """Same document number, tolerating a missing year or an inferred type."""
    return (a.serial == b.serial
            and (a.year == b.year or None in (a.year, b.year))
            and fold(a.issuer_code or "").upper() == fold(b.issuer_code or "").upper()
            and (a.type_code == b.type_code or not (a.typed and b.typed)))


def extract_references(ct: CleanText, context: dict | None = None) -> list[Reference]:
    """Every reference in ``ct`` to another document, in text order.

    ``context``: {"province": "Đắk Nông", "district": None, "number": "2071/UBND-NC"} of the citing
    document; local issuers resolve to its place and its own number is never a reference.
    """
    context = context or {}
    province, district = context.get("province"), context.get("district")
    own = parse_number(context["number"]) if context.get("number") else None
    clean = ct.clean
    if not _safe_fold_ok(clean):  # exotic characters whose fold changes length: work on a copy
        return _extract_safe(ct, context)
    bounds = _sentence_bounds(clean)
    refs: list[Reference] = []
    covered: list[tuple[int, int]] = []
    prev_word: tuple[str | None, int] | None = None  # (word code, clean end of previous tail)

    for m in _NUM_RE.finditer(clean):
        ns, ne = m.span()
        if _OWN_HEADER.search(clean[max(0, ns - 12):ns]):  # "Số: ..." header: the document's own number
            prev_word = None
            continue
        dn = parse_number(m.group(0))
        if dn is None:
            continue
        found, word, qs, law_name = _word_before(clean, ns)
        if not found and prev_word is not None and _LIST_GAP.match(clean[prev_word[1]:ns]):
            found, word = True, prev_word[0]  # "các Nghị định số 54/2006/NĐ-CP, 89/2008/NĐ-CP"
        if not found and not _is_plausible_bare(dn, m):
            prev_word = None
            continue
        date, body, tail_end = _tail(clean, ne)
        ref = _resolve(ct, bounds, dn, word, qs, ne, date, body, law_name, province, district)
        prev_word = (word, tail_end)
        if own is not None and _same_number(dn, own):
            continue
        refs.append(ref)
        covered.append((qs, ne))

    refs.extend(_named_laws(ct, bounds, covered))
    refs.sort(key=lambda r: r.start)
    return refs


def _extract_safe(ct: CleanText, context: dict) -> list[Reference]:
    # replace characters whose fold changes length by a placeholder of one character
    chars = [c if len(fold(c)) == 1 else "\x00" for c in ct.clean]
    tmp = CleanText(ct.original, "".join(chars), ct.offsets)
    return extract_references(tmp, context)


def _resolve(ct: CleanText, bounds: list[int], dn: DocNumber, word: str | None, qs: int, ne: int,
             date: str | None, body: str | None, law_name: str | None,
             province: str | None, district: str | None) -> Reference:
    if word == "CV" and dn.typed and dn.type_code != "CV" and not dn.year and not _party_style(dn) \
            and dn.issuer_code and not _known_issuer(dn.issuer_code):
        # "Công văn số 577/CT-THNVDT": the first code is the issuer (Cục Thuế), not a type
        dn = DocNumber(dn.number, None, "CV", dn.type_code, "-".join(x for x in (dn.issuer_code, dn.unit) if x),
                       dn.raw, [], typed=False)
    notes = list(dn.notes)
    code_type = dn.type_code if dn.typed else None  # a công văn inferred from the shape is a default
    if code_type and word and word != code_type and word not in _PSEUDO and not _compatible(word, code_type):
        notes.append(f"loại văn bản theo ký hiệu: {TYPE_WORDS.get(code_type, code_type)} "
                     f"(văn bản ghi “{TYPE_WORDS.get(word, word)}”)")
    type_code = code_type or word or dn.type_code
    year = dn.year
    if year is None and date:
        year = int(date[:4])
    resolved = DocNumber(dn.number, dn.year, type_code, dn.issuer_code, dn.unit, dn.raw, notes, dn.typed)
    place_prov, place_dist = province, district
    if body:
        pm = _PLACE_RE.search(body)
        if pm and not is_central(dn.issuer_code):
            place_prov = pm.group(1)
        if re.search(r"\b(huyện|Huyện|thị xã)\b", body) and _issuer_base(dn.issuer_code or "") in {"UBND", "HDND"}:
            place_prov = f"{province or '?'}/{district or '?'}"
    key = number_key(resolved, place_prov, place_dist)
    os_, oe = ct.to_original(qs, ne)
    name = None
    if law_name:
        ls, le = ct.to_original(qs, qs + len(law_name))
        name = ct.original[ls:le]
    tw = TYPE_WORDS.get(type_code) if type_code else None
    if word and code_type and _compatible(word, code_type):
        tw = TYPE_WORDS[word]  # the word is more specific: "Quy định số 69-QĐ/TW"
    return Reference(
        quote=ct.original[os_:oe], start=os_, end=oe, sentence=_sentence(ct, bounds, qs, ne),
        doc_type=tw, type_code=type_code, number=dn.number, year=year, issuer_code=dn.issuer_code,
        date=date, issuer_body=body, scope="global" if is_central(dn.issuer_code) else "local",
        key=key, canonical=f"{tw} {resolved.canonical()}" if tw else resolved.canonical(), name=name, notes=notes)


def _known_issuer(code: str) -> bool:
    b = _issuer_base(code.split("-")[0])
    return is_central(code) or b in _TOP_ISSUERS or b.endswith(("TU", "HU", "TW", "UBND", "HDND", "BCD"))


def _compatible(word: str, code: str) -> bool:
    """Type word and code that name the same kind ("Thông tư" and TTLT, "Quy định" and QĐ)."""
    pairs = {("TT", "TTLT"), ("TTLT", "TT"), ("QĐi", "QĐ"), ("QĐ", "QĐi"), ("NQ", "NQLT"), ("CTr", "CTLT"),
             ("KH", "KHLT"), ("QC", "QCPH"), ("QC", "QCLT"), ("HD", "HDLT"), ("CV", "CĐ")}
    return (word, code) in pairs


# --- named laws ------------------------------------------------------------------------------

_LAW_HEAD = re.compile(r"(?<![\w])(Bộ [Ll]uật|Luật|Hiến pháp|Pháp lệnh)(?=[ ])")
# two-word stops ("quy định" ends a name, "quy phạm" does not)
_NAME_STOP_PAIRS = {
    ("ban", "hành"), ("thông", "qua"), ("quy", "định"), ("hướng", "dẫn"), ("hiện", "hành"),
    ("sửa", "đổi"), ("đối", "với"), ("liên", "quan"), ("thi", "hành"), ("năm", "học"), ("tổ", "chức"),
}
_NOT_AFTER_AND = {"một", "các", "những", "mọi", "nhiều", "hai", "ba", "văn", "quy", "hướng", "nghị", "thông",
                  "khoản", "điều", "điểm", "chương", "mục", "phụ", "có", "được", "chịu", "chủ", "theo", "tại"}
# common law names (folded, without the kind word): a scanned name that starts with one is cut to it,
# so "Luật Giáo dục nghề nghiệp tổ chức cuộc họp" gives "Luật Giáo dục nghề nghiệp"
_KNOWN_NAMES = sorted({
    "an ninh mang", "an toan thong tin mang", "an toan thuc pham", "an toan ve sinh lao dong", "bao hiem xa hoi",
    "bao hiem y te", "bao hiem tien gui", "bao ve bi mat nha nuoc", "bao ve moi truong", "ban hanh van ban quy pham phap luat",
    "can bo cong chuc", "cong an nhan dan", "cu tru", "chung khoan", "dan su", "dat dai", "dau thau", "dau tu",
    "dau tu cong", "doanh nghiep", "giao duc", "giao duc dai hoc", "giao duc nghe nghiep", "hai quan", "hop tac xa",
    "hinh su", "khieu nai", "to cao", "tiep cong dan", "lao dong", "ngan sach nha nuoc", "nguoi cao tuoi",
    "nguoi khuyet tat", "nha o", "quan ly thue", "so huu tri tue", "thi hanh an dan su", "thi hanh an hinh su",
    "thi dua khen thuong", "to chuc chinh phu", "to chuc chinh quyen dia phuong", "to chuc quoc hoi",
    "thuc hien dan chu o co so", "viec lam", "vien chuc", "xay dung", "xu ly vi pham hanh chinh", "thanh tra",
    "phong chong tham nhung", "tre em", "thanh nien", "cong doan", "hon nhan va gia dinh", "kham benh chua benh",
    "thue gia tri gia tang", "thue thu nhap ca nhan", "thue thu nhap doanh nghiep", "ke toan", "kiem toan nha nuoc",
    "nghia vu quan su", "dan quan tu ve", "quoc phong", "giao thong duong bo", "to chuc hoi dong nhan dan va uy ban nhan dan",
    "uu dai nguoi co cong voi cach mang", "thuc hien dan chu o xa phuong thi tran", "binh dang gioi",
    "phong chong bao luc gia dinh", "phong chong ma tuy", "di san van hoa", "tin nguong ton giao",
    "bau cu dai bieu quoc hoi va dai bieu hoi dong nhan dan", "to tung hinh su", "to tung dan su", "to tung hanh chinh",
    "giao duc quoc phong va an ninh", "doanh nghiep nha nuoc", "dau tu theo phuong thuc doi tac cong tu",
    "thong ke", "bao chi", "du lich", "giam dinh tu phap", "hang hai viet nam", "trat tu an toan giao thong duong bo",
    "chuyen giao cong nghe", "khoa hoc va cong nghe", "khoa hoc cong nghe va doi moi sang tao", "quan ly no cong",
    "ho tro doanh nghiep nho va vua", "tre em", "chung khoan", "cong chung", "ho tich", "kinh doanh bat dong san",
    "phong chay va chua chay", "phong chay chua chay va cuu nan cuu ho", "nguoi lao dong viet nam di lam viec o nuoc ngoai",
    "tri tue nhan tao", "dien anh", "xuat ban", "luu tru", "quy hoach", "thuong mai", "canh tranh",
}, key=len, reverse=True)
_NOT_NAME_FIRST = {"sư", "gia", "định", "pháp", "này", "hiện", "và", "hoặc", "của", "số", "được", "đã", "các",
                   "về", "mới", "nêu", "trên", "ngày", "năm", "quy", "cũ", "khác", "liên", "đó"}
_WORD_RE = re.compile(rf"{_W}+(?:-{_W}+)?")
_KIND_KEY = {"Luật": "LUAT", "Bộ luật": "BLUAT", "Bộ Luật": "BLUAT", "Hiến pháp": "HP", "Pháp lệnh": "PL"}


def _next_word(clean: str, pos: int) -> str:
    m = _WORD_RE.match(clean, pos + 1) if clean[pos:pos + 1] == " " else None
    return m.group(0).lower() if m else ""


def _scan_name(clean: str, pos: int, depth: int = 0) -> int:
    """End (clean index) of a law name starting at ``pos`` (0 words -> pos)."""
    end = pos
    i = pos
    words = 0
    n = len(clean)
    while i < n and words < 16:
        while i < n and clean[i] == " ":
            i += 1
        if i < n and clean[i] == "," and words:
            # a comma joins short pieces: "Phòng, chống", "Cán bộ, công chức"
            j = i + 1
            nxt = re.match(rf"[ ]*({_W}+)", clean[j:j + 30])
            if nxt and nxt.group(1) in ("chống", "bổ"):
                i = j
                continue
            # short lower-case pieces up to a strong boundary: "An toàn, vệ sinh lao động ngày ..."
            seg = re.match(rf"[ ]*((?:{_W}+[ ]?){{1,3}})(?=[,;.:()“”\n]|[ ](?:và|ngày|năm|số|của)\b|$)",
                           clean[j:j + 60])
            seg4 = re.match(rf"[ ]*((?:{_W}+[ ]?){{4,5}})(?=[;.:\n]|[ ](?:ngày|năm|số|của|được|đã)\b|$)",
                            clean[j:j + 80])
            seg = seg if seg else seg4
            if seg and words <= 4:
                sw = seg.group(1).split()
                if sw[0][0].islower() and not any(w in NAME_STOP_WORDS or w == "năm" for w in sw):
                    i = j
                    continue
            break
        m = _WORD_RE.match(clean, i)
        if not m:
            break
        w = m.group(0)
        lw = w.lower()
        if lw in ("và",):
            nm = _WORD_RE.match(clean, m.end() + 1) if m.end() < n and clean[m.end()] == " " else None
            nw = nm.group(0) if nm else ""
            if not nw or nw[0].isupper() or nw in NAME_STOP_WORDS or nw in _NOT_AFTER_AND:
                break
        elif lw == "số" and words and re.match(rf"[ ]{_W}", clean[m.end():m.end() + 2]) \
                and not re.match(r"[ ](?:\d|hiệu|:)", clean[m.end():m.end() + 6]):
            pass  # "Luật Tần số vô tuyến điện"; "Luật ... số 10/2012/QH13" stops
        elif lw == "có" and words and _next_word(clean, m.end()) == "công":
            pass  # "Pháp lệnh Ưu đãi người có công với cách mạng"
        elif lw in NAME_STOP_WORDS:
            break
        elif words and (lw, _next_word(clean, m.end())) in _NAME_STOP_PAIRS:
            break
        elif lw == "năm" or w.isdigit():
            break
        elif words and w in ("Luật", "Nghị", "Pháp", "Quyết", "Chỉ", "Thông", "Bộ") :
            break
        elif lw in ("sửa",) and words == 0:
            # "Luật sửa đổi, bổ sung một số điều của Luật A và Luật B"
            mm = re.match(r"sửa đổi,? bổ sung(?: một số điều)?(?: của)?[ ]", clean[i:i + 60], re.I)
            if mm and depth == 0:
                j = i + mm.end()
                last = j
                while True:
                    h = _LAW_HEAD.match(clean, j)
                    if not h:
                        break
                    e2 = _scan_name(clean, h.end(), depth + 1)
                    if e2 == h.end():
                        break
                    last = e2
                    jm = re.match(r"(?:,|[ ]và)[ ]", clean[e2:e2 + 5])
                    if not jm:
                        break
                    j = e2 + jm.end()
                return last if last > i + mm.end() else i + mm.end() - 1
        tail = re.search(r"(?<=[^\W\d])\d+$", w)
        if words and tail:  # footnote mark glued to the last word: "Luật Nhà ở11"
            return m.end() - len(tail.group(0))
        i = m.end()
        end = i
        words += 1
    return end


def _named_laws(ct: CleanText, bounds: list[int], covered: list[tuple[int, int]]) -> list[Reference]:
    clean = ct.clean
    out: list[Reference] = []
    for h in _LAW_HEAD.finditer(clean):
        hs = h.start()
        if any(a <= hs < b for a, b in covered):
            continue
        first = _WORD_RE.match(clean, h.end() + 1)
        kind = h.group(1)
        if kind == "Hiến pháp":
            ym = re.match(r"[ ](?:năm[ ])?((?:19|20)\d\d)", clean[h.end():h.end() + 12])
            end = h.end() + ym.end() if ym else h.end()
            name_end, year = end, int(ym.group(1)) if ym else None
            nkey = str(year) if year else ""
        else:
            if not first or first.group(0).lower() in _NOT_NAME_FIRST:
                continue
            name_end = _scan_name(clean, h.end())
            if name_end <= h.end():
                continue
            name_end = _cut_to_known(clean, h.end() + 1, name_end)
            year = None
            nkey = None
        # numbered law ("Luật ... số 76/2015/QH13") is handled by the number pass
        if re.match(r"[ ,]*số\s*:?\s*\d", clean[name_end:name_end + 12]):
            continue
        os_, oe = ct.to_original(hs, name_end)
        name = ct.original[os_:oe]
        date = None
        dm = _DATE_RE.match(clean, name_end)
        if dm:
            date = _iso(*dm.groups())
        if year is None:
            ym = re.match(r"[ ,]*(?:ngày[^;,.]{0,20}?)?năm[ ]((?:19|20)\d\d)", clean[name_end:name_end + 40])
            year = int(date[:4]) if date else (int(ym.group(1)) if ym else None)
        if nkey is None:
            nkey = name_key(clean[h.end():name_end])
        covered.append((hs, name_end))
        out.append(Reference(
            quote=name, start=os_, end=oe, sentence=_sentence(ct, bounds, hs, name_end), doc_type=kind,
            type_code=_KIND_KEY[kind], number=None, year=year, issuer_code=None, date=date,
            issuer_body=None, scope="global", key=f"{_KIND_KEY[kind]}|{nkey}", canonical=name, name=name))
    return out


def _cut_to_known(clean: str, start: int, end: int) -> int:
    """Cut a scanned name to the longest known law name it starts with (fold keeps offsets)."""
    words = list(re.finditer(rf"{_W}+", clean[start:end]))
    folded = [fold(w.group(0)) for w in words]
    for known in _KNOWN_NAMES:
        kw = known.split()
        # longest first, so "Đầu tư công" is kept whole and "Đầu tư nếu ..." is cut to "Đầu tư"
        if len(kw) < len(folded) and folded[:len(kw)] == kw:
            return start + words[len(kw) - 1].end()
    return end
