"""One document as a reader sees it: its text and passages, the documents it cites, those citing it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from vn.cite import format_citation
from vn.numbers import document_key

from .search import document_json

if TYPE_CHECKING:
    from .search import Reader

__all__ = ["document_view", "own_key", "citing_passage"]


def own_key(doc: dict) -> str | None:
    """The key other documents cite this one by ("CV|5500|UBND|Đắk Lắk"); None without a number."""
    return document_key(doc.get("number"), doc.get("province"))


def citing_passage(r: "Reader", ref: dict) -> dict:
    """The passage holding a reference, with the quote's offsets in it (the sentence when the passage is gone)."""
    p = r.catalog.passages([ref["passage_id"]]).get(ref["passage_id"]) if ref["passage_id"] else None
    text = p["text"] if p else ref["sentence"]
    qs = (ref["start"] - p["start"]) if p else max(text.find(ref["quote"]), 0)
    return {"passage_id": ref["passage_id"], "text": text, "page": p["page"] if p else None,
            "label": p["label"] if p else None, "quote": ref["quote"], "quote_start": qs,
            "quote_end": qs + len(ref["quote"]), "sentence": ref["sentence"], "notes": ref["notes"]}


def document_view(r: "Reader", doc_id: int) -> dict | None:
    """A document with its full text, passages, the documents it cites and those citing it.

    ``outgoing``: one entry per cited reference (grouped by key), ``target`` the indexed document it
    resolves to (or None when the cited document is not in the index, or not visible to the caller).
    ``incoming``: documents whose references resolve to this one, each with the citing passages and
    the quote's offsets in them. None when the caller may not see the document (or it does not exist).
    """
    d = r.catalog.document(int(doc_id))
    if d is None:
        return None
    doc = document_json(d)
    passages = [{"passage_id": p["id"], "ord": p["ord"], "start": p["start"], "end": p["end"],
                 "page": p["page"], "label": p["label"], "text": p["text"]}
                for p in r.catalog.document_passages(d["id"])]
    keys = r.document_keys()

    outgoing: dict[str, dict] = {}
    for ref in r.catalog.references(doc_id=d["id"]):
        o = outgoing.get(ref["key"])
        if o is None:
            targets = [i for i in keys.get(ref["key"], []) if i != d["id"]]
            target = None
            if targets:
                t = document_json(r.catalog.document(targets[0]))
                target = {"id": t["id"], "citation": format_citation(t), "title": t["title"]}
            o = outgoing[ref["key"]] = {"key": ref["key"], "canonical": ref["canonical"], "quotes": [],
                                        "sentence": ref["sentence"], "notes": [], "passage_ids": [],
                                        "spans": [], "count": 0, "target": target}
        o["count"] += 1
        if ref["quote"] not in o["quotes"]:
            o["quotes"].append(ref["quote"])
        o["notes"] += [n for n in ref["notes"] if n not in o["notes"]]
        if ref["passage_id"] is not None and ref["passage_id"] not in o["passage_ids"]:
            o["passage_ids"].append(ref["passage_id"])
        o["spans"].append((ref["start"], ref["end"]))

    incoming: dict[int, dict] = {}
    key = own_key(doc)
    if key:
        for ref in r.catalog.references(key=key):
            if ref["doc_id"] == d["id"]:
                continue
            entry = incoming.get(ref["doc_id"])
            if entry is None:
                c = document_json(r.catalog.document(ref["doc_id"]))
                entry = incoming[ref["doc_id"]] = {"document": c, "citation": format_citation(c), "passages": []}
            entry["passages"].append({**citing_passage(r, ref), "doc_id": ref["doc_id"]})
    return {"document": doc, "citation": format_citation(doc), "text": d["text"], "passages": passages,
            "outgoing": list(outgoing.values()),
            "incoming": sorted(incoming.values(), key=lambda e: (e["document"]["date"] or "9999",
                                                                 e["document"]["number"] or ""))}
