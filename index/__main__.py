"""python -m index COMMAND --index-dir DIR [--json]

Commands:
  ask "câu hỏi" [--k N]             answer with the documents, passages and answering sentence
  cites "tham chiếu"                every document citing a reference, with the quote as written
  search "truy vấn" [--k N] [--mode hybrid|bm25|dense] [--province P] [--year-from Y] [--year-to Y] [--type T]
  docs                              the documents in the index
  stats                             counts, embedder, index kind, generation
  graph [--format graphml|csv] [--province P] [--year-from Y] [--year-to Y] [--reference R]
                                    reference network: documents and the documents they cite
  compare --province P --province Q [--doc SỐ_HIỆU] [--themes FILE]
                                    central documents cited, timeline and themes side by side
  tasks [--format csv|ics] [--province P] [--agency A] [--deadline-from D] [--deadline-to D]
                                    assignments and deadlines, with the source passage
  similar "số hiệu" [--k N]         the most similar documents of other provinces
"""
from __future__ import annotations

import argparse
import json
import sys

from ingest.pipeline import default_index_dir


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", default=str(default_index_dir()), help="thư mục chỉ mục (mặc định .index)")
    common.add_argument("--json", action="store_true", help="in kết quả dạng JSON")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--province", help="lọc theo tỉnh/thành (có hoặc không dấu)")
    filters.add_argument("--year-from", type=int, help="từ năm")
    filters.add_argument("--year-to", type=int, help="đến năm")
    filters.add_argument("--type", dest="doc_type", help="loại văn bản, ví dụ 'Công văn'")
    filters.add_argument("--issuer", help="cơ quan ban hành")

    p = argparse.ArgumentParser(prog="python -m index", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("ask", parents=[common, filters], help="hỏi và nhận câu trả lời có trích dẫn")
    a.add_argument("question")
    a.add_argument("--k", type=int, default=5)
    c = sub.add_parser("cites", parents=[common, filters], help="văn bản nào trích dẫn một văn bản")
    c.add_argument("reference")
    s = sub.add_parser("search", parents=[common, filters], help="tìm đoạn văn bản")
    s.add_argument("query")
    s.add_argument("--k", type=int, default=10)
    s.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    sub.add_parser("docs", parents=[common], help="danh sách văn bản")
    sub.add_parser("stats", parents=[common], help="thống kê chỉ mục")
    g = sub.add_parser("graph", parents=[common], help="mạng trích dẫn giữa các văn bản")
    g.add_argument("--format", choices=["graphml", "csv"], help="in bản xuất GraphML hoặc CSV (các cạnh)")
    g.add_argument("--province", help="tỉnh/thành của văn bản trích dẫn")
    g.add_argument("--year-from", type=int, help="từ năm")
    g.add_argument("--year-to", type=int, help="đến năm")
    g.add_argument("--reference", help="chỉ giữ trích dẫn tới văn bản này, ví dụ '114-KL/TW'")
    cp = sub.add_parser("compare", parents=[common], help="so sánh các tỉnh hoặc văn bản")
    cp.add_argument("--province", action="append", default=[], help="tỉnh/thành (lặp lại để thêm cột)")
    cp.add_argument("--doc", action="append", default=[], help="số hiệu văn bản (lặp lại để thêm cột)")
    cp.add_argument("--themes", help="tệp chủ đề JSON (mặc định index/themes.json)")
    t = sub.add_parser("tasks", parents=[common], help="nhiệm vụ được giao và thời hạn")
    t.add_argument("--format", choices=["csv", "ics"], help="in bản xuất CSV hoặc iCalendar (các hạn)")
    t.add_argument("--province", help="lọc theo tỉnh/thành")
    t.add_argument("--agency", help="lọc theo cơ quan được giao (có hoặc không dấu)")
    t.add_argument("--deadline-from", help="hạn từ ngày (YYYY-MM-DD)")
    t.add_argument("--deadline-to", help="hạn đến ngày (YYYY-MM-DD)")
    sm = sub.add_parser("similar", parents=[common], help="văn bản tương tự ở tỉnh khác")
    sm.add_argument("number", help="số hiệu văn bản, ví dụ '5500/UBND-KGVX'")
    sm.add_argument("--k", type=int, default=5)
    return p


def _doc_by_number(s, number: str) -> dict:
    found = s.store.documents_by_number(number)
    if not found:
        raise SystemExit(f"không có văn bản số “{number}” trong chỉ mục")
    if len(found) > 1:
        raise SystemExit(f"số “{number}” khớp {len(found)} văn bản: "
                         + "; ".join(f"{d['number']} ({d['province'] or d['path']})" for d in found))
    return found[0]


def _research(s, args) -> dict:
    from . import research as R
    try:
        if args.command == "graph":
            g = R.reference_graph(s, province=args.province, year_from=args.year_from, year_to=args.year_to,
                                  reference=args.reference)
            r = R.graph_json(g)
            if args.format:
                r["export"] = R.graph_graphml(g) if args.format == "graphml" else R.graph_csv(g)
            return r
        if args.command == "compare":
            themes = R.load_themes(args.themes) if args.themes else None
            doc_ids = [_doc_by_number(s, n)["id"] for n in args.doc]
            return R.compare(s, provinces=args.province or None, doc_ids=doc_ids or None, themes=themes)
        if args.command == "tasks":
            items = R.tasks(s, province=args.province, agency=args.agency, deadline_from=args.deadline_from,
                            deadline_to=args.deadline_to)
            r = {"tasks": items}
            if args.format:
                r["export"] = R.tasks_csv(items) if args.format == "csv" else R.tasks_ics(items)
            return r
        return R.similar_documents(s, _doc_by_number(s, args.number)["id"], k=args.k)
    except ValueError as e:
        raise SystemExit(str(e)) from e


def _filters(args):
    from ingest.metadata import find_province
    from .search import Filters
    province = getattr(args, "province", None)
    if province:
        resolved = find_province(province)
        if resolved is None:
            raise SystemExit(f"không nhận ra tỉnh/thành “{province}”")
        province = resolved
    return Filters(province=province, year_from=getattr(args, "year_from", None),
                   year_to=getattr(args, "year_to", None), doc_type=getattr(args, "doc_type", None),
                   issuer=getattr(args, "issuer", None))


def run(args) -> dict:
    """The command's result as a dict (the same dict --json prints)."""
    from .qa import ask, cites
    from .search import open_searcher
    s = open_searcher(args.index_dir)
    if args.command == "ask":
        return ask(s, args.question, k=args.k, filters=_filters(args))
    if args.command == "cites":
        return cites(s, args.reference, filters=_filters(args))
    if args.command == "search":
        return s.search(args.query, k=args.k, mode=args.mode, filters=_filters(args))
    if args.command == "docs":
        return s.docs()
    if args.command in ("graph", "compare", "tasks", "similar"):
        return _research(s, args)
    return s.stats()


def _doc_line(d: dict) -> str:
    from .qa import format_citation
    return f"{format_citation(d)}" + (f" — {d['title']}" if d.get("title") else "")


def render(command: str, r: dict) -> str:
    """Readable Vietnamese text for a command's result."""
    lines: list[str] = []
    if command in ("ask", "cites"):
        lines.append(r["answer"])
        for c in r.get("candidates", []) if not r.get("documents") else []:
            lines.append(f"  • {c['canonical']}: {c['n_documents']} văn bản")
        if command == "cites":
            for d in r["documents"]:
                lines.append(f"\n■ {_doc_line(d)}")
                for p in d["passages"]:
                    lines.append(f"  “{p['quote']}” — {p['text']}")
        else:
            for i, p in enumerate(r["passages"], 1):
                where = ", ".join(x for x in [p.get("label") or "", f"trang {p['page']}" if p.get("page") else ""] if x)
                lines.append(f"\n[{i}] {_doc_line(p['document'])}" + (f" ({where})" if where else ""))
                lines.append(f"    {p['text']}")
                if p.get("sentence"):
                    lines.append(f"    → {p['sentence'].strip()}")
            if r.get("related"):
                lines.append("\nCó thể liên quan:")
            for i, p in enumerate(r.get("related") or [], 1):
                lines.append(f"\n[{i}] {_doc_line(p['document'])}")
                lines.append(f"    {p['text']}")
    elif command == "search":
        if not r["results"]:
            lines.append("Không tìm thấy kết quả.")
        for h in r["results"]:
            lines.append(f"{h['rank']:>2}. [{h['score']:.3f}] {h['number'] or h['document']['path']}"
                         + (f" (trang {h['page']})" if h["page"] else ""))
            lines.append(f"    {h['text'][:300]}")
    elif command == "docs":
        for d in r["documents"]:
            lines.append(_doc_line(d))
    elif "export" in r:
        return r["export"].rstrip("\r\n")
    elif command == "graph":
        lines += _render_graph(r)
    elif command == "compare":
        lines += _render_compare(r)
    elif command == "tasks":
        lines += _render_tasks(r)
    elif command == "similar":
        lines += _render_similar(r)
    else:
        labels = {"documents": "Văn bản", "passages": "Đoạn", "references": "Trích dẫn", "files": "Tệp",
                  "failed": "Tệp lỗi", "embedder": "Bộ nhúng", "dimension": "Số chiều",
                  "index_kind": "Loại chỉ mục", "generation": "Thế hệ", "built_at": "Dựng lúc",
                  "index_dir": "Thư mục"}
        lines += [f"{labels.get(k, k)}: {v}" for k, v in r.items()]
    return "\n".join(lines)


def _render_graph(r: dict) -> list[str]:
    docs = [n for n in r["nodes"] if n["kind"] == "indexed"]
    lines = [f"{len(r['nodes'])} nút ({len(docs)} văn bản trong chỉ mục), {len(r['edges'])} quan hệ trích dẫn."]
    cited = [n for n in r["nodes"] if n["cited_by"]]
    if cited:
        lines.append("\nĐược trích dẫn nhiều nhất:")
    for n in cited:
        by = [e["source_label"] for e in r["edges"] if e["target"] == n["id"]]
        lines.append(f"  {n['label']} ({n.get('level') or 'không rõ cấp'}): {n['cited_by']} văn bản — {'; '.join(by)}")
    return lines


def _render_compare(r: dict) -> list[str]:
    cols = [c["id"] for c in r["columns"]]
    lines = ["Cột: " + "; ".join(f"{c['label']} ({len(c['doc_ids'])} văn bản)" for c in r["columns"])]
    lines.append("\nVăn bản trung ương được trích dẫn:")
    if not r["central_matrix"]:
        lines.append("  (không có)")
    for row in r["central_matrix"]:
        lines.append(f"■ {row['canonical']}")
        for c in cols:
            cell = row["cells"].get(c)
            if cell:
                lines.append(f"  {c}: " + "; ".join(f"{x['number']} “{x['quote']}”" for x in cell))
            else:
                lines.append(f"  {c}: —")
    lines.append("\nDòng thời gian:")
    for t in r["timeline"]:
        lines.append(f"  {t['date'] or 'không rõ ngày'}  [{t['column']}] {t['number'] or ''} {t['title'] or ''}".rstrip())
    lines.append("\nChủ đề (số đoạn):")
    for row in r["theme_matrix"]:
        lines.append(f"  {row['theme']}: " + "; ".join(f"{c} {row['cells'][c]['count']}" for c in cols))
    return lines


def _render_tasks(r: dict) -> list[str]:
    if not r["tasks"]:
        return ["Không tìm thấy nhiệm vụ nào."]
    lines = []
    for t in r["tasks"]:
        when = t["deadline"] and "hạn " + "/".join(reversed(t["deadline"].split("-"))) or t["deadline_text"] or "không ghi hạn"
        lines.append(f"■ {t['agency'] or 'không rõ cơ quan'} — {when}")
        lines.append(f"  {t['task']}")
        lines.append(f"  ({t['citation']}" + (f", {t['label']}" if t.get("label") else "") + ")")
    return lines


def _render_similar(r: dict) -> list[str]:
    lines = [f"Văn bản tương tự {_doc_line(r['document'])} ở tỉnh khác:"]
    if not r["results"]:
        lines.append("  (không có)")
    for i, x in enumerate(r["results"], 1):
        lines.append(f"\n{i}. [{x['score']:.3f}] {_doc_line(x['document'])}")
        for p in x["pairs"]:
            lines.append(f"   {p['similarity']:.3f}  “{p['text'][:160]}”")
            lines.append(f"          ↔ “{p['other_text'][:160]}”")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .answer import QuestionError
    from .embed import EmbedderError
    from .store import StoreError
    try:
        result = run(args)
    except QuestionError as e:
        print(f"Lỗi: {e}", file=sys.stderr)
        return 2
    except (StoreError, EmbedderError) as e:
        print(f"Lỗi: {e}", file=sys.stderr)
        return 1
    except SystemExit as e:
        print(f"Lỗi: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(render(args.command, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
