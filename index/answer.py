"""Answers people can trust: the answering sentence by meaning, boilerplate kept out, and when to abstain.

Pure functions over plain inputs (passage dicts, the question, vectors, candidate lists), so that
``qa.ask``, the benchmarks and the tests run the same code:

- ``answer_units(text)``       sentences and list items of a passage, letterhead, motto, "Kính gửi",
                               "Nơi nhận" and signature block left out (they stay searchable)
- ``choose_sentence(...)``     the unit that answers: cosine of the question with each candidate
                               (embedded in one small batch) plus shared terms; a deadline question
                               prefers the unit holding the date
- ``evidence(...)``            abstention features that do not depend on min-max normalisation
- ``Abstention``               logistic model over those features, coefficients in ``abstention.json``
                               (fitted by ``python -m bench.answers calibrate``)
- ``filter_message(...)``      "Không có kế hoạch nào của Quảng Trị năm 2020" when the question's own
                               filters match nothing
"""
from __future__ import annotations

import json
import math
from typing import Callable
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
import numpy as np

from ingest.normalize import clean
from vn.text import ARTICLE, fold, has_diacritics

from .errors import InvalidInput

__all__ = ["QuestionError", "check_question", "answer_units", "is_boilerplate_line", "plain",
           "is_deadline_question", "choose_sentence", "Choice", "query_terms", "lookup_terms", "evidence", "FEATURES",
           "Abstention", "load_abstention", "filter_message", "type_named", "NOT_FOUND", "term_idf"]

NOT_FOUND = "Không tìm thấy câu trả lời trong các văn bản đã nạp."
MODEL_FILE = Path(__file__).with_name("abstention.json")


class QuestionError(InvalidInput):
    """A question the library cannot take (empty or only whitespace): a usage error (exit 2, HTTP 422)."""


def check_question(question) -> str:
    """The question with its whitespace collapsed; raises QuestionError when nothing is left."""
    if not isinstance(question, str):
        raise QuestionError(f"Câu hỏi phải là chuỗi ký tự, nhận được {type(question).__name__}.", field="question")
    text = " ".join(question.split())
    if not text:
        raise QuestionError("Câu hỏi trống: hãy nhập nội dung cần tìm (câu hỏi, số hiệu hoặc tên văn bản).",
                            field="question")
    return text


# -- boilerplate -------------------------------------------------------------------------------------
_UPPER_RATIO = 0.9
_MOTTO = ("cong hoa xa hoi chu nghia viet nam", "doc lap - tu do - hanh phuc", "doc lap – tu do – hanh phuc",
          "doc lap-tu do-hanh phuc")
_HEAD_LINE = re.compile(r"^(?:số|so)\s*[:.]|^v/v\b|^kính gửi|^kinh gui", re.I)
_PLACE_DATE = re.compile(r"^[^,;:\n]{2,60},\s*ngày\s*\.*\s*\d{0,2}\s*\.*\s*tháng\s*\.*\s*\d{0,2}\s*\.*\s*năm\s*\d{0,4}\.?$",
                         re.I)
_SIGN_PREFIX = re.compile(r"^(?:TM|KT|TL|TUQ|Q)\s*\.", re.I)
_SIGNED = re.compile(r"^\(?\s*(?:đã ký|ký tên|ký,? ghi rõ họ tên|ký và đóng dấu|đã ký và đóng dấu)", re.I)
_NAME = re.compile(r"^(?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴ][^\s\d.,;:()]*\s+){1,4}"
                   r"[A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴ][^\s\d.,;:()]*$")
_BULLET = re.compile(r"^\s*[-–+•*]\s+")
_FORM_BLANK = re.compile(r"\.{5,}|…{2,}|_{5,}")  # a form to fill in: "Nơi đăng ký: ........"


def _letters(s: str) -> list[str]:
    return [c for c in s if c.isalpha()]


def is_boilerplate_line(line: str) -> bool:
    """Letterhead, national motto, "Số:", "V/v", place and date, "Kính gửi", signature lines."""
    s = line.strip().strip("*_#").strip()
    if not s:
        return False
    f = fold(s)
    if any(m in f for m in _MOTTO) or f.startswith("doc lap") and "hanh phuc" in f:
        return True
    if _HEAD_LINE.match(s) or _PLACE_DATE.match(s) or _SIGN_PREFIX.match(s) or _SIGNED.match(s):
        return True
    if f.startswith("noi nhan") or _FORM_BLANK.search(s):
        return True
    letters = _letters(s)
    if len(letters) >= 3 and sum(c.isupper() for c in letters) >= _UPPER_RATIO * len(letters):
        return True  # ỦY BAN NHÂN DÂN / TỈNH QUẢNG TRỊ / PHÓ CHỦ TỊCH
    return bool(_NAME.match(s)) and len(s) <= 40  # a signer's name alone on its line


def _content_lines(text: str) -> list[tuple[int, int]]:
    """Spans of the lines of ``text`` (a clean view) that are not boilerplate.

    After "Kính gửi" the recipient bullets are boilerplate until the first line that is not a bullet;
    everything after "Nơi nhận" is (recipients, signature block).
    """
    out, pos, state = [], 0, "body"
    for line in text.split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        stripped = line.strip().strip("*_").strip()
        if not stripped:
            continue
        f = fold(stripped)
        if f.startswith("noi nhan"):
            state = "footer"
        if state == "footer":
            continue
        if f.startswith("kinh gui"):
            state = "recipients"
            continue
        if state == "recipients":
            if _BULLET.match(line):
                continue
            state = "body"
        if is_boilerplate_line(stripped):
            continue
        out.append((s, e))
    return out


def _regions(lines: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Consecutive content lines joined into regions (a blank line or boilerplate between them splits)."""
    regions: list[list[int]] = []
    for s, e in lines:
        if regions and text[regions[-1][1]:s].strip() == "" and text[regions[-1][1]:s].count("\n") <= 1:
            regions[-1][1] = e
        else:
            regions.append([s, e])
    return [(s, e) for s, e in regions]


_ITEM_START = re.compile(r"\n\s*(?:[-–+•]\s+|[a-zđ]\)\s+|\d{1,2}(?:\.\d{1,2})?[.)]\s+)")
LONG_UNIT = 400
MIN_WORDS = 3  # "Điều 1." or "a)" alone is a heading, not an answer
# A heading on its own line: a markdown heading (the trích yếu of a converted document) or "Điều N. <title>"
# without a sentence's ending. It names what follows, it does not answer, and every passage under it already
# carries it as context; kept only where a passage holds nothing else.
_HEADING_START = re.compile(r"^[\s*_]*(?:#{1,6}\s+[\s*_]*(?:(?:[IVXLC]+|\d+(?:\.\d+)*|[a-zđ])[.)]\s+)?)?"
                            rf"(?:{ARTICLE.pattern}\s*[.:])?\s*")


def is_heading_line(line: str) -> bool:
    m = _HEADING_START.match(line)
    rest = line[m.end():].strip().strip("*_").strip()
    return bool(m.group(0).strip(" \t*_")) and bool(rest) and rest[-1] not in ".;:!?" \
        and not re.search(r"[.;:!?]\s", rest)


def answer_units(text: str) -> list[tuple[int, int]]:
    """Spans (in ``text``, the passage as stored) of its sentences and list items, boilerplate left out.

    A sentence longer than LONG_UNIT characters that lists things with ";" is split into its items.
    Cached by text: the passages of popular questions are split once.
    """
    return list(_answer_units(text))


@lru_cache(maxsize=8192)
def _answer_units(text: str) -> tuple[tuple[int, int], ...]:
    from vn.words import split_sentences
    ct = clean(text)
    c = ct.clean
    spans: list[tuple[int, int]] = []
    for rs, re_ in _regions(_content_lines(c), c):
        region = c[rs:re_]
        # list items on their own lines are units of their own
        cuts = [0] + [m.start() + 1 for m in _ITEM_START.finditer(region)] + [len(region)]
        for a, b in zip(cuts, cuts[1:]):
            part = region[a:b]
            for ss, se in split_sentences(part) or [(0, len(part))]:
                for x, y in _split_long(part, ss, se):
                    x, y = _trim(part, x, y)
                    if len(part[x:y].split()) >= MIN_WORDS and _letters(part[x:y]):
                        spans.append((rs + a + x, rs + a + y))
    out = [ct.to_original(s, e) for s, e in spans]
    heads = _heading_lines(text)
    heading = [any(a <= s and e <= b for a, b in heads) for s, e in out]
    if not all(heading):
        out = [sp for sp, h in zip(out, heading) if not h]
    return tuple(out)


def _heading_lines(text: str) -> list[tuple[int, int]]:
    """Spans of the lines of ``text`` that are headings (is_heading_line)."""
    out, pos = [], 0
    for line in text.split("\n"):
        if is_heading_line(line):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _split_long(text: str, s: int, e: int) -> list[tuple[int, int]]:
    if e - s <= LONG_UNIT or text.count(";", s, e) < 2:
        return [(s, e)]
    out, start = [], s
    for m in re.finditer(r";\s*", text[s:e]):
        end = s + m.end()
        if end - start >= 40:
            out.append((start, end))
            start = end
    if e - start < 40 and out:
        out[-1] = (out[-1][0], e)
    elif start < e:
        out.append((start, e))
    return out


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


_MARKS = re.compile(r"\*+|(?<!\w)_{1,3}|_{1,3}(?!\w)|`+|^#{1,6}\s*", re.M)


def plain(text: str) -> str:
    """Answer text without markdown marks or broken lines: "trước ngày **30/10/2017**." -> "trước ngày 30/10/2017."."""
    t = _MARKS.sub("", clean(text).clean)
    return " ".join(t.split())


# -- questions -----------------------------------------------------------------------------------------
# "hạn" alone is not enough: "quyền hạn" (authority), "giới hạn" (limit), "gia hạn" (extension), "hạn chế"
_DEADLINE_Q = re.compile(r"\b(thời hạn|hạn chót|hạn cuối|hạn nộp|hạn gửi|hạn báo cáo|hạn hoàn thành|khi nào|"
                         r"bao giờ|lúc nào|ngày nào|trước ngày|chậm nhất|thời điểm nào)\b", re.I)
_DEADLINE_Q_FOLDED = re.compile(r"\b(thoi han|han chot|han cuoi|han nop|khi nao|bao gio|luc nao|ngay nao|truoc ngay|"
                                r"cham nhat)\b")
_DATE = re.compile(r"\b\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{2,4}\b|\bngày\s+\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?", re.I)
_DEADLINE_CUE = re.compile(r"(trước|chậm nhất|hạn|trước hoặc vào|không quá|đến hết|kể từ)\s+(?:ngày\s+)?"
                           r"(?:\*+)?\d{1,2}\s*(?:/|tháng)", re.I)
_CITED_DATE = re.compile(r"(?:số|số hiệu)\s+[\w./-]+,?\s+ngày\s+\d", re.I)


_DEADLINE_Q_ANY_CASE = re.compile(_DEADLINE_Q_FOLDED.pattern, re.I)
_WORDISH = re.compile(r"[^\W\d_]{2,}")


def is_deadline_question(question: str) -> bool:
    return bool(_DEADLINE_Q.search(question) or _DEADLINE_Q_FOLDED.search(fold(question)))


def deadline_cue(unit: str) -> float:
    """1.0 for a deadline ("trước ngày 30/10/2017"), 0.3 for another date that is not a cited document's."""
    if _DEADLINE_CUE.search(unit):
        return 1.0
    dates = len(_DATE.findall(unit))
    cited = len(_CITED_DATE.findall(unit))
    return 0.3 if dates > cited else 0.0


# Function words and question words: they say how a question is asked, not what it is about.
_QSTOP = set(("va cua cac la co duoc cho voi trong ve theo tai de nhung mot nay da tu thi ra bi do gi nao ai sao "
              "the nhu khong phai hay dung sai bao nhieu khi nhieu it neu thuoc vao o tren duoi den toi cung "
              "se dang van con chi moi moi cai nguoi viec nhu_the_nao the_nao bao_nhieu khi_nao hay_khong "
              "truong_hop quy_dinh").split())


def query_terms(question: str) -> list[str]:
    """Informative analysis terms of a question: its words (or folded syllables when typed without
    diacritics), function and question words left out. A deadline phrase ("thời hạn", "khi nào",
    "trước ngày") asks for a date, as "ai" asks for a person: the passage answers it with the date,
    not with the phrase, so it is left out too (unless nothing else is left)."""
    from .lexical import analyze_query
    diacritics = has_diacritics(question)
    rest = (_DEADLINE_Q if diacritics else _DEADLINE_Q_ANY_CASE).sub(" ", question)
    terms = analyze_query(rest if rest.strip() and _WORDISH.search(rest) else question)
    if diacritics:
        words = [t for t in terms if not t.startswith("~")]
        out = [w for w in words if fold(w) not in _QSTOP and not all(s in _QSTOP for s in fold(w).split("_"))]
    else:
        out = [t for t in terms if t.startswith("~") and t[1:] not in _QSTOP]
    return list(dict.fromkeys(t for t in out if not t.lstrip("~").isdigit()))


_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")


# A day or month in either spelling ("tháng 5", "tháng 05", "01/5/2009"): a term "thang 5" / "ngay 1", so a
# question's single-digit month meets the date it asks about (bare single digits are too common to count).
_DAY_MONTH = re.compile(r"\b(ngay|thang)\s+0*(\d{1,2})\b")
_DMY = re.compile(r"(?<![\d/])0*(\d{1,2})\s*/\s*0*(\d{1,2})(?:\s*/\s*\d{2,4})?(?![\d/])")


def _day_month_terms(folded: str) -> set[str]:
    out = {f"{k} {n}" for k, n in _DAY_MONTH.findall(folded)}
    for d, m in _DMY.findall(folded):
        out |= {f"ngay {d}", f"thang {m}"}
    return out


def _unit_terms(text: str) -> set[str]:
    f = fold(text)
    return set(re.findall(r"\w+", f)) | set(_NUMBER.findall(f)) | _day_month_terms(f)


def question_weights(question: str, idf: Callable[[list[str]], dict[str, float]] | None = None) -> dict[str, float]:
    """Informative syllables of the question (folded) and its numbers, each with a weight: the syllable's
    IDF in the index when ``idf`` is given (it maps "~syllable" terms to IDF), else 1; a number weighs
    as much as the rarest syllable."""
    f = fold(question)
    sylls = sorted({x for x in re.findall(r"\w+", f) if x not in _QSTOP and not x.isdigit()})
    w = {x: 1.0 for x in sylls}
    if idf is not None and sylls:
        got = idf(["~" + x for x in sylls])
        w = {x: got.get("~" + x, 1.0) for x in sylls}
    top = max(w.values(), default=1.0)
    for n in _NUMBER.findall(f):
        if len(n) >= 2 or "/" in n:
            w[n] = top
    for t in _day_month_terms(f):
        w[t] = top
    return w


def _overlap(weights: dict[str, float], unit: str) -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    have = _unit_terms(unit)
    return sum(v for t, v in weights.items() if t in have) / total


# -- choosing the answering sentence ------------------------------------------------------------------------
# score = cosine(question, unit) + W_OVERLAP * shared query syllables + W_DEADLINE * deadline cue
#         - W_RANK * passage rank. Cosines of multilingual-e5 spread over ~0.75-0.90, so 0.05 is a large step.
W_OVERLAP = 0.06
W_DEADLINE = 0.05
W_RANK = 0.04
EMBED_UNITS = 2          # units embedded per question (the rest are ranked by shared terms only)
# python -m bench.answers tune-sentence (alqac2022, 429 questions whose top 5 hold the short answer, units
# ranked as since issue 11): 2 units, W_OVERLAP 0.06: W_RANK 0.005 0.783, 0.02 0.804, 0.04 0.809, 0.1 0.809;
# best with 0 / 1 / 3 units 0.781 / 0.781 / 0.811. (Before units: 2 units with W_RANK 0.005, 0.704.)
# Each unit embedded costs about as much as the query's own embedding.
EMBED_CHARS = 240        # a unit is embedded from its first EMBED_CHARS characters (cost grows with length)


@dataclass
class Choice:
    passage: int                 # index into the passages given
    start: int                   # span in that passage's text
    end: int
    score: float
    similarity: float | None     # cosine of the question with the unit (None: not embedded)
    per_passage: list[tuple[int, int] | None] = field(default_factory=list)  # best span of each passage


class _VectorCache:
    """LRU of unit vectors by (embedder, text): popular passages are embedded once."""

    def __init__(self, size: int = 4096):
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            v = self.data.get(key)
            if v is not None:
                self.data.move_to_end(key)
            return v

    def put(self, key, value) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_UNIT_VECTORS = _VectorCache()


def _embed_units(embedder, texts: list[str]) -> np.ndarray:
    name = getattr(embedder, "name", "?")
    keys = [(name, t[:EMBED_CHARS]) for t in texts]
    got = [_UNIT_VECTORS.get(k) for k in keys]
    todo = [i for i, v in enumerate(got) if v is None]
    if todo:
        vecs = embedder.embed_passages([keys[i][1] for i in todo])
        for i, v in zip(todo, vecs):
            got[i] = v
            _UNIT_VECTORS.put(keys[i], v)
    return np.vstack(got) if got else np.zeros((0, 1), np.float32)


def choose_sentence(question: str, passages: list[dict], query_vector: np.ndarray | None = None,
                    embedder=None, passage_similarity: dict[int, float] | None = None, top: int = 5,
                    embed_units: int | None = None, weights: dict[str, float] | None = None) -> Choice | None:
    """The unit of the first ``top`` passages that answers ``question``; every passage also gets its best span.

    ``passages``: dicts with "text" (as stored, ranked best first). ``query_vector`` and ``embedder``:
    the question's vector and the embedder for the candidate units (without them, shared terms only).
    ``passage_similarity``: index -> cosine of the question with the whole passage (the dense score), used
    for a unit that is the whole passage instead of embedding it again. ``weights``: question_weights()
    (shared terms weighted by IDF); by default every informative syllable weighs 1.
    """
    qsyll = weights if weights is not None else question_weights(question)
    embed_units = EMBED_UNITS if embed_units is None else embed_units
    deadline = is_deadline_question(question)
    cands = []  # (passage index, start, end, lexical score)
    per_passage: list[tuple[int, int] | None] = []
    n_units = []
    for i, p in enumerate(passages):
        units = answer_units(p["text"])
        n_units.append(len(units))
        best = None
        for s, e in units:
            u = p["text"][s:e]
            lex = W_OVERLAP * _overlap(qsyll, u) + (W_DEADLINE * deadline_cue(u) if deadline else 0.0)
            if best is None or lex > best[1] + 1e-9:
                best = ((s, e), lex)
            if i < top:
                cands.append((i, s, e, lex - W_RANK * i))
        per_passage.append(best[0] if best else None)
    if not cands:
        return None
    sims: dict[int, float] = {}
    if query_vector is not None:
        q = np.asarray(query_vector, dtype=np.float32)
        whole = passage_similarity or {}
        for j, (i, s, e, _) in enumerate(cands):
            if i in whole and n_units[i] == 1:
                sims[j] = float(whole[i])
        if embedder is not None and embed_units > 0:
            order = sorted((j for j in range(len(cands)) if j not in sims), key=lambda j: (-cands[j][3], j))
            pick = order[:embed_units]
            if pick:
                texts = [plain(passages[cands[j][0]]["text"][cands[j][1]:cands[j][2]]) for j in pick]
                vecs = _embed_units(embedder, texts)
                for j, v in zip(pick, vecs @ q):
                    sims[j] = float(v)
    floor = min(sims.values()) if sims else 0.0  # a unit not embedded ranks as the least similar one

    def score(j):
        return cands[j][3] + sims.get(j, floor)
    best = max(range(len(cands)), key=lambda j: (score(j), -j))
    i, s, e, _ = cands[best]
    per_passage[i] = (s, e)
    # each of the top passages shows its own best unit by the same score (the others: by shared terms)
    for pi in range(min(top, len(passages))):
        js = [j for j in range(len(cands)) if cands[j][0] == pi]
        if js and pi != i:
            b = max(js, key=lambda j: (score(j), -j))
            per_passage[pi] = (cands[b][1], cands[b][2])
    return Choice(i, s, e, score(best), sims.get(best), per_passage)


# -- evidence for abstention -------------------------------------------------------------------------------
FEATURES = ("dense_top1", "dense_margin", "coverage_top", "coverage_any", "oov", "agree", "overlap10", "sentence_sim")
# Not a feature: the number of query terms. In the calibration data an ALQAC question and its masked twin
# have the same terms, so the count only told ALQAC's long questions from the shorter written ones, and
# it made every short keyword query ("dan van kheo") look unanswerable.
# Nor the top BM25 score over its maximum for the query (until issue 11): retrieval now gives each unit its
# BM25 as a share of the best unit's, so that ratio only measured the question's length (bench/README.md).


def _syllables(term: str) -> list[str]:
    """The folded syllable terms of a word term ("dân_vận" -> ["~dan", "~van"]); a syllable term is its own."""
    if term.startswith("~"):
        return [term]
    return ["~" + fold(x) for x in term.split("_") if x]


def lookup_terms(terms: list[str]) -> list[str]:
    """What to ask ``term_df`` about for ``evidence``: the query terms and their folded syllables."""
    return list(dict.fromkeys(t for w in terms for t in [w, *_syllables(w)]))


def term_idf(n: int, df: dict[str, int]) -> tuple[dict[str, float], set[str]]:
    """IDF of each term (Lucene form, as bm25s) from ``PassageEngine.term_df``'s counts over ``n``
    passages, and the terms no passage holds."""
    n = n or 1
    out, missing = {}, set()
    for t, d in df.items():
        d = int(d)
        if d == 0:
            missing.add(t)
        out[t] = math.log(1 + (n - d + 0.5) / (d + 0.5))
    return out, missing


def evidence(terms: list[str], idf: dict[str, float], missing: set[str], dense: list[tuple[int, float]],
             bm25: list[tuple[int, float]], answer_pid: int | None, passage_terms: dict[int, set[str]],
             sentence_sim: float | None) -> dict[str, float]:
    """Abstention features of one question, none of them min-max normalised.

    ``terms``: query_terms(question); ``idf``/``missing``: term_idf() over lookup_terms(terms); ``dense``/
    ``bm25``: the units each method ranks (index.search.Reader.retrieve), as (their best passage's id, raw
    dense cosine / BM25 share), best first; ``answer_pid``: the passage
    the answer comes from; ``passage_terms``: analysis terms of the top passages (answer_pid's among them);
    ``sentence_sim``: cosine of the question with the answering unit.

    A word is matched when a passage holds it or all of its syllables: the segmenter does not always
    cut the same words in a short query and in a passage ("dân_vận khéo" / "dân_vận_khéo"). A word no
    passage holds weighs as its rarest syllable; it is out of vocabulary only when a syllable is too.
    """
    def absent(w):
        return w in missing and any(x in missing for x in _syllables(w))

    weight = {w: idf[w] if w not in missing or absent(w) else max(idf[x] for x in _syllables(w)) for w in terms}

    def coverage(have: set[str]) -> float:
        total = sum(weight.values())
        got = sum(v for w, v in weight.items() if w in have or all(x in have for x in _syllables(w)))
        return got / total if total else 0.0

    d = [s for _, s in dense]
    top1 = d[0] if d else 0.0
    rest = d[1:20]
    margin = top1 - float(np.mean(rest)) if rest else 0.0
    have_top = passage_terms.get(answer_pid, set()) if answer_pid is not None else set()
    have_any = set().union(*passage_terms.values()) if passage_terms else set()
    dl, bl = [p for p, _ in dense[:10]], [p for p, _ in bm25[:10]]
    agree = 0.0
    if dl and bl:
        rd = bl.index(dl[0]) + 1 if dl[0] in bl else None
        rb = dl.index(bl[0]) + 1 if bl[0] in dl else None
        agree = max(1.0 / rd if rd else 0.0, 1.0 / rb if rb else 0.0)
    return {
        "dense_top1": float(top1),
        "dense_margin": float(margin),
        "coverage_top": coverage(have_top),
        "coverage_any": coverage(have_any),
        "oov": sum(absent(w) for w in terms) / len(terms) if terms else 1.0,
        "agree": agree,
        "overlap10": len(set(dl) & set(bl)) / 10.0,
        "sentence_sim": float(sentence_sim if sentence_sim is not None else top1),
    }


@lru_cache(maxsize=2048)
def passage_term_set(tokens: str) -> frozenset[str]:
    """Analysis terms of a passage from its stored segmented tokens (cached: top passages recur)."""
    from .lexical import analyze
    return frozenset(analyze(tokens))


# -- the abstention model ------------------------------------------------------------------------------------
@dataclass
class Abstention:
    """Logistic regression over standardised features: p(answerable) = sigmoid(b + w · (x - mean) / std)."""
    features: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float = 0.5
    info: dict = field(default_factory=dict)

    def probability(self, ev: dict[str, float]) -> float:
        x = (np.array([ev[f] for f in self.features], dtype=np.float64) - self.mean) / self.std
        z = float(self.bias + self.weights @ x)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def answered(self, ev: dict[str, float]) -> bool:
        return self.probability(ev) >= self.threshold

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.tolist(), "std": self.std.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias, "threshold": self.threshold, **self.info}

    @classmethod
    def from_json(cls, data: dict) -> "Abstention":
        known = {"features", "mean", "std", "weights", "bias", "threshold"}
        return cls(tuple(data["features"]), np.asarray(data["mean"], float), np.asarray(data["std"], float),
                   np.asarray(data["weights"], float), float(data["bias"]), float(data.get("threshold", 0.5)),
                   {k: v for k, v in data.items() if k not in known})


_MODEL: list = []


def load_abstention(path: Path | None = None) -> Abstention:
    """The calibrated model shipped in index/abstention.json (read once)."""
    if path is not None:
        return Abstention.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    if not _MODEL:
        _MODEL.append(Abstention.from_json(json.loads(MODEL_FILE.read_text(encoding="utf-8"))))
    return _MODEL[0]


# -- filters said aloud ------------------------------------------------------------------------------------
_TYPE_ASKED = r"(?:cac|nhung|moi|tat ca(?: cac)?|danh sach(?: cac)?|bao nhieu|ban hanh|loai)\s+"


def type_named(question: str, doc_type: str) -> bool:
    """The question asks for documents of that type ("các kế hoạch", "kế hoạch nào", "ban hành Nghị định"),
    rather than using the word ("thời hạn báo cáo": to report; "Quy chế công tác dân vận": a topic)."""
    t, f = re.escape(fold(doc_type)), fold(question)
    return bool(re.search(rf"\b{_TYPE_ASKED}{t}\b", f))


def filter_message(province: str | None, year_from: int | None, year_to: int | None, doc_type: str | None) -> str:
    """"Không có kế hoạch nào của Quảng Trị năm 2020" (what the question asked for, that the index lacks)."""
    what = doc_type.lower() if doc_type else "văn bản"
    parts = [f"Không có {what} nào"]
    if province:
        parts.append(f"của {province}")
    if year_from and year_to and year_from != year_to:
        parts.append(f"từ năm {year_from} đến năm {year_to}")
    elif year_from or year_to:
        parts.append(f"năm {year_from or year_to}")
    return " ".join(parts)

