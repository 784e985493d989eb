"""The grammar of Vietnamese document numbers and references: codes, số ký hiệu, canonical keys, queries.

A số ký hiệu is ``<number>[/<year>]/<type>-<issuer>[-<unit>]`` ("04/2015/NĐ-CP", "1707/QĐ-UBND"),
``<number>/<issuer>-<unit>`` for a công văn ("1321/UBND-KGVX") or, Party style,
``<number>-<type>/<issuer>`` ("25-NQ/TW"). A reference resolves by number + type + issuer (the code
wins over the type word; swapped letters are undone). Central issuers give global keys ("CT|16|TTg"),
local ones are qualified by the citing document's place ("CT|14|TU|Đắk Nông").
Used by ingest (metadata, reference extraction) and by index (query parsing, citation lookups).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import LOWER, UPPER, fold, nfc

__all__ = [
    "DocNumber", "TYPE_WORDS", "WORD_CODES", "parse_number", "number_key", "document_key", "is_central",
    "parse_reference_query", "key_matches", "name_key",
]

# --- codes -----------------------------------------------------------------------------------

# type code -> type word. LUAT, BLUAT and HP are pseudo-codes for kinds that carry no code.
TYPE_WORDS: dict[str, str] = {
    "CT": "Chỉ thị", "NQ": "Nghị quyết", "NQLT": "Nghị quyết liên tịch", "KL": "Kết luận",
    "QĐ": "Quyết định", "QĐLT": "Quyết định liên tịch", "QĐi": "Quy định", "QyĐ": "Quy định",
    "KH": "Kế hoạch", "KHLT": "Kế hoạch liên tịch", "CV": "Công văn", "CĐ": "Công điện",
    "CTr": "Chương trình", "CTrLT": "Chương trình liên tịch", "CTLT": "Chương trình liên tịch",
    "QC": "Quy chế", "QCPH": "Quy chế phối hợp", "QCLT": "Quy chế liên tịch",
    "NĐ": "Nghị định", "TT": "Thông tư", "TTLT": "Thông tư liên tịch", "PL": "Pháp lệnh",
    "TB": "Thông báo", "TTr": "Tờ trình", "HD": "Hướng dẫn", "HDLT": "Hướng dẫn liên tịch",
    "BC": "Báo cáo", "VBHN": "Văn bản hợp nhất", "GM": "Giấy mời", "PA": "Phương án", "ĐA": "Đề án",
    "BB": "Biên bản", "GP": "Giấy phép", "HĐ": "Hợp đồng", "SL": "Sắc lệnh", "L": "Lệnh",
    "TTri": "Thông tri", "ĐL": "Điều lệ",
    "LUAT": "Luật", "BLUAT": "Bộ luật", "HP": "Hiến pháp",
}
_PSEUDO = {"LUAT", "BLUAT", "HP"}
# folded upper-case form -> canonical code ("QD" -> "QĐ", "CTR" -> "CTr")
_TYPE_BY_FOLD = {fold(c).upper(): c for c in TYPE_WORDS if c not in _PSEUDO}
# anagram (sorted folded letters) -> code, for swapped letters ("TC" -> "CT")
_TYPE_BY_ANAGRAM: dict[str, str] = {}
for _c in _TYPE_BY_FOLD.values():
    _TYPE_BY_ANAGRAM.setdefault("".join(sorted(fold(_c).upper())), _c)

# type word (folded) -> code; longest first when matching
WORD_CODES: dict[str, str | None] = {
    "chi thi": "CT", "nghi quyet lien tich": "NQLT", "nghi quyet": "NQ", "ket luan": "KL",
    "quyet dinh lien tich": "QĐLT", "quyet dinh": "QĐ", "quy dinh": "QĐi",
    "ke hoach lien tich": "KHLT", "ke hoach": "KH", "cong van": "CV", "cong dien": "CĐ",
    "chuong trinh lien tich": "CTLT", "chuong trinh phoi hop": "CTr", "chuong trinh hanh dong": "CTr",
    "chuong trinh": "CTr", "quy che phoi hop": "QCPH", "quy che lien tich": "QCLT", "quy che": "QC",
    "nghi dinh": "NĐ", "thong tu lien tich": "TTLT", "thong tu lien bo": "TTLT", "thong tu": "TT",
    "phap lenh": "PL", "thong bao ket luan": "TB", "thong bao y kien": "TB", "thong bao": "TB",
    "to trinh": "TTr", "huong dan lien tich": "HDLT", "huong dan": "HD", "bao cao": "BC",
    "van ban hop nhat": "VBHN", "giay moi": "GM", "phuong an": "PA", "de an": "ĐA",
    "sac lenh": "SL", "lenh": "L", "thong tri": "TTri", "dieu le": "ĐL",
    "bo luat": "BLUAT", "luat": "LUAT", "hien phap": "HP", "van ban": None,
}

# issuers whose documents are national. Folded upper-case forms.
_CENTRAL = {
    "TW", "TTG", "CP", "QH", "UBTVQH", "CTN", "BBT", "BCT", "BCHTW", "VPCP", "VPTW", "VPQH", "VPCTN",
    "TCTW", "BTCTW", "BDVTW", "BTGTW", "UBKTTW", "BNCTW", "DUTW", "TANDTC", "VKSNDTC", "KTNN", "NHNN",
    "TTCP", "UBDT", "BTC", "BNV", "BLDTBXH", "LDTBXH", "BYT", "BXD", "BGDDT", "BTNMT", "BCA", "BQP",
    "BTP", "BKHDT", "BKH", "BNN", "BNNPTNT", "BGTVT", "BTTTT", "BVHTTDL", "BVHTT", "BKHCN", "BNG",
    "BTDKT", "TC", "NV", "BNV", "TCT", "TCTK", "TCHQ", "TLD", "TLDLDVN", "MTTW", "UBTWMTTQVN",
    "TWDTN", "TWDTNCSHCM", "TWHLHPNVN", "BDVN", "NHCSXH", "BHXHVN", "TTGCP", "LBTC", "BQL", "GDDT",
}
# canonical spelling of issuer codes that are not all upper case
_ISSUER_CASE = {"TTG": "TTg", "TTGCP": "TTgCP"}
# district-level issuers: the key takes the district
_DISTRICT_ISSUERS = {"HU", "QU", "THU", "DU", "TXU"}
# issuers that always stand first (a công văn "1321/UBND-KGVX"); never a unit
_TOP_ISSUERS = {"UBND", "HDND", "TU", "HU", "CP", "TTG", "TW", "QH"}

_D = "ĐÐđ"  # Đ, look-alike Ð (U+00D0), đ


def _canon_code(code: str) -> str:
    """Upper-case a code, unify Ð, keep known mixed-case spellings (TTg, CTr)."""
    c = code.replace("Ð", "Đ").replace("đ", "Đ").upper()
    f = fold(c).upper()
    if f in _TYPE_BY_FOLD and (c == f or fold(_TYPE_BY_FOLD[f]).upper() == f):
        return _TYPE_BY_FOLD[f]
    if f in _ISSUER_CASE:
        return _ISSUER_CASE[f]
    m = re.fullmatch(r"(UBTVQH|QH|HĐND)(\d+)", c)
    return c if not m else m.group(1) + m.group(2)


def _type_of(code: str) -> str | None:
    return _TYPE_BY_FOLD.get(fold(code).upper())


def _issuer_base(code: str) -> str:
    """Folded code without a trailing term number: "UBTVQH11" -> "UBTVQH"."""
    return re.sub(r"\d+$", "", fold(code).upper())


def is_central(issuer_code: str | None) -> bool:
    """True when documents of this issuer (or any of joint issuers "BTC-BLĐTBXH") are national."""
    if not issuer_code:
        return False
    for part in issuer_code.split("-"):
        b = _issuer_base(part)
        if b in _CENTRAL or b.endswith("TW") or b.endswith("TƯ"):
            return True
    return False


# --- parse_number ----------------------------------------------------------------------------

@dataclass
class DocNumber:
    """A parsed số ký hiệu."""
    number: str                 # "1321", "04/2015" (year kept when written in the number)
    year: int | None            # 2015 for "04/2015/NĐ-CP"
    type_code: str | None       # "NĐ"; "CV" for "1321/UBND-KGVX"; None if unknown ("76/2015/QH13")
    issuer_code: str | None     # "CP", "UBND", "TW", "BTC-BLĐTBXH"
    unit: str | None            # "KGVX" in "1321/UBND-KGVX"
    raw: str                    # as given
    notes: list[str] = field(default_factory=list)
    typed: bool = True          # False when the type was inferred (công văn shape), not written

    @property
    def doc_type(self) -> str | None:
        return TYPE_WORDS.get(self.type_code) if self.type_code else None

    @property
    def serial(self) -> str:
        """Number without year and leading zeros: "04/2015" -> "4"."""
        return self.number.split("/")[0].lstrip("0") or "0"

    def canonical(self) -> str:
        """Display form: "16/CT-TTg", "25-NQ/TW", "04/2015/NĐ-CP", "1321/UBND-KGVX"."""
        iss = self.issuer_code or ""
        unit = f"-{self.unit}" if self.unit else ""
        tc = self.type_code if self.typed and self.type_code not in _PSEUDO else None
        if _party_style(self):
            return f"{self.number}-{tc}/{iss}" if tc else f"{self.number}-{iss}"
        if tc:
            return f"{self.number}/{tc}-{iss}{unit}" if iss else f"{self.number}/{tc}"
        return f"{self.number}/{iss}{unit}"


def _party_style(dn: DocNumber) -> bool:
    """Party documents (issuer TW, TU, HU, BDVTU, ...) are written "<n>-<type>/<issuer>"."""
    b = _issuer_base(dn.issuer_code or "")
    return bool(b) and "/" not in dn.number and b.endswith(("TW", "TU", "HU", "QU", "DU"))


_CODE = rf"[A-Z{_D}a-z{_D}][A-Za-z{_D}]*\d*"
_PARTY = re.compile(rf"(\d+[a-z]?)\s*-\s*({_CODE})(?:\s*/\s*({_CODE}(?:-{_CODE})*))?")
_STATE = re.compile(rf"(\d+[a-z]?)(?:\s*/\s*((?:19|20)\d\d))?\s*[/ ]\s*({_CODE}(?:[-/]{_CODE})*)")


def _tidy(raw: str) -> str:
    s = nfc(raw).replace("*", "").replace("\u00a0", " ").strip()
    s = re.sub(r"\s*\([^)]*\)\s*$", "", s)                    # "(CAT-PC02)", "(138)"
    s = re.sub(r"[–—_]", "-", s)
    s = re.sub(r"\s*-\s*", "-", s)
    s = re.sub(r"\s*/\s*", "/", s)
    # spaces left inside the code part join its pieces ("BCH PCTT-TKCN")
    m = re.match(r"^(\d+[a-z]?(?:/(?:19|20)\d\d)?)([/ -])(.*)$", s)
    if m:
        s = m.group(1) + m.group(2) + re.sub(r"\s+", "-", m.group(3).strip())
    return s


def _split_codes(codes: str) -> list[str]:
    return [_canon_code(p) for p in re.split(r"[-/]", codes) if p]


def _resolve_state(number: str, year: int | None, parts: list[str], raw: str) -> DocNumber:
    notes: list[str] = []
    first = parts[0]
    t = _type_of(first)
    rest = parts[1:]
    if t is None and rest and _issuer_base(rest[0]) in _TOP_ISSUERS:
        ana = _TYPE_BY_ANAGRAM.get("".join(sorted(fold(first).upper())))
        if ana and _issuer_base(first) not in _TOP_ISSUERS:
            notes.append(f"ký hiệu đảo chữ: {first} -> {ana}")
            t = ana
        elif _issuer_base(first) not in _TOP_ISSUERS and len(rest) == 1:
            # unit before issuer ("VX-UBND"): a công văn of the issuer
            return DocNumber(number, year, None if year else "CV", rest[0], first, raw, notes, typed=False)
    if t is not None:
        if not rest:
            return DocNumber(number, year, t, None, None, raw, notes)
        if t.endswith("LT") or t == "QCPH":
            return DocNumber(number, year, t, "-".join(rest), None, raw, notes)
        return DocNumber(number, year, t, rest[0], "-".join(rest[1:]) or None, raw, notes)
    # no type code: công văn "<n>/<issuer>-<unit>"; with a year the type word decides
    return DocNumber(number, year, None if year else "CV", first, "-".join(rest) or None, raw, notes, typed=False)


def parse_number(s: str) -> DocNumber | None:
    """Parse a số ký hiệu ("1321/UBND-KGVX", "04/2015/NĐ-CP", "25-NQ/TW"); None if it is not one."""
    if not s or not isinstance(s, str):
        return None
    t = _tidy(s)
    m = _PARTY.fullmatch(t)
    if m and m.group(3):
        code, issuer = _canon_code(m.group(2)), _split_codes(m.group(3))
        tc = _type_of(code) or code
        return DocNumber(m.group(1), None, tc, "-".join(issuer), None, s)
    if m:  # "251-BCĐ": number and issuer only
        code = _canon_code(m.group(2))
        tc = _type_of(code)
        return DocNumber(m.group(1), None, tc or "CV", None if tc else code, None, s, typed=bool(tc))
    m = _STATE.fullmatch(t)
    if m:
        year = int(m.group(2)) if m.group(2) else None
        number = f"{m.group(1)}/{m.group(2)}" if year else m.group(1)
        return _resolve_state(number, year, _split_codes(m.group(3)), s)
    return None


def number_key(dn: DocNumber, province: str | None = None, district: str | None = None) -> str:
    """Canonical identity of a numbered document: "CT|16|TTg", "NĐ|4/2015|CP", "CT|14|TU|Đắk Nông"."""
    num = dn.number.split("/")
    num[0] = num[0].lstrip("0") or "0"
    # the term suffix of a legislature is often left out ("04/2012/UBTVQH" = "04/2012/UBTVQH13")
    issuer = re.sub(r"^(UBTVQH|QH|HĐND)\d+$", r"\1", dn.issuer_code or "?")
    key = f"{dn.type_code or '?'}|{'/'.join(num)}|{issuer}"
    if is_central(dn.issuer_code):
        return key
    return f"{key}|{_place(dn.issuer_code, province, district)}"


def document_key(number: str | None, province: str | None = None) -> str | None:
    """The key other documents cite a document by, from its own số hiệu ("CV|5500|UBND|Đắk Lắk")."""
    dn = parse_number(number) if number else None
    return number_key(dn, province) if dn else None


def _place(issuer_code: str | None, province: str | None, district: str | None) -> str:
    if _issuer_base(issuer_code or "") in _DISTRICT_ISSUERS:
        return f"{province or '?'}/{district or '?'}"
    return province or "?"


_W = rf"[{LOWER}{UPPER}\d]"
# words that end a law's name ("Luật Đất đai *của* ...")
NAME_STOP_WORDS = {
    "ngày", "số", "của", "được", "đã", "đang", "sẽ", "về", "tại", "theo", "thì", "để", "mà", "nhằm", "khi",
    "nay", "này", "là", "gồm", "như", "các", "những", "do", "hoặc", "hay", "cũng", "vẫn", "còn", "phải",
    "không", "đó", "trong", "cho", "từ", "đến", "qua", "vào", "bị", "nên", "nếu", "trên", "dưới", "có",
    "bằng", "chịu",
}


def name_key(name: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", fold(name)).split())


# --- queries ---------------------------------------------------------------------------------

_Q_WORDS = sorted(((w, c) for w, c in WORD_CODES.items() if c), key=lambda x: len(x[0]), reverse=True)
_Q_CODES = {fold(c).lower(): c for c in TYPE_WORDS if c not in _PSEUDO}
_Q_NUM = re.compile(
    rf"(?<![\w/])(\d{{1,5}}(?:[ ]?[-/][ ]?(?:(?:19|20)\d\d|[A-Za-z{_D}][A-Za-z{_D}]*\d*)){{0,5}})(?![\w/])")


_Q_NAME_STOP = {fold(w) for w in NAME_STOP_WORDS} | {"nam", "ngay", "so"}


def parse_reference_query(text: str) -> list[dict]:
    """Partial references in a user query, for prefix matching against keys.

    "Chỉ thị 16" / "CT 16" / "chi thi so 16" -> [{"type_code": "CT", "number": "16", "year": None,
    "issuer_code": None}]; "16/CT-TTg" -> issuer "TTg"; "Luật Tiếp công dân" -> {"kind": "LUAT",
    "name": "tiep cong dan"}.
    """
    if not text:
        return []
    q = nfc(text)
    fq = fold(q)
    out: list[dict] = []
    seen = set()

    def add(d: dict) -> None:
        k = tuple(sorted(d.items()))
        if k not in seen:
            seen.add(k)
            out.append(d)

    used: list[tuple[int, int]] = []
    for m in _Q_NUM.finditer(q):
        ns, ne = m.span()
        raw = m.group(1)
        dn = parse_number(raw) if re.search(r"[A-Za-z" + _D + "]", raw) else None
        before = fq[max(0, ns - 40):ns]
        wm = re.search(r"(?:^|[^a-z])(" + "|".join(re.escape(w) for w, _ in _Q_WORDS) + r"|"
                       + "|".join(re.escape(c) for c in sorted(_Q_CODES, key=len, reverse=True))
                       + r")\s*(?:so\s*(?:hieu\s*)?:?\s*)?$", before)
        word = None
        if wm:
            w = wm.group(1)
            word = dict(_Q_WORDS).get(w) or _Q_CODES.get(w)
        if dn is not None:
            type_code = dn.type_code if not (dn.type_code == "CV" and dn.unit is not None and word) else word
            if word and dn.type_code and word != dn.type_code and dn.type_code != "CV":
                type_code = dn.type_code
            add({"type_code": type_code or word, "number": dn.number, "year": dn.year,
                 "issuer_code": dn.issuer_code})
        elif word:
            nm = re.match(r"(\d+)(?:/((?:19|20)\d\d))?", raw)
            number = nm.group(0) if nm else raw
            add({"type_code": word, "number": number, "year": int(nm.group(2)) if nm and nm.group(2) else None,
                 "issuer_code": None})
        else:
            continue
        used.append((ns, ne))
    # named laws: "Luật Tiếp công dân", "luat dat dai"
    lm = re.search(r"\b(bo luat|luat|hien phap|phap lenh)\s+([a-z][a-z ,]*[a-z])", fq)
    if lm and not any(s <= lm.start() < e for s, e in used) and not re.match(r"\s*so\b", fq[lm.end():]):
        kind = {"bo luat": "BLUAT", "luat": "LUAT", "hien phap": "HP", "phap lenh": "PL"}[lm.group(1)]
        words = []
        for w in name_key(lm.group(2)).split():
            if w in _Q_NAME_STOP:
                break
            words.append(w)
        name = " ".join(words)
        if kind == "HP":
            ym = re.search(r"((?:19|20)\d\d)", fq[lm.start():])
            name = ym.group(1) if ym else ""
        if name or kind == "HP":
            add({"kind": kind, "name": name})
    return out


def key_matches(partial: dict, key: str) -> bool:
    """Does a reference key ("CT|16|TTg", "LUAT|tiep cong dan") match a partial query reference?"""
    parts = key.split("|")
    if "kind" in partial:
        if parts[0] != partial["kind"] or len(parts) < 2:
            return False
        # word prefix either way: "to chuc" finds "to chuc chinh phu"; "tiep cong dan o dak nong"
        # (a query going on after the name) finds "tiep cong dan"
        pn, kn = partial.get("name") or "", parts[1]
        return not pn or (pn + " ").startswith(kn + " ") or (kn + " ").startswith(pn + " ")
    if len(parts) < 3:
        return False
    t, num, iss = parts[0], parts[1], parts[2]
    tc = partial.get("type_code")
    if tc and fold(tc).upper() != fold(t).upper():
        return False
    pn = partial.get("number")
    if pn:
        p_serial, _, p_year = str(pn).partition("/")
        k_serial, _, k_year = num.partition("/")
        if (p_serial.lstrip("0") or "0") != k_serial:
            return False
        if p_year and k_year and p_year != k_year:
            return False
    py = partial.get("year")
    if py and "/" in num and str(py) != num.partition("/")[2]:
        return False
    pi = partial.get("issuer_code")
    if pi and fold(pi).upper() != fold(iss).upper():
        return False
    return True

