"""Extractive, cited answers: the documents, the passages, and the sentence that answers.

No language model: "who cites X" and "who signed X" are answered from the store; free
questions from hybrid retrieval, with the best-matching sentence of each passage marked.
"""
from __future__ import annotations

import re

from vn.cite import format_citation
from vn.stopwords import QUERY_WORDS_FOLDED as _STOP
from vn.text import fold
from vn.words import split_sentences

from . import answer as A
from .query import Query, parse_query
from .documents import citing_passage
from .search import CANDIDATES, Filters, Reader, document_json

__all__ = ["ask", "cites", "find_references", "best_sentence", "format_citation", "AnswerSentence",
           "method_scores"]

_SYLL = re.compile(r"\w+")


def _terms(text: str) -> set[str]:
    return {w for w in _SYLL.findall(fold(text)) if w not in _STOP}


def best_sentence(passage_text: str, question: str) -> tuple[int, int]:
    """Span (in the passage) of the sentence sharing the most query terms (ties: the earliest)."""
    q = _terms(question)
    spans = split_sentences(passage_text) or [(0, len(passage_text))]
    best, best_score = spans[0], -1.0
    for s, e in spans:
        t = _terms(passage_text[s:e])
        score = len(q & t) / (1 + 0.01 * len(t))
        if score > best_score:
            best, best_score = (s, e), score
    return best


def find_references(r: Reader, reference: str) -> list[dict]:
    """Canonical references in the store that a (possibly short) reference query matches."""
    from vn.numbers import key_matches, parse_reference_query
    partials = parse_reference_query(reference)
    if not partials:
        return []
    return [k for k in r.catalog.reference_keys() if any(key_matches(p, k["key"]) for p in partials)]


def cites(r: Reader, reference: str, filters: Filters | None = None) -> dict:
    """Every document citing ``reference``, with the citing passage and the quote as written."""
    r.engine.refresh()
    candidates = find_references(r, reference)
    allowed_docs = None
    if filters is not None and not filters.empty():
        allowed_docs = r.catalog.doc_ids(r.passage_filter(filters))
    out_candidates = []
    for c in candidates:
        docs: dict[int, dict] = {}
        for ref in r.catalog.references(key=c["key"]):
            if allowed_docs is not None and ref["doc_id"] not in allowed_docs:
                continue
            d = docs.get(ref["doc_id"])
            if d is None:
                d = docs[ref["doc_id"]] = {**document_json(r.catalog.document(ref["doc_id"])), "passages": []}
            d["passages"].append(citing_passage(r, ref))
        out_candidates.append({"key": c["key"], "canonical": c["canonical"], "n_documents": len(docs),
                               "documents": sorted(docs.values(), key=lambda d: (d["date"] or "9999", d["number"] or ""))})
    documents = out_candidates[0]["documents"] if len(out_candidates) == 1 else []
    if not candidates:
        answer = f"Không có văn bản nào trong chỉ mục trích dẫn {_describe(reference)}."
    elif len(out_candidates) == 1:
        c = out_candidates[0]
        if documents:
            answer = (f"{len(documents)} văn bản trích dẫn {c['canonical']}: "
                      + "; ".join(d["number"] or d["path"] for d in documents) + ".")
        else:
            answer = f"Không có văn bản nào khớp bộ lọc trích dẫn {c['canonical']}."
    else:
        answer = (f"“{reference}” khớp với {len(out_candidates)} văn bản khác nhau; hãy chọn một: "
                  + "; ".join(f"{c['canonical']} ({c['n_documents']} văn bản trích dẫn)" for c in out_candidates) + ".")
    return {"reference": reference, "candidates": out_candidates, "documents": documents, "answer": answer}


def _describe(reference: str) -> str:
    """"Văn bản nào trích dẫn Chỉ thị 99?" -> "Chỉ thị 99" (the reference the query names)."""
    from vn.numbers import TYPE_WORDS, parse_reference_query
    parts = []
    for p in parse_reference_query(reference):
        if "kind" in p:
            parts.append(f"“{p['name']}”")
            continue
        word = TYPE_WORDS.get(p.get("type_code") or "", "văn bản")
        num = p.get("number") or ""
        parts.append(f"{word} {num}" + (f"/{p['type_code']}-{p['issuer_code']}" if p.get("issuer_code") else ""))
    return ", ".join(parts) or f"“{reference}”"


def _passages_answer(r: Reader, question: str, hits: list[dict], choice: A.Choice | None = None) -> list[dict]:
    """Each passage with its answering sentence: ``choice``'s span where given, else the term match."""
    out = []
    for i, h in enumerate(hits):
        if choice is None:
            ss, se = best_sentence(h["text"], question)
        else:  # a passage of nothing but boilerplate has no answering sentence
            ss, se = choice.per_passage[i] or (None, None)
        out.append({**h, "sentence": h["text"][ss:se] if ss is not None else "", "sentence_start": ss,
                    "sentence_end": se})
    return out


def _related(passages: list[dict]) -> list[dict]:
    """Closest passages offered when there is no answer: no sentence is marked as answering."""
    return [{**p, "sentence": "", "sentence_start": None, "sentence_end": None} for p in passages]


def _unique_docs(passages: list[dict]) -> list[dict]:
    seen: dict[int, dict] = {}
    for p in passages:
        seen.setdefault(p["doc_id"], p["document"])
    return list(seen.values())


def ask(r: Reader, question: str, k: int = 5, filters: Filters | None = None) -> dict:
    """{question, intent, answer, answered, documents, passages, related}

    ``answered`` is False when the index holds no answer: then ``passages`` and ``documents`` are
    empty and ``related`` holds the closest passages ("có thể liên quan"). An empty or blank question
    raises answer.QuestionError (InvalidInput: a usage error).
    """
    question = A.check_question(question)
    q: Query = parse_query(question)
    filters = filters or Filters()
    # the question's own province / years / type narrow the search unless the caller set filters
    parsed = filters.empty()
    if parsed:  # a type word filters only when the question asks for that type ("các kế hoạch", not "báo cáo")
        doc_type = q.doc_type if q.doc_type and A.type_named(question, q.doc_type) else None
        filters = Filters(province=q.province, year_from=q.year_from, year_to=q.year_to, doc_type=doc_type)
    base = {"question": question, "intent": q.intent, "query": q.as_dict()}
    out = _ask(r, q, base, question, k, filters, parsed)
    out.setdefault("answered", bool(out["documents"]))
    out.setdefault("related", [])
    return out


def _ask(r: Reader, q: Query, base: dict, question: str, k: int, filters: Filters, parsed: bool) -> dict:
    if q.intent == "cites":
        ref = (q.numbers[0] if q.numbers and not q.references else _reference_text(q))
        return _cites_answer(base, cites(r, ref, filters if not filters.empty() else None))

    targets = _target_documents(r, q)
    if q.intent in ("signer", "lookup", "content") and targets:
        if q.intent == "signer":
            answer = "; ".join(f"{format_citation(d)} do {d['signer'] or 'không rõ người ký'}"
                               + (f" ({d['signer_title']})" if d["signer_title"] else "") + " ký." for d in targets)
            hits = []
            for d in targets:
                ps = r.catalog.document_passages(d["id"])
                sig = [p for p in ps if d["signer"] and d["signer"] in p["text"]] or ps[-1:]
                hits += [_passage_hit(p, d) for p in sig]
            return {**base, "answer": answer, "documents": targets, "passages": _passages_answer(r, question, hits)}
        rest = _strip_reference_words(q)
        if q.intent == "lookup" or not rest:
            hits = [_passage_hit(p, d) for d in targets for p in r.catalog.document_passages(d["id"])[:k]]
            answer = "; ".join(f"{format_citation(d)}: {d['title'] or ''}".rstrip(": ") for d in targets)
            return {**base, "answer": answer, "documents": targets, "passages": _passages_answer(r, question, hits)}
        return _free_answer(r, question, k, Filters(doc_ids=[d["id"] for d in targets]), base, named=True)
    elif q.intent in ("signer", "lookup", "content") and (q.numbers or q.references):
        # not in the index itself: the documents citing it are the next best answer
        res = cites(r, question, filters if not filters.empty() else None)
        if res["documents"] or len(res["candidates"]) > 1:
            return _cites_answer(base, res, f"{_describe(question)} không có trong chỉ mục. ")
        return {**base, "answer": f"Không tìm thấy văn bản “{(q.numbers or [_reference_text(q)])[0]}” trong chỉ mục.",
                "documents": [], "passages": []}

    if parsed and not filters.empty() and not r.catalog.doc_ids(r.passage_filter(filters)):
        # the question names a province / year / type that no document has: say so, show the nearest
        note = A.filter_message(filters.province, filters.year_from, filters.year_to, filters.doc_type)
        near = _related(r.hydrate(r.retrieve(question, k, "hybrid", None)))
        docs = _unique_docs(near)[:3]
        answer = note + "; các văn bản gần nhất: " + ("; ".join(format_citation(d) for d in docs) or "không có") + "."
        return {**base, "answer": answer, "answered": False, "documents": [], "passages": [], "related": near,
                "filter_note": note}
    return _free_answer(r, question, k, filters, base)


def _free_answer(r: Reader, question: str, k: int, filters: Filters | None, base: dict, named: bool = False) -> dict:
    """Hybrid retrieval, the answering sentence by meaning, and the abstention decision.

    ``named``: the question names its document (retrieval restricted to it): answered without the model.
    """
    ranked = r.retrieve(question, CANDIDATES, "hybrid", filters)
    hits = r.hydrate(ranked[:k])
    if not hits:
        return {**base, "answer": "Không tìm thấy đoạn văn bản nào phù hợp với câu hỏi.", "answered": False,
                "documents": [], "passages": [], "related": []}
    sentence = AnswerSentence(r, question, ranked, hits)
    choice = sentence.choice
    passages = _passages_answer(r, question, hits, choice)
    if choice is None:  # nothing but boilerplate in the passages found
        return {**base, "answer": A.NOT_FOUND, "answered": False, "documents": [], "passages": [],
                "related": _related(passages)}
    top = passages[choice.passage]
    answered, confidence, ev = True, None, None
    if not named:
        rows = r.catalog.passages([h["passage_id"] for h in hits])
        ev = sentence.evidence({pid: p["tokens"] for pid, p in rows.items()})
        model = A.load_abstention()
        p = model.probability(ev)
        answered = p >= model.threshold
        confidence, ev = round(p, 4), {f: round(v, 4) for f, v in ev.items()}  # as shown: scores are rounded too
    if not answered:
        return {**base, "answer": A.NOT_FOUND, "answered": False, "confidence": confidence, "evidence": ev,
                "documents": [], "passages": [], "related": _related(passages)}
    passages = [top] + [p for i, p in enumerate(passages) if i != choice.passage]  # the proof first
    answer = f"{A.plain(top['sentence'])} ({format_citation(top['document'])})"
    return {**base, "answer": answer, "answered": True, "confidence": confidence, "evidence": ev,
            "documents": _unique_docs(passages), "passages": passages, "related": []}


def method_scores(ranked: list) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """The units of a hybrid ranking as each method scored them: (their best passage's id, raw dense
    cosine / BM25 share), best first, for the dense and the BM25 side."""
    def side(attr):
        return sorted(((h.passage_id, getattr(h, attr)) for h in ranked if getattr(h, attr) is not None),
                      key=lambda x: (-x[1], x[0]))
    return side("dense"), side("bm25")


class AnswerSentence:
    """The answering sentence among the first ``hits`` of a hybrid ranking (``ranked``, Reader.retrieve),
    and the evidence the abstention model reads about it. ``hits``: dicts with "passage_id" and "text"."""

    def __init__(self, r: Reader, question: str, ranked: list, hits: list[dict]):
        self.question, self.hits = question, hits
        self.dense, self.bm25 = method_scores(ranked)
        self.idf = _TermIdf(r.engine, r.passage_filter(None))
        self.weights = A.question_weights(question, lambda terms: self.idf(terms)[0])
        raw = dict(self.dense)
        self.choice = A.choose_sentence(
            question, hits, r.embedder.embed_query(question), r.embedder,  # the query vector: cached by retrieve
            {i: raw[h["passage_id"]] for i, h in enumerate(hits) if h["passage_id"] in raw}, weights=self.weights)

    def evidence(self, tokens: dict[int, str]) -> dict[str, float]:
        """index.answer.evidence for the chosen sentence; ``tokens``: passage id -> segmented text of the hits."""
        terms = A.query_terms(self.question)
        term_idf, missing = self.idf(A.lookup_terms(terms))
        c = self.choice
        return A.evidence(terms, term_idf, missing, self.dense, self.bm25, self.hits[c.passage]["passage_id"] if c else None,
                          {pid: A.passage_term_set(t) for pid, t in tokens.items()}, c.similarity if c else None)


class _TermIdf:
    """IDF of lexical terms among the passages the caller may see (through the passage-search seam: the
    evidence shown never reveals words of documents outside the caller's groups), each term asked once."""

    def __init__(self, engine, flt):
        self.engine, self.flt, self.n, self.df = engine, flt, 0, {}

    def __call__(self, terms: list[str]) -> tuple[dict[str, float], set[str]]:
        need = [t for t in dict.fromkeys(terms) if t not in self.df]
        if need:
            self.n, got = self.engine.term_df(need, self.flt)
            self.df.update(got)
        return A.term_idf(self.n, {t: self.df[t] for t in terms})


def _cites_answer(base: dict, res: dict, prefix: str = "") -> dict:
    """An ask() result from a cites() result: one passage entry per citing passage."""
    strip = lambda d: {k: v for k, v in d.items() if k != "passages"}  # noqa: E731
    passages = [{**p, "number": d["number"], "doc_id": d["id"], "document": strip(d)}
                for d in res["documents"] for p in d["passages"]]
    return {**base, "intent": "cites" if prefix else base["intent"], "answer": prefix + res["answer"],
            "candidates": res["candidates"], "documents": [strip(d) for d in res["documents"]], "passages": passages}


def _passage_hit(p: dict, d: dict) -> dict:
    return {"rank": 0, "score": 1.0, "passage_id": p["id"], "doc_id": d["id"], "number": d["number"],
            "text": p["text"], "page": p["page"], "label": p["label"], "start": p["start"], "end": p["end"],
            "document": d}


def _reference_text(q: Query) -> str:
    r = q.references[0]
    return r.get("text") or q.text


def _target_documents(r: Reader, q: Query) -> list[dict]:
    """Documents of the index that the query names by number (or by a reference to them)."""
    found = []
    for n in q.numbers:
        found += r.catalog.documents_by_number(n)
    if not found and q.references:
        from vn.numbers import key_matches
        ids = {i for key, doc_ids in r.document_keys().items()
               if any(key_matches(p, key) for p in q.references) for i in doc_ids}
        found = [r.catalog.document(i) for i in sorted(ids)]
    return [document_json(d) for d in {d["id"]: d for d in found}.values()]


def _strip_reference_words(q: Query) -> str:
    text = q.text
    for n in q.numbers:
        text = text.replace(n, " ")
    words = [w for w in _terms(text) if not w.isdigit()]
    drop = {"cong", "chi", "thi", "nghi", "quyet", "dinh", "ke", "hoach", "so", "noi", "dung", "gi", "yeu", "cau"}
    return " ".join(w for w in words if w not in drop)
