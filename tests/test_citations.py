"""Tests for ingest.citations on the real seed documents and the Bình Dương số ký hiệu column."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.citations import extract_references
from ingest.normalize import clean
from vn.numbers import key_matches, number_key, parse_number, parse_reference_query
from vn.text import nfc

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
BINHDUONG = ROOT.parent / "shared" / "corpora" / "binhduong" / "data_vanbanphapluatBinhDuong.csv"
PROVINCES = {"daklak": "Đắk Lắk", "daknong": "Đắk Nông", "quangtri": "Quảng Trị", "huyen-uy": None}


OWN = {"1321": "1321/UBND-KGVX", "5500": "5500/UBND-KGVX", "2071": "2071/UBND-NC", "307": "307-CV/HU",
       "1225": "1225/UBND-NC"}


def _seed(number: str):
    path = next(p for p in CORPUS.glob("*.txt") if p.name.split("_")[1].split("-")[0] == number)
    text = nfc(path.read_text(encoding="utf-8"))
    context = {"province": PROVINCES[path.name.split("_")[0]], "district": None, "number": OWN[number]}
    return text, extract_references(clean(text), context)


@pytest.fixture(scope="module")
def seeds():
    return {n: _seed(n) for n in OWN}


# --- parse_number ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, number, year, type_code, issuer, unit", [
    ("1321/UBND-KGVX", "1321", None, "CV", "UBND", "KGVX"),
    ("04/2015/NĐ-CP", "04/2015", 2015, "NĐ", "CP", None),
    ("34/2007/PL-UBTVQH11", "34/2007", 2007, "PL", "UBTVQH11", None),
    ("1707/QĐ-UBND", "1707", None, "QĐ", "UBND", None),
    ("3676/KH-UBND", "3676", None, "KH", "UBND", None),
    ("25-NQ/TW", "25", None, "NQ", "TW", None),
    ("114-KL/TW", "114", None, "KL", "TW", None),
    ("307-CV/HU", "307", None, "CV", "HU", None),
    ("28-KH/BDVTU", "28", None, "KH", "BDVTU", None),
    ("11-CTr/TU", "11", None, "CTr", "TU", None),
    ("2806 /UBND-KTN", "2806", None, "CV", "UBND", "KTN"),
    ("2042/QÐ-UBND", "2042", None, "QĐ", "UBND", None),   # look-alike Ð (U+00D0)
    ("1707/qđ-ubnd", "1707", None, "QĐ", "UBND", None),
    ("**1225**/UBND-NC", "1225", None, "CV", "UBND", "NC"),
    ("19/Ctr-UBND", "19", None, "CTr", "UBND", None),
    ("25/2010/TTLT-BLĐTBXH-BTC-BYT", "25/2010", 2010, "TTLT", "BLĐTBXH-BTC-BYT", None),
])
def test_parse_number_reads_the_parts_of_hand_picked_numbers(raw, number, year, type_code, issuer, unit):
    dn = parse_number(raw)
    assert dn is not None
    assert (dn.number, dn.year, dn.type_code, dn.issuer_code, dn.unit) == (number, year, type_code, issuer, unit)


def test_parse_number_undoes_swapped_letters_when_the_issuer_is_known():
    dn = parse_number("16/TC-TTg")
    assert (dn.type_code, dn.issuer_code) == ("CT", "TTg") and dn.notes
    assert parse_number("4773/TC-CSTC").issuer_code == "TC"  # TC of Bộ Tài chính, not a swap


def test_parse_number_rejects_what_is_not_a_number():
    for s in ["", "   ", "Công văn", "16/5/2016", "abc/def"]:
        assert parse_number(s) is None


def test_number_keys_are_global_for_central_issuers_and_local_otherwise():
    assert number_key(parse_number("16-CT/TTg")) == "CT|16|TTg"
    assert number_key(parse_number("04/2015/NĐ-CP")) == "NĐ|4/2015|CP"
    assert number_key(parse_number("14/CT-TU"), "Đắk Nông") == "CT|14|TU|Đắk Nông"
    assert number_key(parse_number("03-KH/HU"), "Đắk Nông", "Krông Nô") == "KH|3|HU|Đắk Nông/Krông Nô"


def test_parse_number_parses_every_binh_duong_number():
    if not BINHDUONG.exists():
        pytest.skip(f"missing {BINHDUONG}")
    csv.field_size_limit(10 ** 9)
    with BINHDUONG.open(encoding="utf-8") as fh:
        values = [row["so_ky_hieu"] for row in csv.DictReader(fh)]
    assert len(values) == 4056
    written = [v for v in values if v.strip()]  # three rows have no number at all
    failed = [v for v in written if parse_number(v) is None]
    assert failed == []
    for v in written:
        dn = parse_number(v)
        assert dn.number and dn.number[0].isdigit()
        assert dn.type_code and dn.issuer_code, v


# --- extract_references on the seeds ---------------------------------------------------------

def test_every_quote_is_the_original_text_at_its_offsets(seeds):
    for text, refs in seeds.values():
        assert refs
        for r in refs:
            assert text[r.start:r.end] == r.quote
            assert r.quote in r.sentence and r.sentence in text


def test_swapped_chi_thi_16_resolves_to_the_same_key_as_its_correct_citation(seeds):
    text, refs = seeds["1321"]
    swapped = [r for r in refs if r.quote == "Chỉ thị số 16/TC-TTg"]
    assert len(swapped) == 1 and "Chỉ thị số 16/TC-TTg" in text
    correct = [r for r in seeds["5500"][1] if r.quote == "Chỉ thị số 16-CT/TTg"]
    assert len(correct) == 1
    assert swapped[0].key == correct[0].key == "CT|16|TTg"
    assert swapped[0].canonical == correct[0].canonical == "Chỉ thị 16/CT-TTg"
    assert swapped[0].notes and swapped[0].scope == "global"
    assert swapped[0].issuer_body == "Thủ tướng Chính phủ" and swapped[0].date == "2016-05-16"


def test_a_decree_word_with_a_resolution_code_resolves_to_the_resolution(seeds):
    r = next(r for r in seeds["1321"][1] if r.quote == "Nghị định số 25-NQ/TW")
    assert (r.type_code, r.doc_type, r.key) == ("NQ", "Nghị quyết", "NQ|25|TW")
    assert r.notes
    # 2071 cites the same resolution with another date: the key does not change
    other = next(r for r in seeds["2071"][1] if r.quote == "Nghị quyết số 25-NQ/TW")
    assert other.key == r.key and other.date != r.date


def test_the_three_seeds_citing_ket_luan_114_share_one_key(seeds):
    keys = {r.key for n in ("1321", "2071", "307") for r in seeds[n][1] if "114-KL/TW" in r.quote}
    assert keys == {"KL|114|TW"}
    r = next(r for r in seeds["307"][1] if "114-KL/TW" in r.quote)
    assert r.issuer_body == "Ban Bí thư Trung ương" and r.year == 2015


def test_luat_tiep_cong_dan_is_a_named_reference(seeds):
    r = next(r for r in seeds["1225"][1] if r.number is None)
    assert (r.quote, r.name, r.key, r.doc_type) == (
        "Luật Tiếp công dân", "Luật Tiếp công dân", "LUAT|tiep cong dan", "Luật")


def test_2071_cites_chi_thi_33_of_the_prime_minister(seeds):
    assert any(r.key == "CT|33|TTg" and r.canonical == "Chỉ thị 33/CT-TTg" for r in seeds["2071"][1])


def test_a_provincial_party_directive_gets_a_key_local_to_the_citing_province(seeds):
    r = next(r for r in seeds["2071"][1] if r.quote == "Chỉ thị số 14/CT-TU")
    assert r.scope == "local" and r.key == "CT|14|TU|Đắk Nông" and r.issuer_body == "Tỉnh ủy Đắk Nông"


def test_numbers_with_a_year_keep_it_and_a_decree_is_displayed_canonically(seeds):
    refs = seeds["1225"][1]
    nd = next(r for r in refs if "04/2015" in r.quote)
    assert (nd.number, nd.year, nd.issuer_code, nd.canonical) == ("04/2015", 2015, "CP", "Nghị định 04/2015/NĐ-CP")
    pl = next(r for r in refs if "34/2007" in r.quote)
    assert pl.issuer_body == "Ủy ban Thường vụ Quốc hội" and pl.scope == "global"


def test_a_document_never_cites_its_own_number():
    text = "Số: 2071/UBND-NC\nThực hiện Công văn số 2071/UBND-NC và Chỉ thị số 14/CT-TU của Tỉnh ủy."
    refs = extract_references(clean(text), {"province": "Đắk Nông", "number": "2071/UBND-NC"})
    assert [r.quote for r in refs] == ["Chỉ thị số 14/CT-TU"]


def test_bare_numbers_lists_and_named_laws_are_found():
    text = ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19/6/2015; Hiến pháp năm 1992; các Nghị định "
            "số 54/2006/NĐ-CP, 89/2008/NĐ-CP; thực hiện theo 5724/UBND-TH của UBND tỉnh và văn bản số "
            "87/TB-VPCP; Pháp lệnh ưu đãi người có công với cách mạng.")
    refs = extract_references(clean(text), {"province": "Đắk Lắk"})
    keys = [r.key for r in refs]
    assert "LUAT|to chuc chinh quyen dia phuong" in keys
    assert "HP|1992" in keys
    assert {"NĐ|54/2006|CP", "NĐ|89/2008|CP"} <= set(keys)
    assert "CV|5724|UBND|Đắk Lắk" in keys and "TB|87|VPCP" in keys
    assert "PL|uu dai nguoi co cong voi cach mang" in keys
    law = next(r for r in refs if r.key.startswith("LUAT|"))
    assert law.quote == "Luật Tổ chức chính quyền địa phương" and law.date == "2015-06-19"


def test_an_amending_law_keeps_the_names_it_amends():
    text = ("Căn cứ Luật sửa đổi, bổ sung một số điều của Luật Tổ chức Chính phủ và Luật Tổ chức chính "
            "quyền địa phương ngày 22/11/2019;")
    refs = extract_references(clean(text), {})
    assert [r.quote for r in refs] == [
        "Luật sửa đổi, bổ sung một số điều của Luật Tổ chức Chính phủ và Luật Tổ chức chính quyền địa phương"]


# --- queries ---------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["Chỉ thị 16", "CT 16", "chi thi so 16/CT-TTg", "chỉ thị số 16", "16/CT-TTg"])
def test_short_query_forms_of_chi_thi_16_match_its_key(query):
    partials = parse_reference_query(query)
    assert partials and any(key_matches(p, "CT|16|TTg") for p in partials)
    assert not any(key_matches(p, "NQ|16|TW") or key_matches(p, "CT|14|TU|Đắk Nông") for p in partials)


def test_queries_match_numbers_with_years_and_named_laws_without_diacritics():
    assert key_matches(parse_reference_query("nghi dinh 04/2015")[0], "NĐ|4/2015|CP")
    assert key_matches(parse_reference_query("Nghị quyết 25")[0], "NQ|25|TW")
    assert key_matches(parse_reference_query("luat tiep cong dan")[0], "LUAT|tiep cong dan")
    assert not key_matches(parse_reference_query("Luật Đất đai")[0], "LUAT|tiep cong dan")
    assert parse_reference_query("dân vận khéo") == []


# --- robustness ------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_number_and_extract_references_never_raise_on_arbitrary_text(s):
    parse_number(s)
    ct = clean(nfc(s))
    for r in extract_references(ct, {"province": "Đắk Nông", "district": None, "number": s[:20]}):
        assert ct.original[r.start:r.end] == r.quote
    parse_reference_query(s)


_ALPHABET = st.sampled_from(list("0123456789/-. ,;\nsốSốCTNQĐÐQKLHUBNDTWTTgcủaLuậtngày ") +
                            ["Chỉ thị ", "Nghị quyết ", "Luật ", "số ", "16/CT-TTg", "ngày 16/5/2016", "của "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_extract_references_never_raises_on_reference_like_text(s):
    ct = clean(s)
    for r in extract_references(ct, {"province": None}):
        assert ct.original[r.start:r.end] == r.quote
