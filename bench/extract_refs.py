"""Reference extraction measured on real data: ``python -m bench.extract_refs``.

(a) parse rate of ``parse_number`` over the Bình Dương số ký hiệu column;
(b) recall of ``extract_references`` against the congbot ``related_documents`` gold.
Gold ids are messy ("08_2009_TT_BLĐTBXH", "NULL_2001_LUAT_QH", "Luật_Tổ_chức_Chính_phủ_2015"): a gold
with a number matches an extracted reference with the same number (and type and year when both sides
have them); a named law matches by its folded name, taken from the id or, failing that, from the
gold description. Misses go to bench/out/refs_misses.txt.
"""
from __future__ import annotations

import csv
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ingest.citations import extract_references
from vn.numbers import TYPE_WORDS, parse_number
from ingest.model import Reference
from ingest.normalize import clean
from vn.text import fold, nfc

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BINHDUONG = SHARED / "corpora" / "binhduong" / "data_vanbanphapluatBinhDuong.csv"
CONGBOT = SHARED / "corpora" / "congbot"
OUT = ROOT / "bench" / "out"

_TYPES = {fold(c).upper(): c for c in TYPE_WORDS}
_LAW_WORDS = {"luat", "phap lenh", "bo luat", "hien phap"}
_DROP = {"luat", "phap", "lenh", "bo", "hien", "null", "qh", "none", "ubtvqh"}


@dataclass
class Gold:
    doc_id: str
    description: str
    number: str | None      # serial without zeros: "8"
    year: int | None
    type_code: str | None   # folded upper: "TT", "QD"
    names: list[list[str]]  # candidate folded name token lists

    @property
    def numbered(self) -> bool:
        return self.number is not None and not self.is_law

    @property
    def is_law(self) -> bool:
        f = " " + fold(self.doc_id.replace("_", " ")) + " "
        return any(f" {w} " in f for w in _LAW_WORDS)


def parse_gold(doc_id: str, description: str) -> Gold:
    raw = nfc(doc_id or "None")
    toks = [t for t in re.split(r"[_\s]+", raw) if t]
    law = any(f" {w} " in " " + fold(raw.replace("_", " ")) + " " for w in _LAW_WORDS)
    number = None
    if toks and toks[0].isdigit() and not (law and re.fullmatch(r"(19|20)\d\d", toks[0])):
        number = toks[0].lstrip("0") or "0"  # "2001_Luật_Tổ_chức_Chính_phủ_QH": a year, not a number
    years = [int(t) for t in toks[1:] if re.fullmatch(r"(19|20)\d\d", t)]
    type_code = next((fold(t).upper() for t in toks[1:] if fold(t).upper() in _TYPES), None)
    g = Gold(doc_id, description or "", number, years[0] if years else None, type_code, [])
    if law or number is None:
        words = [fold(t) for t in toks if not re.fullmatch(r"\d+|(?:QH|UBTVQH)\d*", t)]
        words = [w for w in " ".join(words).replace(",", " ").split() if w not in _DROP]
        if words:
            g.names.append(words)
    # a description that opens with the law's name ("Luật Tổ chức Chính phủ ngày 25 tháng 12 năm 2001")
    for r in extract_references(clean(nfc(description or "")), {}):
        if r.name and r.start < 40:
            g.names.append(_name_tokens(r.name))
            break
    return g


def _name_tokens(name: str) -> list[str]:
    return [w for w in re.sub(r"[^\w]+", " ", fold(name)).split() if w not in _DROP]


def _name_match(gold: list[str], ref: list[str]) -> bool:
    if not gold or not ref:
        return False
    g, r = set(gold), set(ref)
    small, big = (g, r) if len(g) <= len(r) else (r, g)
    return small <= big and len(big) - len(small) <= 3 and len(small) >= 1


def matches(g: Gold, refs: list[Reference]) -> bool:
    if g.number is not None:
        for r in refs:
            if r.number is None:
                continue
            if (r.number.split("/")[0].lstrip("0") or "0") != g.number:
                continue
            rt = fold(r.type_code or "").upper()
            if g.type_code and rt and rt != g.type_code and rt != "?":
                continue
            if g.year and r.year and g.year != r.year:
                continue
            return True
    for cand in g.names:
        if any(r.name and _name_match(cand, _name_tokens(r.name)) for r in refs):
            return True
    return False


def binhduong_rate() -> tuple[int, int, list[str]]:
    csv.field_size_limit(10 ** 9)
    with BINHDUONG.open(encoding="utf-8") as fh:
        values = [row["so_ky_hieu"] for row in csv.DictReader(fh)]
    bad = [v for v in values if parse_number(v) is None]
    return len(values), len(bad), bad


def congbot_recall() -> dict:
    stats = {"numbered": [0, 0], "named": [0, 0], "findable": [0, 0]}
    misses: list[str] = []
    n_refs = n_docs = no_text_docs = no_text_gold = 0
    t0 = time.perf_counter()
    for meta_path in sorted((CONGBOT / "metadata").glob("*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        doc = CONGBOT / "documents" / f"{meta['doc_id']}.md"
        if not doc.exists():
            continue
        text = nfc(doc.read_text(encoding="utf-8"))
        if len(text.strip()) < 200:  # some congbot documents were stored empty: nothing to find
            no_text_docs += 1
            no_text_gold += len({str(r.get("doc_id")) for r in meta.get("related_documents") or []})
            continue
        refs = extract_references(clean(text), {"province": None, "district": None, "number": None})
        n_refs += len(refs)
        n_docs += 1
        seen: set[str] = set()
        for rel in meta.get("related_documents") or []:
            gid = str(rel.get("doc_id"))
            if gid in seen:
                continue
            seen.add(gid)
            g = parse_gold(gid, rel.get("description", ""))
            kind = "numbered" if g.numbered else "named"
            ok = matches(g, refs)
            stats[kind][0] += ok
            stats[kind][1] += 1
            if g.numbered and re.search(rf"(?<![\d/.])0*{g.number}(?:/(?:19|20)\d\d)?\s*[/-]\s*[^\W\d]", text):
                # the number is written in the text at all: the ceiling for numbered gold
                stats["findable"][0] += ok
                stats["findable"][1] += 1
            if not ok:
                misses.append(f"{meta['doc_id']}\t{kind}\t{gid}\t{rel.get('description', '')[:160]}")
    stats["docs"], stats["refs"], stats["seconds"] = n_docs, n_refs, time.perf_counter() - t0
    stats["no_text"] = (no_text_docs, no_text_gold)
    stats["misses"] = misses
    return stats


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} = {100 * a / b:.1f}%" if b else "0/0"


def main() -> int:
    if BINHDUONG.exists():
        total, nbad, bad = binhduong_rate()
        print(f"(a) parse_number, Bình Dương so_ky_hieu: {_pct(total - nbad, total)} parsed; not parsed: {bad}")
    else:
        print(f"(a) missing {BINHDUONG}")
    if not CONGBOT.exists():
        print(f"(b) missing {CONGBOT}")
        return 1
    s = congbot_recall()
    (nk, nn), (mk, mn) = s["numbered"], s["named"]
    print(f"(b) congbot reference recall over {s['docs']} documents ({s['refs']} references extracted, "
          f"{s['seconds']:.2f}s)")
    print(f"    skipped {s['no_text'][0]} documents stored without text ({s['no_text'][1]} gold references)")
    print(f"    with a number: {_pct(nk, nn)}")
    print(f"      of which the number is written in the text: {_pct(*s['findable'])}")
    print(f"    named laws:    {_pct(mk, mn)}")
    print(f"    overall:       {_pct(nk + mk, nn + mn)}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "refs_misses.txt").write_text("\n".join(s["misses"]) + "\n", encoding="utf-8")
    print(f"    misses: {len(s['misses'])} -> {OUT / 'refs_misses.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
